"""The NLU model: training, parsing and the on-disk cache.

``train_model`` builds a :class:`NluModel` from labeled examples and FAQ
entries; ``load_or_train`` does what ``sapa run`` needs for a data dir —
built-in intents + the data dir's NLU examples + its FAQ — and caches the
trained model keyed by a hash of every training input and of the NLU code,
so a restart with the same data loads it instead of training.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.nlu.classifier import OOS, ClassifierConfig, IntentClassifier
from bot.nlu.features import FeatureConfig, Featurizer, TextAnalyzer, Vocabulary
from bot.shopdata.model import FaqEntry, NluExample, Product, ShopData
from bot.types import Entity, IntentScore, Lang, ParseResult

log = logging.getLogger(__name__)

FAQ_PREFIX = "faq/"
RANKING_SIZE = 10
MAX_SUGGESTIONS = 3
# Weights of an FAQ answer text used as a training example: it carries the
# entry's vocabulary but is not phrased like a question.
ANSWER_SAMPLE_WEIGHT = 0.5
ANSWER_KNN_WEIGHT = 0.8
# FAQ entries have few examples; built-in intents have many short ones that
# otherwise pull in FAQ questions ("ada kotak kado ga" -> deny).
FAQ_WEIGHT = 1.0
# Trained out_of_scope examples are a grab bag; they must not out-vote a real
# intent on surface features (an English question vs Indonesian-only FAQs).
OOS_SAMPLE_WEIGHT = 0.5
# Bump when the model's pickled shape changes; the code hash covers the rest.
MODEL_FORMAT = 1
_CODE_FILES = ("features.py", "classifier.py", "model.py", "stem.py", "normalize.py", "resources/shop_vocab.txt")


@dataclass
class TrainingSet:
    texts: list[str]
    labels: list[str]
    sample_weight: np.ndarray
    knn_weight: np.ndarray
    is_question: np.ndarray  # False for FAQ answers (not used as CV queries)


def build_training_set(examples: Sequence[NluExample], faqs: Sequence[FaqEntry] = ()) -> TrainingSet:
    texts: list[str] = []
    labels: list[str] = []
    sw: list[float] = []
    kw: list[float] = []
    q: list[bool] = []

    def add(text: str, label: str, s: float, k: float, question: bool) -> None:
        if text and text.strip():
            texts.append(text)
            labels.append(label)
            sw.append(s)
            kw.append(k)
            q.append(question)

    for ex in examples:
        weight = OOS_SAMPLE_WEIGHT if ex.intent == OOS else 1.0
        add(ex.text, ex.intent, weight, 1.0, True)
    for entry in faqs:
        label = FAQ_PREFIX + entry.id
        for text in entry.all_questions():
            add(text, label, FAQ_WEIGHT, 1.0, True)
        for text in entry.answer.values():
            add(text, label, ANSWER_SAMPLE_WEIGHT * FAQ_WEIGHT, ANSWER_KNN_WEIGHT, False)
    return TrainingSet(texts, labels, np.array(sw), np.array(kw), np.array(q, bool))


class NluModel:
    """A trained NLU: ``parse`` a customer message into a :class:`ParseResult`."""

    def __init__(
        self,
        analyzer: TextAnalyzer,
        featurizer: Featurizer,
        classifier: IntentClassifier,
        products: Sequence[Product] = (),
        train_seconds: float = 0.0,
    ) -> None:
        self.analyzer = analyzer
        self.featurizer = featurizer
        self.classifier = classifier
        self.products = tuple(products)
        self.train_seconds = train_seconds
        self.cache_key: str | None = None
        self._extractor = None

    # The entity extractor is rebuilt after unpickling (it is cheap and may
    # hold compiled state that does not pickle well).
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_extractor"] = None
        return state

    @property
    def intents(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    @property
    def extractor(self):
        if self._extractor is None and self.products:
            from bot.nlu.entities import EntityExtractor

            self._extractor = EntityExtractor(self.products)
        return self._extractor

    def _entities(self, text: str) -> tuple[Entity, ...]:
        ex = self.extractor
        if ex is None:
            return ()
        try:
            return tuple(ex.extract(text))
        except Exception:  # entity extraction must never break a parse
            log.exception("entity extraction failed")
            return ()

    def parse(self, text: str, lang: Lang | None = None) -> ParseResult:
        if lang is None:
            from bot.nlu.language import detect_language

            lang = detect_language(text)
        analysis = self.analyzer.analyze(text, lang)
        X = self.featurizer.transform([analysis])
        (decision,), probs = self.classifier.decide(X)
        names = self.classifier.classes_
        p = probs[0]
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
        return ParseResult(
            text=text,
            normalized=analysis.normalized,
            lang=lang,
            intent=intent,
            ranking=tuple(ranking),
            entities=self._entities(text),
            suggestions=suggestions,
        )


def train_model(
    examples: Sequence[NluExample],
    faqs: Sequence[FaqEntry] = (),
    *,
    products: Sequence[Product] = (),
    feature_config: FeatureConfig | None = None,
    classifier_config: ClassifierConfig | None = None,
) -> NluModel:
    """Train on labeled examples plus FAQ entries (each one intent ``faq/<id>``)."""
    started = time.perf_counter()
    data = build_training_set(examples, faqs)
    if not data.texts:
        raise ValueError("no training examples")
    analyzer = TextAnalyzer(Vocabulary.builtin())
    analyses = [analyzer.analyze(t) for t in data.texts]
    featurizer = Featurizer(feature_config)
    X = featurizer.fit_transform(analyses)
    clf = IntentClassifier(classifier_config).fit(
        X, data.labels, sample_weight=data.sample_weight, knn_weight=data.knn_weight, cv_mask=data.is_question
    )
    return NluModel(analyzer, featurizer, clf, products, time.perf_counter() - started)


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
    examples = builtin_examples() + list(shop.nlu_examples)
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
