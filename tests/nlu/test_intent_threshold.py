"""IntentClassifier's out-of-scope threshold, chosen on training folds only.

Synthetic intents: each has its own small vocabulary; out-of-scope messages
use words no intent has."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.classifier import OOS, ClassifierConfig, IntentClassifier
from bot.nlu.features import Featurizer, TextAnalyzer, Vocabulary

N_INTENTS = 20
WORDS = 8


def _word(i: int, j: int) -> str:
    # letters only, so every intent's words differ in their character n-grams too
    alphabet = "bcdfghjklmnpqrstvwxz"
    return alphabet[i % 20] + "a" + alphabet[j % 20] + "o" + alphabet[(i * 7 + j) % 20] + "u"


def _message(rng: np.random.Generator, intent: int | None) -> str:
    if intent is None:  # out of scope: words of no intent
        words = [_word(N_INTENTS + int(rng.integers(40)), int(rng.integers(WORDS))) + "e" for _ in range(4)]
    else:
        words = [_word(intent, int(j)) for j in rng.choice(WORDS, size=4, replace=False)]
    return " ".join(words)


def _data(rng: np.random.Generator, per_intent: int, n_oos: int) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for i in range(N_INTENTS):
        for _ in range(per_intent):
            texts.append(_message(rng, i))
            labels.append(f"intent_{i}")
    for _ in range(n_oos):
        texts.append(_message(rng, None))
        labels.append(OOS)
    return texts, labels


@pytest.fixture(scope="module")
def featurizer_and_data():
    rng = np.random.default_rng(0)
    texts, labels = _data(rng, per_intent=25, n_oos=40)
    analyzer = TextAnalyzer(Vocabulary())
    featurizer = Featurizer()
    X = featurizer.fit_transform([analyzer.analyze(t, "en") for t in texts])
    test_known = [(_message(rng, i % N_INTENTS), f"intent_{i % N_INTENTS}") for i in range(200)]
    test_oos = [_message(rng, None) for _ in range(100)]

    def transform(batch: list[str]):
        return featurizer.transform([analyzer.analyze(t, "en") for t in batch])

    return X, labels, transform, test_known, test_oos


def _rates(clf: IntentClassifier, transform, test_known, test_oos) -> tuple[float, float]:
    decisions, probs = clf.decide(transform([t for t, _ in test_known]))
    assert probs.shape == (len(test_known), len(clf.classes_))
    right = [not d.is_oos and clf.classes_[d.index] == gold for d, (_, gold) in zip(decisions, test_known)]
    decisions, _ = clf.decide(transform(test_oos))
    rejected = [d.is_oos for d in decisions]
    return float(np.mean(right)), float(np.mean(rejected))


def test_open_world_threshold_reaches_target_recall(featurizer_and_data) -> None:
    X, labels, transform, test_known, test_oos = featurizer_and_data
    clf = IntentClassifier().fit(X, labels)
    report = clf.cv_report
    assert report["threshold_rule"] == "target_recall"
    # the chosen threshold meets the recall target on the folds, or else spends the whole known-loss budget
    cfg = clf.config
    assert (
        report["cv_oos_recall"] >= cfg.oos_target_recall
        or report["cv_known_accuracy"] < report["cv_known_ceiling"] - cfg.max_known_loss + 0.02
    )
    assert report["cv_known_accuracy"] >= report["cv_known_ceiling"] - cfg.max_known_loss - 1e-9
    known_acc, oos_recall = _rates(clf, transform, test_known, test_oos)
    assert known_acc >= 0.9
    assert oos_recall >= 0.6


def test_closed_world_rejects_little(featurizer_and_data) -> None:
    X, labels, transform, test_known, _ = featurizer_and_data
    keep = [i for i, label in enumerate(labels) if label != OOS]
    clf = IntentClassifier().fit(X[keep], [labels[i] for i in keep])
    assert OOS not in clf.classes_
    assert clf.cv_report["threshold_rule"] == "weighted_accuracy"
    decisions, _ = clf.decide(transform([t for t, _ in test_known]))
    assert np.mean([d.is_oos for d in decisions]) <= 0.05


def test_training_is_deterministic(featurizer_and_data) -> None:
    X, labels, transform, test_known, test_oos = featurizer_and_data
    a = IntentClassifier().fit(X, labels)
    b = IntentClassifier().fit(X, labels)
    assert a.threshold == b.threshold
    Xq = transform([t for t, _ in test_known[:20]] + test_oos[:20])
    ca = [d.confidence for d in a.decide(Xq)[0]]
    cb = [d.confidence for d in b.decide(Xq)[0]]
    assert ca == pytest.approx(cb)


def test_regularization_follows_examples_per_intent(featurizer_and_data) -> None:
    X, labels, *_ = featurizer_and_data
    cfg = ClassifierConfig()
    clf = IntentClassifier(cfg).fit(X, labels)
    assert clf.C_ == pytest.approx(np.clip(cfg.C_per_example * 25, cfg.C_min, cfg.C_max))
    assert IntentClassifier(ClassifierConfig(C=0.7)).fit(X, labels).C_ == 0.7


def test_fit_accepts_weights_and_cv_mask(featurizer_and_data) -> None:
    X, labels, transform, test_known, _ = featurizer_and_data
    n = len(labels)
    mask = np.ones(n, bool)
    mask[::5] = False  # e.g. FAQ answers: trained on, never CV queries
    clf = IntentClassifier().fit(
        X, labels, sample_weight=np.full(n, 0.8), knn_weight=np.full(n, 0.9), cv_mask=mask
    )
    decisions, _ = clf.decide(transform([test_known[0][0]]))
    assert 0.0 <= decisions[0].confidence <= 1.0
    assert clf.suggest_low <= clf.suggest_high


def test_tiny_data_still_trains() -> None:
    analyzer = TextAnalyzer(Vocabulary())
    texts = ["halo", "hai kak", "makasih", "terima kasih", "bye", "dadah", "cuaca hari ini", "siapa presiden"]
    labels = ["greet", "greet", "thanks", "thanks", "goodbye", "goodbye", OOS, OOS]
    featurizer = Featurizer()
    X = featurizer.fit_transform([analyzer.analyze(t, "id") for t in texts])
    clf = IntentClassifier().fit(X, labels)
    decisions, probs = clf.decide(featurizer.transform([analyzer.analyze("halo kak", "id")]))
    assert clf.classes_[decisions[0].index] == "greet"
    assert probs.shape == (1, 4)
