"""The NLU model: training, parsing and the on-disk cache.

A message is decided in two stages and a combination:

* stage A — :class:`~bot.nlu.classifier.IntentClassifier` over the dialogue
  and task intents (built-in + the data dir's NLU examples) and
  ``out_of_scope``; FAQ entries are *not* among its classes, so the many short
  examples of ``deny`` or ``product_search`` cannot pull FAQ questions in;
* stage B — :class:`~bot.nlu.faq_index.FaqIndex`, a few-shot bilingual FAQ
  retriever over the entries' questions and answers;
* :class:`~bot.nlu.combine.Combiner` — a small logistic model trained on
  cross-validated predictions of both stages that picks the FAQ top-1, stage
  A's intent, or ``out_of_scope``.

``train_model`` builds a :class:`NluModel` from labeled examples and FAQ
entries (with no FAQ it is stage A alone); ``train_for_shop`` trains what
``sapa run`` needs for a data dir — built-in intents + the data dir's NLU
examples + its FAQ, with ``product_search`` treated as out of scope when the
shop has no catalog — and ``load_or_train`` caches that model keyed by a hash
of every training input and of the NLU code, so a restart with the same data
loads it instead of training.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.nlu.augment import augment
from bot.nlu.classifier import OOS, ClassifierConfig, IntentClassifier
from bot.nlu.emoji import emoji_intent, has_words
from bot.nlu.combine import FAQ, FAQ_CLASS, INTENT, OOS_ROUTE, Combiner, StageAView, combiner_features
from bot.nlu.faq_index import FaqIndex, FaqIndexConfig
from bot.nlu.features import CONCEPT_PREFIX, FeatureConfig, Featurizer, TextAnalyzer, Vocabulary, tokenize
from bot.nlu.normalize import without_greeting
from bot.nlu.router import FaqRouter, shipped_router, applies as router_applies
from bot.shopdata.model import FaqEntry, NluExample, Product, ShopData
from bot.types import Entity, IntentScore, Lang, ParseResult

log = logging.getLogger(__name__)

FAQ_PREFIX = "faq/"
RANKING_SIZE = 10
MAX_SUGGESTIONS = 3
# Trained out_of_scope examples are a grab bag; they must not out-vote a real
# intent on surface features.
OOS_SAMPLE_WEIGHT = 0.5
# The share of each kind of row in the combiner's training: real FAQ questions,
# near-domain out-of-scope (questions of entries left out of the index), stage
# A's intents and its out_of_scope examples.
ROUTE_WEIGHTS = {"faq": 0.2, "near_oos": 0.05, "aug_faq": 0.3, "aug_near_oos": 0.05, "intent": 0.2, "oos": 0.2}
# Noisy paraphrases per FAQ question in the combiner's training (bot/nlu/augment.py).
AUGMENT_PER_QUESTION = 4
STAGE_A_CV_FOLDS = 3
FAQ_LABEL_BY_GOLD = True
COMBINER_KIND = "lr"
COMBINER_C = 1.0
# Fewer FAQ questions than this: a fixed rule instead of the learned combiner.
MIN_LEARNED_FAQ_QUESTIONS = 30
FAQ_CLASS_IN_STAGE_A = True
FAQ_CLASS_WEIGHT = 1.0
# The FAQ route's weight against the others in the decision (1: plain argmax).
FAQ_BIAS = 1.3
# Stage-A intents that lose to the FAQ top-1 on a message longer than this many words.
# Stage-A intents that questions are mistaken for ("bisa bayar pakai gopay ga kak?" → deny).
# Greetings, thanks and goodbyes are not among them: a long "terima kasih ya kak" stays thanks.
SOFT_INTENTS = frozenset({"affirm", "deny", "cancel", "help", "feedback"})
SHORT_MESSAGE = 4
# Words that make even a short message a question (stems, after normalize()).
QUESTION_WORDS = frozenset({"cara", "bagaimana", "how", "kapan", "when", "berapa", "what", "wher", "mana"})
# "Did you mean" band on the probability of the FAQ route.
SUGGEST_LOW = 0.2
HUMAN_HANDOFF = "human_handoff"
# What normalize() turns every way of addressing the admin into (kak, min, gan, sis…).
ADDRESS_TERMS = frozenset({"kak"})
CONFIDENT_SHORT = 0.9
# The concept every city and region maps to (resources/shop_vocab.txt), and what may stand
# around it in a reply that only names a place: "Bandung", "ke jogja kak", "Jakarta Selatan".
PLACE_CONCEPT = CONCEPT_PREFIX + "nama_tempat"
AROUND_A_PLACE = frozenset(
    {CONCEPT_PREFIX + w for w in ("ke", "di", "dari", "untuk", "tolong", "hanya", "ya", "kota")}
    | {"selatan", "utara", "barat", "timur", "tengah", "pusat", "south", "north", "west", "east", "central"}
)
# Up to this many words (address terms aside) is a message too short for an FAQ match
# to outvote a confident stage A: "mau pesan dong" shares three words with "kak pesanan
# saya mau dibatalkan" and none of what that entry is about.
SHORT_KNOWN_WORDS = 3
# Words that name a person to talk to (after normalize(); "min" has become "kak" by then).
PERSON_WORDS = re.compile(
    r"\b(admin|cs|customer service|operator|agen|agent|petugas|staf|staff|manusia|human|person|real person)\b"
)
# A settled emoji (👍 yes, 👎 no, 🙏 thanks): sure, but below an exact labeled example.
EMOJI_CONFIDENCE = 0.9
PRODUCT_SEARCH = "product_search"
PLACE_ORDER = "place_order"
PAYMENT_CONFIRMATION = "payment_confirmation"
# The intents whose flow acts on one order the message may name.
ORDER_INTENTS = frozenset({"order_status", PAYMENT_CONFIRMATION, "complaint"})
# Flows a shop's FAQ may also explain. Asked how or where ("konfirmasi bayar gimana kak?",
# "bukti tf kirim kemana?", "how do I place an order?"), the shop's own answer is what the
# customer asked for; told ("saya sudah transfer", "barang saya rusak"), the flow is.
# Order status is not among them: "pesanan saya sampai mana?" wants the order, not an FAQ.
HOW_TO_INTENTS = frozenset({PLACE_ORDER, PAYMENT_CONFIRMATION, "complaint"})
# Stems after normalize(): "gmn"/"gimana" → bagaimana, "kemana" → ke mana, "where" → wher.
HOW_WORDS = frozenset({"cara", "bagaimana", "how", "mana", "wher"})
CATALOG_ENTITIES = frozenset({"product", "size", "color"})
SUGGEST_HIGH = 0.6
# Softmax temperature of FAQ ranking scores inside the FAQ route's probability.
FAQ_TEMPERATURE = 0.25
# Bump when the model's pickled shape changes; the code hash covers the rest.
MODEL_FORMAT = 3
_CODE_FILES = (
    "features.py", "augment.py", "classifier.py", "model.py", "faq_index.py", "combine.py", "stem.py", "normalize.py",
    "router.py", "resources/shop_vocab.txt", "resources/slang_id.yml", "resources/faq_router.json",
)


@dataclass
class TrainingSet:
    texts: list[str]
    labels: list[str]
    sample_weight: np.ndarray


def build_training_set(examples: Sequence[NluExample]) -> TrainingSet:
    """Stage A's training data: every example that is not an FAQ question."""
    texts: list[str] = []
    labels: list[str] = []
    sw: list[float] = []
    for ex in examples:
        if ex.intent.startswith(FAQ_PREFIX) or not ex.text or not ex.text.strip():
            continue
        texts.append(ex.text)
        labels.append(ex.intent)
        sw.append(OOS_SAMPLE_WEIGHT if ex.intent == OOS else 1.0)
    return TrainingSet(texts, labels, np.array(sw))


def _faq_entries(examples: Sequence[NluExample], faqs: Sequence[FaqEntry]) -> tuple[list[FaqEntry], dict[str, list[str]]]:
    """FAQ entries plus the ``faq/<id>`` NLU examples as extra questions (an id
    that no FAQ file defines becomes an entry of its own, without answers)."""
    entries = list(faqs)
    known = {e.id for e in entries}
    extra: dict[str, list[str]] = {}
    for ex in examples:
        if ex.intent.startswith(FAQ_PREFIX) and ex.text.strip():
            fid = ex.intent[len(FAQ_PREFIX):]
            extra.setdefault(fid, []).append(ex.text)
    for fid, qs in extra.items():
        if fid not in known:
            entries.append(FaqEntry(id=fid, category="other", questions={"id": tuple(qs)}, answer={}))
            known.add(fid)
    extra = {fid: qs for fid, qs in extra.items() if fid in {e.id for e in faqs}}
    return entries, extra


def _stage_a_view(decision, probs_row: np.ndarray, classes: np.ndarray, oos_index: int) -> StageAView:
    top = str(classes[decision.index])
    faq_i = np.flatnonzero(classes == FAQ_CLASS)
    return StageAView(
        conf=float(decision.confidence),
        is_oos=bool(decision.is_oos),
        top=top,
        p_oos=float(probs_row[oos_index]) if oos_index >= 0 else 0.0,
        top_p=float(probs_row[decision.index]),
        p_faq=float(probs_row[faq_i[0]]) if len(faq_i) else 0.0,
    )


class NluModel:
    """A trained NLU: ``parse`` a customer message into a :class:`ParseResult`."""

    def __init__(
        self,
        analyzer: TextAnalyzer,
        featurizer: Featurizer,
        classifier: IntentClassifier,
        products: Sequence[Product] = (),
        train_seconds: float = 0.0,
        faq_index: FaqIndex | None = None,
        combiner: Combiner | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.featurizer = featurizer
        self.classifier = classifier
        self.faq_index = faq_index
        self.combiner = combiner
        # FAQ best entry or out_of_scope, learned from other shops' customers (bot/nlu/router.py)
        self.faq_router: FaqRouter | None = None
        self.products = tuple(products)
        self.train_seconds = train_seconds
        self.cache_key: str | None = None
        self.train_report: dict[str, float] = {}
        self._extractor = None
        self._category_words: frozenset[str] | None = None
        # a training text's words -> its intent, for texts only one intent uses
        self.labeled_texts: dict[str, str] = {}

    # The entity extractor is rebuilt after unpickling (it is cheap and may
    # hold compiled state that does not pickle well).
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_extractor"] = None
        return state

    @property
    def intents(self) -> list[str]:
        names = [str(c) for c in self.classifier.classes_ if c != FAQ_CLASS]
        if self.faq_index is not None:
            names += [FAQ_PREFIX + i for i in self.faq_index.ids]
            if OOS not in names:
                names.append(OOS)
        return names

    @property
    def extractor(self):
        if self._extractor is None and self.products:
            from bot.nlu.entities import EntityExtractor

            self._extractor = EntityExtractor(self.products)
        return self._extractor

    def _names_category(self, text: str) -> bool:
        """Whether the message names one of the catalog's categories ("dress", "kemeja", "tas")."""
        if not self.products:
            return False
        if getattr(self, "_category_words", None) is None:  # (models pickled before it existed)
            from bot.catalog import CATEGORY_WORDS

            words = {p.category.lower() for p in self.products}
            self._category_words = frozenset(words | {w for c in words for w in CATEGORY_WORDS.get(c, ())})
        return not self._category_words.isdisjoint(text.lower().split())

    def _entities(self, text: str) -> tuple[Entity, ...]:
        ex = self.extractor
        if ex is None:
            return ()
        try:
            return tuple(ex.extract(text))
        except Exception:  # entity extraction must never break a parse
            log.exception("entity extraction failed")
            return ()

    # -- parsing -------------------------------------------------------------
    def _all_words_unknown(self, analysis) -> bool:
        """True when the message has words and none of them (address terms aside)
        occurs in any training text. Emoji-only messages are left to the classifier."""
        words = [w for w in analysis.stems if w not in ADDRESS_TERMS]
        if not words:
            return False
        vocabulary = self.featurizer.word.vocabulary_
        faq_tokens = self.faq_index.tok_vocab if self.faq_index is not None else {}
        return not any(w in vocabulary or w in faq_tokens for w in words)

    @staticmethod
    def _only_a_place(analysis) -> bool:
        """The message names a place and nothing else: the answer to "which city?", not a
        question. Its one concept token would otherwise match any entry that names a city."""
        rest = [t for t in analysis.canonical if t not in ADDRESS_TERMS and t not in AROUND_A_PLACE]
        return bool(rest) and all(t == PLACE_CONCEPT for t in rest)

    def _stage_a(self, analysis):
        (decision,), probs = self.classifier.decide(self.featurizer.transform_one(analysis))
        return decision, probs[0]

    def _stage_a_result(self, decision, p: np.ndarray) -> tuple[IntentScore, list[IntentScore], tuple[IntentScore, ...]]:
        names = self.classifier.classes_
        order = np.argsort(-p)[:RANKING_SIZE]
        top_name = str(names[decision.index])
        ranking = [IntentScore(top_name, decision.confidence)]
        for i in order:
            if i == decision.index:
                continue
            ranking.append(IntentScore(str(names[i]), float(min(p[i], decision.confidence))))
        if not decision.is_oos:
            intent = ranking[0]
        elif top_name == OOS:
            intent = IntentScore(OOS, decision.confidence)
        else:
            intent = IntentScore(OOS, 1.0 - decision.confidence)
        suggestions: tuple[IntentScore, ...] = ()
        if decision.suggest:
            suggestions = tuple(s for s in ranking if s.name != OOS)[:MAX_SUGGESTIONS]
        return intent, ranking, suggestions

    def parse(self, text: str, lang: Lang | None = None) -> ParseResult:
        if lang is None:
            from bot.nlu.language import detect_language

            lang = detect_language(text)
        # "halo kak, mau pesan ...": the request is classified, not the courtesy before it.
        analysis = self.analyzer.analyze(without_greeting(text), lang)
        entities = self._entities(text)
        if not has_words(text):
            # "👍", "😀", "🙏🏽": no words for the classifier, whose guess would be noise.
            name = emoji_intent(text)
            intent = IntentScore(name, 1.0 if name == OOS else EMOJI_CONFIDENCE)
            ranking, suggestions = [intent], ()
        elif self._all_words_unknown(analysis) or self._only_a_place(analysis):
            # "asdfghjkl": nothing the model has ever seen; its scores would be noise.
            # "Bandung": a place, for the flow that asked for one to take.
            intent = IntentScore(OOS, 1.0)
            ranking, suggestions = [intent], ()
        else:
            decision, p = self._stage_a(analysis)
            if self.faq_index is None or self.combiner is None:
                intent, ranking, suggestions = self._stage_a_result(decision, p)
            else:
                names_product = any(e.entity in CATALOG_ENTITIES for e in entities) or self._names_category(text)
                names_order = any(e.entity == "order_number" for e in entities)
                names_amount = any(e.entity == "amount" for e in entities)
                intent, ranking, suggestions = self._combined(
                    analysis, decision, p, names_product, names_order, names_amount
                )
        return ParseResult(
            text=text,
            normalized=analysis.normalized,
            lang=lang,
            intent=intent,
            ranking=tuple(ranking),
            entities=entities,
            suggestions=suggestions,
        )

    def _route_inputs(self, analysis, decision, p: np.ndarray):
        """The combiner's features of one message, its FAQ scores and stage A's view."""
        index = self.faq_index
        view = index.query_views([analysis.normalized], [analysis])
        F = index.features(view)
        scores = index.score(F)
        unknown, n_tok = index.query_stats(view)
        a_view = _stage_a_view(decision, p, self.classifier.classes_, self.classifier.oos_index)
        return combiner_features(scores, F, unknown, n_tok, [a_view]), scores[0], a_view

    def route_features(self, text: str, lang: Lang | None = None) -> tuple[np.ndarray, str] | None:
        """The router's inputs for ``text`` (standardized combiner features) and the FAQ's
        best entry id; ``None`` without a learned combiner. For ``bench/train_faq_router.py``."""
        if self.faq_index is None or self.combiner is None or not self.combiner.feature_names:
            return None
        if lang is None:
            from bot.nlu.language import detect_language

            lang = detect_language(text)
        analysis = self.analyzer.analyze(text, lang)
        decision, p = self._stage_a(analysis)
        X, s, _ = self._route_inputs(analysis, decision, p)
        return self.combiner.standardized(X)[0], self.faq_index.ids[int(np.argmax(s))]

    def _combined(
        self,
        analysis,
        decision,
        p: np.ndarray,
        names_product: bool = False,
        names_order: bool = False,
        names_amount: bool = False,
    ):
        index = self.faq_index
        names = self.classifier.classes_
        X, s, a_view = self._route_inputs(analysis, decision, p)
        route = self.combiner.proba(X)[0]
        faq_order = np.argsort(-s)[:RANKING_SIZE]
        z = (s[faq_order] - s[faq_order[0]]) / FAQ_TEMPERATURE
        faq_p = np.exp(z) / np.exp(z).sum()
        stage_a_intent = a_view.top if not (a_view.is_oos or a_view.top in (OOS, FAQ_CLASS)) else OOS
        # FAQ answers are favoured over stage-A intents, except over a request for a
        # person: that one must never be answered with an FAQ entry.
        bias = 1.0 if stage_a_intent == HUMAN_HANDOFF else FAQ_BIAS
        r = route * np.array([bias, 1.0, 1.0])
        choice = int(np.argmax(r))
        # FAQ or out_of_scope: the router learned from real customers decides, and its
        # probability is the FAQ route's confidence from here on.
        router = self.faq_router
        faq_conf, oos_conf = float(route[FAQ]), float(route[OOS_ROUTE])
        if router is not None and choice != INTENT:
            faq_conf = router.probability(self.combiner.standardized(X)[0])
            oos_conf = 1.0 - faq_conf
            choice = FAQ if faq_conf >= router.threshold else OOS_ROUTE
        if stage_a_intent == HUMAN_HANDOFF and PERSON_WORDS.search(analysis.normalized):
            # Asking for a person in so many words ("... tolong sambungkan ke admin ya")
            # is never answered with an FAQ entry, however many words the entry shares.
            choice = INTENT
        if choice == INTENT and stage_a_intent == OOS:
            choice = OOS_ROUTE
        # A product question naming a catalog product, size or colour ("ada dress merah
        # size S?") is a catalog search rather than the generic FAQ about stock or sizes;
        # "mau pesan dress batik" is an order, not the FAQ about materials. Likewise a
        # message naming an order ("where is my order SP-2026-000123?") is about that
        # order, not the FAQ on how to check one, and "udah tf 396rb ke bca" names the
        # payment it confirms, not the FAQ listing the bank accounts.
        if (
            choice == FAQ
            and (
                names_product and stage_a_intent in (PRODUCT_SEARCH, PLACE_ORDER)
                or names_order and stage_a_intent in ORDER_INTENTS
                or names_amount and stage_a_intent == PAYMENT_CONFIRMATION
            )
            and r[INTENT] >= 0.5 * r[FAQ]
        ):
            choice = INTENT
        # A few words that stage A knows well ("help", "batal", "mau pesan dong",
        # "barang saya rusak"): too little text for an FAQ match to mean anything.
        if (
            choice == FAQ
            and stage_a_intent != OOS
            and a_view.conf >= CONFIDENT_SHORT
            and len([w for w in analysis.stems if w not in ADDRESS_TERMS]) <= SHORT_KNOWN_WORDS
        ):
            choice = INTENT
        # Word for word one of stage A's own examples of the intent it picked ("where is
        # my order", "mau cek pesanan"): someone labeled exactly this message so.
        exact = stage_a_intent != OOS and self.labeled_texts.get(_words(analysis.normalized)) == stage_a_intent
        if exact:
            choice = INTENT
        # a dialogue act ("deny", "greet") or a soft request ("help") from stage A
        # on a message long enough to be a question, or asking how or when ("cara
        # cancel order" is not a "cancel"): the FAQ top-1 when it beats out_of_scope
        if (
            not exact
            and choice == INTENT
            and stage_a_intent in SOFT_INTENTS
            and (len(analysis.stems) > SHORT_MESSAGE or not QUESTION_WORDS.isdisjoint(analysis.stems))
            and r[FAQ] >= max(r[OOS_ROUTE], SUGGEST_LOW)  # a real FAQ candidate, not a long "thanks"
        ):
            choice = FAQ
        # Asking how a flow works ("bukti tf kirim kemana kak?"), where the shop's FAQ
        # answers it well enough to say outright: the shop's answer. A message naming the
        # product, order or amount ("mau pesan kemeja parang gimana caranya") wants the flow.
        if (
            choice == INTENT
            and not exact
            and stage_a_intent in HOW_TO_INTENTS
            and not (names_product or names_order or names_amount)
            and not HOW_WORDS.isdisjoint(analysis.stems)
        ):
            how_to_conf = router.probability(self.combiner.standardized(X)[0]) if router is not None else float(route[FAQ])
            if how_to_conf >= SUGGEST_HIGH:
                choice = FAQ
                faq_conf, oos_conf = how_to_conf, 1.0 - how_to_conf
        candidates: list[IntentScore] = []
        for j, pj in zip(faq_order, faq_p):
            candidates.append(IntentScore(FAQ_PREFIX + index.ids[j], float(faq_conf * pj)))
        for i in np.argsort(-p)[:RANKING_SIZE]:
            name = str(names[i])
            if name not in (OOS, FAQ_CLASS):
                candidates.append(IntentScore(name, float(route[INTENT] * p[i])))
        if choice == FAQ:
            intent = IntentScore(FAQ_PREFIX + index.ids[faq_order[0]], faq_conf)
        elif choice == INTENT:
            intent = IntentScore(stage_a_intent, float(max(route[INTENT], a_view.conf) if exact else route[INTENT]))
        else:
            intent = IntentScore(OOS, float(max(oos_conf, 1.0 - faq_conf - route[INTENT] * (stage_a_intent != OOS))))
        rest = sorted((c for c in candidates if c.name != intent.name), key=lambda c: -c.confidence)
        if intent.name != OOS:
            rest.append(IntentScore(OOS, oos_conf))
            rest.sort(key=lambda c: -c.confidence)
        ranking = [intent] + [IntentScore(c.name, min(c.confidence, intent.confidence)) for c in rest[: RANKING_SIZE - 1]]
        suggestions: tuple[IntentScore, ...] = ()
        if SUGGEST_LOW <= faq_conf < SUGGEST_HIGH and choice != INTENT:
            sugg = [c for c in candidates if c.name.startswith(FAQ_PREFIX)][:MAX_SUGGESTIONS]
            suggestions = tuple(sugg)
        return intent, ranking, suggestions


def _fit_stage_a(data: TrainingSet, feature_config, classifier_config, analyzer: TextAnalyzer | None = None):
    analyzer = analyzer or TextAnalyzer(Vocabulary.builtin())
    analyses = [analyzer.analyze(t) for t in data.texts]
    featurizer = Featurizer(feature_config)
    X = featurizer.fit_transform(analyses)
    clf = IntentClassifier(classifier_config).fit(
        X, data.labels, sample_weight=data.sample_weight, dense_from=featurizer.dense_from
    )
    return analyzer, featurizer, clf, X


def _stage_a_cv(
    X, labels: list[str], weights: np.ndarray, classifier_config, folds: int, seed: int = 7,
    dense_from: int | None = None,
) -> tuple[list[StageAView], list[int], np.ndarray, dict[int, IntentClassifier]]:
    """Out-of-fold stage-A views for stage A's own training examples (and their rows)."""
    labels_arr = np.array(labels, dtype=object)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), int)
    for c in np.unique(labels_arr):
        idx = np.flatnonzero(labels_arr == c)
        rng.shuffle(idx)
        fold[idx] = (np.arange(len(idx)) + rng.integers(folds)) % folds
    views: list[StageAView | None] = [None] * len(labels)
    models: dict[int, IntentClassifier] = {}
    for f in range(folds):
        train = fold != f
        test = np.flatnonzero(~train)
        if len(test) == 0 or len(set(labels_arr[train])) < 2:
            continue
        clf = IntentClassifier(classifier_config).fit(
            X[train], list(labels_arr[train]), sample_weight=weights[train], dense_from=dense_from
        )
        models[f] = clf
        decisions, probs = clf.decide(X[test])
        for row, d, pr in zip(test, decisions, probs):
            views[row] = _stage_a_view(d, pr, clf.classes_, clf.oos_index)
    kept = [i for i, v in enumerate(views) if v is not None]
    return [views[i] for i in kept], kept, fold, models


def _fit_combiner(model: NluModel, data: TrainingSet, X_a, classifier_config, n_faq_rows: int) -> Combiner | None:
    """``data``/``X_a``: stage A's training set, whose last ``n_faq_rows`` rows are
    the FAQ questions (in the index's question order) under the pooled class."""
    index = model.faq_index
    rows_X: list[np.ndarray] = []
    rows_route: list[np.ndarray] = []
    rows_w: list[np.ndarray] = []
    report: dict[str, float] = {}

    def add(X: np.ndarray, route: np.ndarray, kind: str) -> None:
        if len(X):
            rows_X.append(X)
            rows_route.append(route)
            rows_w.append(np.full(len(X), ROUTE_WEIGHTS[kind] / len(X)))

    # stage A's view of every training row, out of fold
    views, kept, fold, fold_models = _stage_a_cv(
        X_a, data.labels, data.sample_weight, classifier_config, STAGE_A_CV_FOLDS,
        dense_from=model.featurizer.dense_from,
    )
    view_of = dict(zip(kept, views))
    n_a = len(data.labels) - n_faq_rows
    # FAQ questions as leave-one-out queries, and with their entry left out
    F, gold, unknown, n_tok = index.loo_features()
    keep_q = np.array([n_a + j in view_of for j in range(len(gold))], bool)
    if keep_q.any():
        F, gold, unknown, n_tok = F[keep_q], gold[keep_q], unknown[keep_q], n_tok[keep_q]
        a_views = [view_of[n_a + j] for j in np.flatnonzero(keep_q)]
        S = index.score(F)
        rows = np.arange(len(gold))
        hit = S.argmax(axis=1) == gold
        report["loo_faq_top1"] = float(hit.mean())
        faq_route = np.full(len(gold), FAQ) if FAQ_LABEL_BY_GOLD else np.where(hit, FAQ, OOS_ROUTE)
        add(combiner_features(S, F, unknown, n_tok, a_views), faq_route, "faq")
        if len(index) > 2:
            S_held = S.copy()
            S_held[rows, gold] = -1e9
            F_held = F.copy()
            F_held[rows, gold, :] = 0.0
            add(combiner_features(S_held, F_held, unknown, n_tok, a_views), np.full(len(gold), OOS_ROUTE), "near_oos")
    # noisy paraphrases of the FAQ questions (translated, slang, typos, dropout),
    # scored without their source question and seen by stage A's fold model
    # that did not train on it: real traffic looks like these, not like the
    # tidy questions themselves
    if AUGMENT_PER_QUESTION > 0 and fold_models:
        aug_texts: list[str] = []
        aug_src: list[int] = []  # position in index.q_units
        for j, u in enumerate(index.q_units):
            if n_a + j not in view_of:
                continue
            for t in augment(index.unit_texts[u], model.analyzer.vocabulary, AUGMENT_PER_QUESTION):
                aug_texts.append(t)
                aug_src.append(j)
        if aug_texts:
            src = np.array(aug_src)
            analyses = [model.analyzer.analyze(t) for t in aug_texts]
            Fg, unk_g, nt_g = index.heldout_features(analyses, index.q_units[src])
            Xq = model.featurizer.transform(analyses)
            a_views_g: list[StageAView] = [None] * len(src)  # type: ignore[list-item]
            for f, clf in fold_models.items():
                rows_f = np.flatnonzero(fold[n_a + src] == f)
                if len(rows_f) == 0:
                    continue
                decisions, probs = clf.decide(Xq[rows_f])
                for r, d, pr in zip(rows_f, decisions, probs):
                    a_views_g[r] = _stage_a_view(d, pr, clf.classes_, clf.oos_index)
            ok = np.array([v is not None for v in a_views_g])
            Fg, unk_g, nt_g, src = Fg[ok], unk_g[ok], nt_g[ok], src[ok]
            a_views_g = [v for v in a_views_g if v is not None]
            gold_g = index.unit_entry[index.q_units[src]]
            Sg = index.score(Fg)
            r_g = np.arange(len(gold_g))
            report["aug_faq_top1"] = float((Sg.argmax(axis=1) == gold_g).mean())
            add(combiner_features(Sg, Fg, unk_g, nt_g, a_views_g), np.full(len(gold_g), FAQ), "aug_faq")
            if len(index) > 2:
                Sg[r_g, gold_g] = -1e9
                Fg = Fg.copy()
                Fg[r_g, gold_g, :] = 0.0
                add(combiner_features(Sg, Fg, unk_g, nt_g, a_views_g), np.full(len(gold_g), OOS_ROUTE), "aug_near_oos")
    # stage A's own examples
    own = [i for i in kept if i < n_a]
    if own:
        analyses = [model.analyzer.analyze(data.texts[i]) for i in own]
        qv = index.query_views([], analyses)
        Fa = index.features(qv)
        Sa = index.score(Fa)
        unk, nt = index.query_stats(qv)
        Xa = combiner_features(Sa, Fa, unk, nt, [view_of[i] for i in own])
        is_oos = np.array([data.labels[i] == OOS for i in own])
        add(Xa[~is_oos], np.full((~is_oos).sum(), INTENT), "intent")
        add(Xa[is_oos], np.full(is_oos.sum(), OOS_ROUTE), "oos")
    if not rows_X:
        return None
    X = np.vstack(rows_X)
    route = np.concatenate(rows_route)
    w = np.concatenate(rows_w)
    w = w / w.mean()
    kind = COMBINER_KIND if len(index.q_units) >= MIN_LEARNED_FAQ_QUESTIONS else "rule"
    comb = Combiner(C=COMBINER_C, kind=kind).fit(X, route, w)
    if comb.model is not None:
        pred = comb.proba(X).argmax(axis=1)
        report["combiner_train_acc"] = float(((pred == route) * w).sum() / w.sum())
    model.train_report.update(report)
    return comb


def train_model(
    examples: Sequence[NluExample],
    faqs: Sequence[FaqEntry] = (),
    *,
    products: Sequence[Product] = (),
    feature_config: FeatureConfig | None = None,
    classifier_config: ClassifierConfig | None = None,
    faq_config: FaqIndexConfig | None = None,
) -> NluModel:
    """Train on labeled examples plus FAQ entries (each one intent ``faq/<id>``).

    Examples labeled ``faq/<id>`` are questions of that FAQ entry. With no FAQ
    at all the model is stage A alone (the intent classifier)."""
    started = time.perf_counter()
    entries, extra = _faq_entries(examples, faqs)
    data = build_training_set(examples)
    if not data.texts and not entries:
        raise ValueError("no training examples")
    if not data.texts:  # an FAQ-only training file: stage A knows only out_of_scope
        data = TrainingSet(["\u2400"], [OOS], np.array([OOS_SAMPLE_WEIGHT]))
    if not entries:
        analyzer, featurizer, clf, _ = _fit_stage_a(data, feature_config, classifier_config)
        model = NluModel(analyzer, featurizer, clf, products)
        model.train_seconds = time.perf_counter() - started
        return model
    analyzer = TextAnalyzer(Vocabulary.builtin())
    index = FaqIndex(faq_config).fit(entries, analyzer, extra)
    # stage A also learns one pooled class of all FAQ questions: "a question for
    # this shop's FAQ" competes with "deny" for "sepatunya kulit asli ga kak"
    questions = [index.unit_texts[u] for u in index.q_units]
    if FAQ_CLASS_IN_STAGE_A:
        data = TrainingSet(
            data.texts + questions,
            data.labels + [FAQ_CLASS] * len(questions),
            np.r_[data.sample_weight, np.full(len(questions), FAQ_CLASS_WEIGHT)],
        )
        n_faq_rows = len(questions)
    else:
        n_faq_rows = 0
    analyzer, featurizer, clf, X_a = _fit_stage_a(data, feature_config, classifier_config, analyzer)
    model = NluModel(analyzer, featurizer, clf, products, faq_index=index)
    if n_faq_rows == 0:  # stage A's view of the FAQ questions comes from the full model
        X_q = featurizer.transform([index.unit_analyses[u] for u in index.q_units])
        data = TrainingSet(data.texts + questions, data.labels + [FAQ_CLASS] * len(questions),
                           np.r_[data.sample_weight, np.ones(len(questions))])
        import scipy.sparse as sp
        X_a = sp.vstack([X_a, X_q]).tocsr()
        n_faq_rows = len(questions)
    model.combiner = _fit_combiner(model, data, X_a, classifier_config, n_faq_rows)
    if model.combiner is not None and model.combiner.feature_names and router_applies(len(index.q_units), len(index)):
        model.faq_router = shipped_router(model.combiner.feature_names)
    model.labeled_texts = _unambiguous_examples(analyzer, data.texts, data.labels)
    if model.combiner is None:
        model.faq_index = None
    model.train_seconds = time.perf_counter() - started
    return model


def _words(normalized: str) -> str:
    """The message's words alone, without how it addresses the admin: "cek pesanan saya
    dong?" is the example "cek pesanan saya dong kak"."""
    return " ".join(w for w in tokenize(normalized) if w not in ADDRESS_TERMS)


def _unambiguous_examples(analyzer: TextAnalyzer, texts: list[str], labels: list[str]) -> dict[str, str]:
    """A training text's words -> its intent, for the texts that only one intent uses
    (FAQ questions, which stage A knows as one pooled class, and out_of_scope left out)."""
    seen: dict[str, set[str]] = {}
    for text, label in zip(texts, labels):
        seen.setdefault(_words(analyzer.analyze(text).normalized), set()).add(label)
    return {
        text: label
        for text, (label, *others) in ((t, sorted(ls)) for t, ls in seen.items())
        if not others and label not in (FAQ_CLASS, OOS)
    }


def shop_examples(shop: ShopData) -> list[NluExample]:
    """Stage A's examples for a data dir: built-in + the data dir's, with
    ``product_search`` out of scope when the shop has no catalog."""
    examples = builtin_examples() + list(shop.nlu_examples)
    if not shop.products:
        examples = [
            NluExample(ex.text, OOS, ex.entities, ex.source) if ex.intent == "product_search" else ex
            for ex in examples
        ]
    return examples


def train_for_shop(shop: ShopData) -> NluModel:
    """What ``sapa run`` trains for a data dir (``load_or_train`` without the cache)."""
    return train_model(shop_examples(shop), shop.faqs, products=shop.products)


# --- built-in intents and the cache --------------------------------------------


def builtin_examples() -> list[NluExample]:
    from bot.shopdata.rasa_nlu import read_nlu_file

    out: list[NluExample] = []
    folder = resources.files("bot.nlu").joinpath("builtin")
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name.endswith((".yml", ".yaml")):
            with resources.as_file(item) as path:
                out.extend(read_nlu_file(Path(path)))
    return out


def code_version() -> str:
    h = hashlib.sha256(f"format={MODEL_FORMAT}".encode())
    base = resources.files("bot.nlu")
    for name in _CODE_FILES:
        try:
            h.update(name.encode() + b"\0" + base.joinpath(name).read_bytes())
        except (FileNotFoundError, OSError):
            h.update(name.encode() + b"\0missing")
    return h.hexdigest()


def training_key(
    examples: Sequence[NluExample], faqs: Sequence[FaqEntry], products: Sequence[Product] = ()
) -> str:
    h = hashlib.sha256(code_version().encode())
    for ex in examples:
        h.update(b"E\0" + ex.intent.encode() + b"\0" + ex.text.encode() + b"\n")
    for f in faqs:
        h.update(b"F\0" + f.id.encode())
        for lang in sorted(f.questions):
            for q in f.questions[lang]:
                h.update(b"\0q" + lang.encode() + b"\0" + q.encode())
        for lang in sorted(f.answer):
            h.update(b"\0a" + lang.encode() + b"\0" + f.answer[lang].encode())
        h.update(b"\n")
    for p in products:  # the entity extractor is built from the catalog
        h.update(b"P\0" + repr(p).encode() + b"\n")
    return h.hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"nlu-{key[:32]}.pkl"


def load_cached(cache_dir: Path, key: str) -> NluModel | None:
    path = _cache_path(cache_dir, key)
    try:
        with open(path, "rb") as fh:
            model = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # corrupt, truncated or from an incompatible version
        log.info("ignoring unreadable NLU cache %s", path)
        return None
    if not isinstance(model, NluModel) or model.cache_key != key:
        return None
    return model


def save_cached(cache_dir: Path, model: NluModel) -> None:
    assert model.cache_key
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = _cache_path(cache_dir, model.cache_key)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".nlu-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in cache_dir.glob("nlu-*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)


def load_or_train(shop: ShopData, cache_dir: Path) -> NluModel:
    """The model ``sapa run`` uses for ``shop``: from the cache when the data is unchanged."""
    cache_dir = Path(cache_dir)
    examples = shop_examples(shop)
    key = training_key(examples, shop.faqs, shop.products)
    model = load_cached(cache_dir, key)
    if model is not None:
        return model
    model = train_model(examples, shop.faqs, products=shop.products)
    model.cache_key = key
    try:
        save_cached(cache_dir, model)
    except OSError:
        log.warning("could not write the NLU cache in %s", cache_dir, exc_info=True)
    return model
