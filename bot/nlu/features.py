"""Text → features: normalization, stemming, bilingual concepts, TF-IDF and embedding blocks.

One message is analysed into three views that become three TF-IDF blocks:

* ``char``   — character n-grams (2–5, word-bounded) of the normalized text:
  robust to typos and unseen inflections;
* ``word``   — word uni/bigrams of the stems (Indonesian confix stripping,
  light English suffix stripping);
* ``concept`` — the stem sequence with every phrase of the bilingual shop
  vocabulary (``resources/shop_vocab.txt``) replaced by a shared concept token
  (``~ongkir`` for "ongkir", "ongkos kirim", "shipping cost", ...), so an
  English question meets an Indonesian example.

plus a dense block: the normalized text's pretrained embedding
(``bot/nlu/embedding.py``), which knows words the training data never used.
The blocks are weighted, stacked and L2-normalized, so a dot product of two
rows is a cosine similarity; the dense block comes last (``dense_from``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from bot.nlu.embedding import DIM, embed
from bot.nlu.normalize import normalize
from bot.nlu.sparse import Row
from bot.nlu.stem import stem
from bot.types import Lang

TOKEN_RE = re.compile(r"\w+(?:[&'’]\w+)*")
CONCEPT_PREFIX = "~"
MAX_PHRASE = 6
DROP = "_drop"  # vocabulary key of words left out of the concept view


def tokenize(normalized: str) -> list[str]:
    return TOKEN_RE.findall(normalized)


@dataclass(frozen=True)
class Analysis:
    normalized: str
    stems: tuple[str, ...]
    canonical: tuple[str, ...]  # stems with vocabulary phrases replaced by concept tokens

    @property
    def word_doc(self) -> str:
        return " ".join(self.stems)

    @property
    def concept_doc(self) -> str:
        # plus a length token: dialogue acts ("ga", "ok makasih") are short,
        # questions are not, and the bag of words alone cannot tell them apart
        n = len(self.stems)
        size = "#len1" if n <= 1 else "#len2" if n <= 3 else "#len4" if n <= 6 else "#len7"
        return " ".join(self.canonical) + " " + size


class Vocabulary:
    """The bilingual concept vocabulary, compiled to stem-tuple → concept keys."""

    def __init__(self, concepts: dict[str, list[str]] | None = None) -> None:
        # Two tables: terms as written (normalized surface tokens) and as stems.
        # A message is matched on its surface tokens first, so "perbaikan"
        # (repair) is not mistaken for its stem "baik" (good) and a listed slang
        # form ("bersihin", "dibalikin") matches before the stemmer mangles it;
        # the stem table then catches the inflections nobody listed.
        self.phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.surface: dict[tuple[str, ...], tuple[str, ...]] = {}
        # concept -> its terms per language (for training-data augmentation)
        self.terms_by_lang: dict[str, dict[str, list[str]]] = {}
        for key, terms in (concepts or {}).items():
            for term in terms:
                toks = tuple(tokenize(normalize(term)))
                if not toks or len(toks) > MAX_PHRASE:
                    continue
                stems = tuple(stem(t) for t in toks)
                for table, k in ((self.surface, toks), (self.phrases, stems)):
                    have = table.get(k, ())
                    if key not in have:
                        table[k] = have + (key,)
        # a stem that is itself a listed word means that word, not the concept
        # of a derived form ("perbaikan" -> "baik" is not "repair")
        for k, keys in self.surface.items():
            if k in self.phrases:
                self.phrases[k] = keys
        self.max_len = max((len(p) for p in self.surface), default=0)

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        concepts: dict[str, list[str]] = {}
        by_lang: dict[str, dict[str, list[str]]] = {}
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not line or line.count("|") != 2:
                continue
            key, ind, eng = (part.strip() for part in line.split("|"))
            terms = [t.strip() for t in (ind + "," + eng).split(",") if t.strip()]
            concepts.setdefault(key, []).extend(terms)
            for lang, part in (("id", ind), ("en", eng)):
                by_lang.setdefault(key, {}).setdefault(lang, []).extend(t.strip() for t in part.split(",") if t.strip())
        vocab = cls(concepts)
        vocab.terms_by_lang = by_lang
        return vocab

    @classmethod
    def builtin(cls) -> "Vocabulary":
        text = resources.files("bot.nlu").joinpath("resources/shop_vocab.txt").read_text("utf-8")
        return cls.from_text(text)

    def canonicalize(self, stems: Sequence[str], tokens: Sequence[str] | None = None) -> tuple[str, ...]:
        out: list[str] = []
        i, n = 0, len(stems)
        if tokens is not None and len(tokens) != n:
            tokens = None
        while i < n:
            for length in range(min(self.max_len, n - i), 0, -1):
                keys = None
                if tokens is not None:
                    keys = self.surface.get(tuple(tokens[i : i + length]))
                if keys is None:
                    keys = self.phrases.get(tuple(stems[i : i + length]))
                if keys:
                    out.extend(CONCEPT_PREFIX + k for k in keys if k != DROP)
                    i += length
                    break
            else:
                out.append(stems[i])
                i += 1
        return tuple(out)

    def __len__(self) -> int:
        return len(self.phrases)


class TextAnalyzer:
    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary()

    def analyze(self, text: str, lang: Lang | None = None) -> Analysis:
        normalized = normalize(text, lang)
        tokens = tokenize(normalized)
        stems = tuple(stem(t) for t in tokens)
        return Analysis(normalized, stems, self.vocabulary.canonicalize(stems, tokens))


@dataclass
class FeatureConfig:
    char_range: tuple[int, int] = (2, 5)
    word_range: tuple[int, int] = (1, 2)
    char_weight: float = 1.0
    word_weight: float = 1.0
    concept_weight: float = 0.8
    embed_weight: float = 1.0  # the pretrained dense view (bot/nlu/embedding.py)
    char_min_df: int = 1


class Featurizer:
    """Three TF-IDF blocks (char, word, concept), weighted and L2-normalized."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self.dense_from: int | None = None  # first column of the dense embedding block, once fitted
        c = self.config
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=c.char_range, sublinear_tf=True,
            min_df=c.char_min_df, dtype=np.float32,
        )
        self.word = TfidfVectorizer(
            ngram_range=c.word_range, sublinear_tf=True, token_pattern=r"\S+",
            lowercase=False, dtype=np.float32,
        )
        self.concept = TfidfVectorizer(
            ngram_range=c.word_range, sublinear_tf=True, token_pattern=r"\S+",
            lowercase=False, dtype=np.float32,
        )

    def _blocks(self, analyses: Sequence[Analysis], fit: bool) -> sp.csr_matrix:
        c = self.config
        docs = (
            (self.char, [a.normalized for a in analyses], c.char_weight),
            (self.word, [a.word_doc for a in analyses], c.word_weight),
            (self.concept, [a.concept_doc for a in analyses], c.concept_weight),
        )
        mats = []
        for vec, texts, weight in docs:
            if weight <= 0:
                continue
            if fit:
                try:
                    m = vec.fit_transform(texts)
                except ValueError:  # empty vocabulary (e.g. only punctuation)
                    vec.fit(["\u2400"])
                    m = vec.transform(texts)
            else:
                m = vec.transform(texts)
            mats.append(m * weight)
        if c.embed_weight > 0:
            mats.append(sp.csr_matrix(embed([a.normalized for a in analyses]) * c.embed_weight))
        return l2_normalize(sp.hstack(mats, format="csr").astype(np.float32))

    def fit_transform(self, analyses: Sequence[Analysis]) -> sp.csr_matrix:
        X = self._blocks(analyses, fit=True)
        self._fast = None
        self.dense_from = X.shape[1] - DIM if self.config.embed_weight > 0 else None
        return X

    def transform(self, analyses: Iterable[Analysis]) -> sp.csr_matrix:
        analyses = list(analyses)
        if len(analyses) == 1:
            return self.transform_one(analyses[0]).tocsr()
        return self._blocks(analyses, fit=False)

    # -- single-message fast path ------------------------------------------
    # sklearn's transform() spends ~2 ms per call on validation; one message
    # needs only its n-grams looked up. Same numbers, ~20x faster.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fast"] = None
        return state

    def _fast_parts(self):
        fast = getattr(self, "_fast", None)
        if fast is None:
            c = self.config
            fast, offset = [], 0
            for vec, weight, doc in (
                (self.char, c.char_weight, "normalized"),
                (self.word, c.word_weight, "word_doc"),
                (self.concept, c.concept_weight, "concept_doc"),
            ):
                if weight <= 0:
                    continue
                fast.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, weight, offset, doc))
                offset += len(vec.vocabulary_)
            fast = (fast, offset, offset + (DIM if c.embed_weight > 0 else 0))
            self._fast = fast
        return fast

    def transform_one(self, analysis: Analysis) -> Row:
        parts, dense_at, width = self._fast_parts()
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for analyze, vocab, idf, weight, offset, doc in parts:
            counts: dict[int, int] = {}
            for gram in analyze(getattr(analysis, doc)):
                j = vocab.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            v = (np.log(tf) + 1.0) * idf[idx]
            v *= weight / np.sqrt((v * v).sum())
            cols.append(idx + offset)
            vals.append(v)
        if width > dense_at:
            v = embed([analysis.normalized])[0]
            nz = np.flatnonzero(v)
            cols.append(nz + dense_at)
            vals.append(v[nz].astype(np.float64) * self.config.embed_weight)
        if cols:
            col = np.concatenate(cols)
            val = np.concatenate(vals)
            order = np.argsort(col)
            col, val = col[order], val[order]
            val /= np.sqrt((val * val).sum())
        else:
            col, val = np.zeros(0, np.int64), np.zeros(0)
        return Row(col, val.astype(np.float32), width)
