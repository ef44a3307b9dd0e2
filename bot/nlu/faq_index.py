"""FAQ retrieval for few-shot, bilingual FAQ files (stage B of the NLU).

An FAQ entry has two or three example questions, often in one language only,
and an answer in both languages. :class:`FaqIndex` ranks the entries for a
message from several views of its text, each matched against the entry's
questions *and* its answers (the answers are the language bridge: an English
question meets the English answer of an Indonesian-only entry):

* ``char``    — character n-grams of the normalized text (typos, inflections);
* ``word``    — stems (uni- and bigrams);
* ``concept`` — stems with bilingual vocabulary phrases replaced by shared
  concept tokens (``resources/shop_vocab.txt``), so "warranty" meets "garansi";
* entry level — BM25 of the concept tokens against the whole entry (all its
  questions and answers), and the IDF-weighted share of the message's concept
  tokens that the entry contains ("coverage").

IDF is computed over this shop's FAQ texts, so the words that tell this shop's
entries apart weigh most. The per-entry similarities are combined linearly
into one ranking score; :meth:`FaqIndex.loo_features` produces the same
features for the training questions with each question's own text left out of
the index, which the model uses to learn the decision on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from bot.nlu.sparse import Row, row_times, stack
from bot.nlu.features import Analysis, TextAnalyzer
from bot.shopdata.model import FaqEntry

# Per (message, entry) feature names, in column order.
PAIR_FEATURES = (
    "q_char", "q_word", "q_con",  # best cosine over the entry's questions
    "a_char", "a_word", "a_con",  # best cosine over the entry's answers
    "e_con",  # cosine to the entry's concept centroid
    "bm25",  # BM25 (concept tokens) against the whole entry, scaled to [0, 1]
    "cover",  # IDF-weighted share of the message's concept tokens found in the entry
)
# Default weights of the ranking score (one per PAIR_FEATURES column).
DEFAULT_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.3, 0.6, 0.8, 0.5, 0.5, 0.8])


@dataclass
class FaqIndexConfig:
    char_range: tuple[int, int] = (2, 5)
    word_range: tuple[int, int] = (1, 2)
    bm25_k1: float = 1.2
    bm25_b: float = 0.5
    weights: np.ndarray = field(default_factory=lambda: DEFAULT_WEIGHTS.copy())


class _View:
    """One TF-IDF view with a fast single-document transform."""

    def __init__(self, **kwargs) -> None:
        self.vec = TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **kwargs)
        self._fast = None

    def fit_transform(self, docs: list[str]) -> sp.csr_matrix:
        try:
            X = self.vec.fit_transform(docs)
        except ValueError:  # empty vocabulary
            self.vec.fit(["\u2400"])
            X = self.vec.transform(docs)
        return l2_normalize(X.astype(np.float32)).tocsr()

    def transform(self, docs: list[str]) -> sp.csr_matrix:
        if len(docs) == 1:
            return self.transform_one(docs[0]).tocsr()
        return l2_normalize(self.vec.transform(docs).astype(np.float32)).tocsr()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fast"] = None
        return state

    def transform_one(self, doc: str) -> Row:
        if self._fast is None:
            self._fast = (self.vec.build_analyzer(), self.vec.vocabulary_, self.vec.idf_)
        analyze, vocab, idf = self._fast
        counts: dict[int, int] = {}
        for gram in analyze(doc):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        width = len(vocab)
        if not counts:
            return Row(np.zeros(0, np.int64), np.zeros(0, np.float32), width)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        order = np.argsort(idx)
        idx = idx[order]
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))[order]
        v = (np.log(tf) + 1.0) * idf[idx]
        v /= np.sqrt((v * v).sum())
        return Row(idx, v.astype(np.float32), width)


def _concept_tokens(a: Analysis) -> list[str]:
    return list(a.canonical)


@dataclass
class QueryView:
    """A message analysed for the index (the same analysis serves all views)."""

    analysis: Analysis
    char: Row
    word: Row
    con: Row
    counts: np.ndarray  # concept-token counts over the index's token vocabulary
    unknown: int  # concept tokens the index has never seen


class FaqIndex:
    """Ranks FAQ entries for a message; see the module docstring."""

    def __init__(self, config: FaqIndexConfig | None = None) -> None:
        self.config = config or FaqIndexConfig()
        self.ids: list[str] = []

    # -- building ---------------------------------------------------------
    def fit(
        self,
        entries: Sequence[FaqEntry],
        analyzer: TextAnalyzer,
        extra_questions: dict[str, list[str]] | None = None,
    ) -> "FaqIndex":
        cfg = self.config
        self.analyzer = analyzer
        self.ids = [e.id for e in entries]
        texts: list[str] = []
        unit_entry: list[int] = []
        unit_is_q: list[bool] = []
        for i, e in enumerate(entries):
            qs = list(e.all_questions()) + list((extra_questions or {}).get(e.id, ()))
            for q in qs:
                if q.strip():
                    texts.append(q)
                    unit_entry.append(i)
                    unit_is_q.append(True)
            for a in e.answer.values():
                if a.strip():
                    texts.append(a)
                    unit_entry.append(i)
                    unit_is_q.append(False)
        self.unit_texts = texts
        self.unit_entry = np.array(unit_entry, dtype=np.int64)
        self.unit_is_q = np.array(unit_is_q, dtype=bool)
        analyses = [analyzer.analyze(t) for t in texts]
        self.unit_analyses = analyses
        self.char = _View(analyzer="char_wb", ngram_range=cfg.char_range)
        self.word = _View(analyzer="word", ngram_range=cfg.word_range, token_pattern=r"\S+", lowercase=False)
        self.con = _View(analyzer="word", ngram_range=(1, 1), token_pattern=r"\S+", lowercase=False)
        self.U_char = self.char.fit_transform([a.normalized for a in analyses])
        self.U_word = self.word.fit_transform([a.word_doc for a in analyses])
        self.U_con = self.con.fit_transform([" ".join(a.canonical) for a in analyses])
        n_e = len(entries)
        # entry centroids in the concept view (questions and answers alike)
        M = sp.csr_matrix(
            (np.ones(len(texts), np.float32), (self.unit_entry, np.arange(len(texts)))), shape=(n_e, len(texts))
        )
        E_sum = (M @ self.U_con).astype(np.float32).tocsr()
        self.E_norm = np.sqrt(np.asarray(E_sum.multiply(E_sum).sum(axis=1)).ravel()) + 1e-9
        self.E_con = sp.csr_matrix(sp.diags(1.0 / self.E_norm) @ E_sum, dtype=np.float32)
        # for leave-one-out: each unit's dot product with its own entry's sum
        self.unit_self_dot = np.asarray(
            self.U_con.multiply(E_sum[self.unit_entry]).sum(axis=1)
        ).ravel()
        # concept-token counts per unit and per entry, for BM25 and coverage
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for u, a in enumerate(analyses):
            for t in _concept_tokens(a):
                rows.append(u)
                cols.append(vocab.setdefault(t, len(vocab)))
        self.tok_vocab = vocab
        UC = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(texts), max(len(vocab), 1)))
        UC.sum_duplicates()
        self.UC = UC
        self.EC = np.asarray((M @ UC).todense(), dtype=np.float32)  # entries x tokens
        df = (self.EC > 0).sum(axis=0)
        self.idf = np.log(1.0 + (n_e - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.max_idf = float(np.log(1.0 + (n_e + 0.5) / 0.5))
        self.entry_len = self.EC.sum(axis=1)
        self.avg_len = float(self.entry_len.mean()) if n_e else 1.0
        # unit -> entry grouping for the grouped maxima
        self.q_units = np.flatnonzero(self.unit_is_q)
        self.a_units = np.flatnonzero(~self.unit_is_q)
        return self

    def __len__(self) -> int:
        return len(self.ids)

    # -- queries ----------------------------------------------------------
    def query_views(self, texts: Sequence[str], analyses: Sequence[Analysis] | None = None) -> list[QueryView]:
        if analyses is None:
            analyses = [self.analyzer.analyze(t) for t in texts]
        out = []
        for a in analyses:
            counts = np.zeros(self.EC.shape[1], np.float32)
            unknown = 0
            for t in _concept_tokens(a):
                j = self.tok_vocab.get(t)
                if j is None:
                    unknown += 1
                else:
                    counts[j] += 1
            out.append(
                QueryView(
                    a,
                    self.char.transform_one(a.normalized),
                    self.word.transform_one(a.word_doc),
                    self.con.transform_one(" ".join(a.canonical)),
                    counts,
                    unknown,
                )
            )
        return out

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_transposed", None)  # derived; rebuilt on first use
        return state

    def _similarities(self, Q: sp.csr_matrix | Row, name: str) -> np.ndarray:
        """``Q @ M.T`` as a dense array, for the matrix attribute ``name``.

        The transposes are computed once. A single query (every live parse)
        goes through an inverted-index gather in plain numpy: scipy's per-call
        overhead on a one-row product is larger than the product itself.
        """
        cache = self.__dict__.setdefault("_transposed", {})
        MT = cache.get(name)
        if MT is None:
            MT = cache[name] = getattr(self, name).T.tocsr()
        if Q.shape[0] != 1:
            return (Q @ MT).toarray()
        return row_times(Q.indices, Q.data, MT)[None, :]

    def _grouped_max(self, sims: np.ndarray, units: np.ndarray) -> np.ndarray:
        """sims: (n, n_units) → (n, n_entries) max over the given units of each entry."""
        n = sims.shape[0]
        out = np.zeros((n, len(self.ids)), np.float32)
        if len(units) == 0 or n == 0:
            return out
        ent, starts = self._groups(units)
        out[:, ent[starts]] = np.maximum.reduceat(sims[:, units], starts, axis=1)
        return out

    def _groups(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entry of each unit and where each entry's run starts (units are stored
        entry by entry); cached per units array, since every parse asks for the same two."""
        cache = self.__dict__.setdefault("_transposed", {})
        key = ("groups", id(units))
        hit = cache.get(key)
        if hit is not None and hit[0] is units:
            return hit[1], hit[2]
        ent = self.unit_entry[units]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(ent)) + 1))
        cache[key] = (units, ent, starts)
        return ent, starts

    def _pair_features(
        self,
        Q_char: sp.csr_matrix | Row,
        Q_word: sp.csr_matrix | Row,
        Q_con: sp.csr_matrix | Row,
        Qcounts: np.ndarray,
        unknown: np.ndarray,
        exclude_unit: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n, n_entries, n_features); ``exclude_unit[i]`` is a unit left out for query i (-1: none)."""
        S_char = self._similarities(Q_char, "U_char")
        S_word = self._similarities(Q_word, "U_word")
        S_con = self._similarities(Q_con, "U_con")
        n = S_char.shape[0]
        E_con_sims = self._similarities(Q_con, "E_con")
        EC = self.EC
        if exclude_unit is not None:
            rows = np.flatnonzero(exclude_unit >= 0)
            units = exclude_unit[rows]
            ents = self.unit_entry[units]
            # centroid without the unit: (q.sum - q.u) / |sum - u|
            q_sum = E_con_sims[rows, ents] * self.E_norm[ents]
            q_u = S_con[rows, units]
            norm2 = self.E_norm[ents] ** 2 - 2 * self.unit_self_dot[units] + 1.0
            E_con_sims[rows, ents] = np.where(norm2 > 1e-6, (q_sum - q_u) / np.sqrt(np.maximum(norm2, 1e-6)), 0.0)
            for S in (S_char, S_word, S_con):
                S[rows, units] = -1.0
        feats = np.zeros((n, len(self.ids), len(PAIR_FEATURES)), np.float32)
        feats[:, :, 0] = self._grouped_max(S_char, self.q_units)
        feats[:, :, 1] = self._grouped_max(S_word, self.q_units)
        feats[:, :, 2] = self._grouped_max(S_con, self.q_units)
        feats[:, :, 3] = self._grouped_max(S_char, self.a_units)
        feats[:, :, 4] = self._grouped_max(S_word, self.a_units)
        feats[:, :, 5] = self._grouped_max(S_con, self.a_units)
        feats[:, :, :6] = np.maximum(feats[:, :, :6], 0.0)
        feats[:, :, 6] = E_con_sims
        # BM25 and coverage from the concept-token counts
        cfg = self.config
        for i in range(n):
            q = Qcounts[i]
            nz = np.flatnonzero(q)
            ec = EC[:, nz]
            lens = self.entry_len
            if exclude_unit is not None and exclude_unit[i] >= 0:
                u = exclude_unit[i]
                e = self.unit_entry[u]
                own = np.asarray(self.UC[u].todense()).ravel()
                ec = ec.copy()
                ec[e] -= own[nz]
                lens = lens.copy()
                lens[e] -= own.sum()
                # the excluded text's centroid share is not removed (small effect)
            idf = self.idf[nz]
            if len(nz):
                tf = ec / (ec + cfg.bm25_k1 * (1 - cfg.bm25_b + cfg.bm25_b * lens[:, None] / self.avg_len))
                bm = (tf * (cfg.bm25_k1 + 1) * idf * q[nz]).sum(axis=1)
                best = ((cfg.bm25_k1 + 1) * idf * q[nz]).sum() + 1e-9
                feats[i, :, 7] = bm / best
            total = (idf * q[nz]).sum() + unknown[i] * self.max_idf
            if total > 0:
                feats[i, :, 8] = ((ec > 0) * idf * q[nz]).sum(axis=1) / total
        return feats

    def features(self, views: Sequence[QueryView]) -> np.ndarray:
        if len(views) == 1:  # a live parse: no stacking needed
            (v,) = views
            return self._pair_features(v.char, v.word, v.con, v.counts[None, :], np.array([v.unknown]))
        return self._pair_features(
            stack([v.char for v in views]),
            stack([v.word for v in views]),
            stack([v.con for v in views]),
            np.vstack([v.counts for v in views]),
            np.array([v.unknown for v in views]),
        )

    def loo_features(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Features of every training question against the index without that question.

        Returns (features (n_q, n_entries, n_features), gold entry per question,
        unknown share per question, concept-token count per question); a token that
        only the left-out question has counts as unknown."""
        units = self.q_units
        analyses = [self.unit_analyses[u] for u in units]
        views = self.query_views([], analyses)
        counts, unknown = self._without_own_tokens(views, units)
        feats = self._pair_features(
            self.U_char[units], self.U_word[units], self.U_con[units], counts, unknown, exclude_unit=units.copy()
        )
        n_tok = np.array([len(a.canonical) for a in analyses], float)
        return feats, self.unit_entry[units], unknown / np.maximum(n_tok, 1.0), n_tok

    def _without_own_tokens(
        self, views: Sequence[QueryView], units: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Concept-token counts of ``views[i]`` against the index without unit ``units[i]``:
        a token only that unit has becomes unknown. Returns (counts, unknown count)."""
        if not views:
            return np.zeros((0, self.EC.shape[1]), np.float32), np.zeros(0)
        counts = np.vstack([v.counts for v in views])
        total = np.asarray(self.UC.sum(axis=0)).ravel()
        own = self.UC[units].toarray()
        only_own = (total[None, :] - own) <= 0
        unknown = (counts * only_own).sum(axis=1) + np.array([v.unknown for v in views])
        return np.where(only_own, 0.0, counts).astype(np.float32), unknown

    def heldout_features(
        self, analyses: Sequence[Analysis], units: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of new texts (paraphrases of training questions) against the
        index without their source question ``units[i]``: a concept token only
        that question has counts as unknown, as in :meth:`loo_features`.

        Returns (features, unknown share, concept-token count)."""
        views = self.query_views([], analyses)
        if not views:
            z = np.zeros(0)
            return np.zeros((0, len(self.ids), len(PAIR_FEATURES)), np.float32), z, z
        counts, unknown = self._without_own_tokens(views, units)
        feats = self._pair_features(
            stack([v.char for v in views]),
            stack([v.word for v in views]),
            stack([v.con for v in views]),
            counts, unknown, exclude_unit=np.asarray(units, dtype=np.int64).copy(),
        )
        n_tok = np.array([len(a.canonical) for a in analyses], float)
        return feats, unknown / np.maximum(n_tok, 1.0), n_tok

    @staticmethod
    def query_stats(views: Sequence[QueryView]) -> tuple[np.ndarray, np.ndarray]:
        """(unknown share, concept-token count) per message."""
        n_tok = np.array([len(v.analysis.canonical) for v in views], float)
        unknown = np.array([v.unknown for v in views], float)
        return unknown / np.maximum(n_tok, 1.0), n_tok

    def score(self, feats: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = self.config.weights if weights is None else weights
        return feats @ w
