"""The pretrained dense view and the single-message fast paths that carry it."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.embedding import DIM, embed
from bot.nlu.features import FeatureConfig, Featurizer, TextAnalyzer, Vocabulary
from bot.nlu.sparse import Row, stack

TRAIN = [
    "how do I top up my card",
    "add money to my account",
    "my card payment was declined",
    "why was my card rejected",
    "where is my parcel",
    "my package has not arrived",
    "ongkir ke bandung berapa kak",
    "berapa biaya kirim ke surabaya",
]


def test_embeddings_are_unit_rows_and_empty_text_is_zero():
    vectors = embed(["halo kak", "", "   ", "how do I top up"])
    assert vectors.shape == (4, DIM)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1.0, abs=1e-5)
    assert norms[3] == pytest.approx(1.0, abs=1e-5)
    assert norms[1] == 0.0
    assert np.all(np.isfinite(vectors))


def test_embeddings_put_paraphrases_closer_than_unrelated_messages():
    top_up, add_money, parcel = embed(["how do I top up my card", "add money to my card", "where is my parcel"])
    assert top_up @ add_money > top_up @ parcel + 0.1


def test_embedding_is_the_same_alone_and_in_a_batch():
    texts = ["kak, gmn cara bayar?", "<script>alert(1)</script>", "🙂🙂", "x" * 3000]
    batch = embed(texts)
    for i, text in enumerate(texts):
        np.testing.assert_allclose(embed([text])[0], batch[i], atol=1e-6)


def _featurizer(weight: float) -> tuple[Featurizer, TextAnalyzer]:
    analyzer = TextAnalyzer(Vocabulary.builtin())
    featurizer = Featurizer(FeatureConfig(embed_weight=weight))
    featurizer.fit_transform([analyzer.analyze(t) for t in TRAIN])
    return featurizer, analyzer


def test_the_dense_block_is_the_last_columns_and_only_with_a_weight():
    with_view, analyzer = _featurizer(1.0)
    without, _ = _featurizer(0.0)
    assert without.dense_from is None
    X = with_view.transform([analyzer.analyze(t) for t in TRAIN])
    assert with_view.dense_from == X.shape[1] - DIM
    dense = X[:, with_view.dense_from :].toarray()
    assert np.count_nonzero(dense, axis=1).min() > DIM // 2  # really dense, in every row
    assert X.shape[1] == without.transform([analyzer.analyze(TRAIN[0])]).shape[1] + DIM


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_the_live_fast_path_gives_the_batch_numbers(weight):
    featurizer, analyzer = _featurizer(weight)
    messages = ["top up kartu gmn kak", "parcel not arrived yet", "zzz qqq", ""]
    analyses = [analyzer.analyze(t) for t in messages]
    batch = featurizer._blocks(analyses, fit=False).toarray()
    for i, analysis in enumerate(analyses):
        row = featurizer.transform_one(analysis)
        assert isinstance(row, Row)
        assert list(row.indices) == sorted(row.indices)
        np.testing.assert_allclose(row.tocsr().toarray()[0], batch[i], atol=1e-5)


def test_rows_stack_into_one_matrix():
    rows = [
        Row(np.array([1, 4]), np.array([0.5, 0.5], np.float32), 6),
        Row(np.zeros(0, np.int64), np.zeros(0, np.float32), 6),
        Row(np.array([0]), np.array([1.0], np.float32), 6),
    ]
    M = stack(rows).toarray()
    assert M.shape == (3, 6)
    np.testing.assert_allclose(M[0], [0, 0.5, 0, 0, 0.5, 0])
    np.testing.assert_allclose(M[1], 0)
    np.testing.assert_allclose(M[2], [1, 0, 0, 0, 0, 0])


def test_classifier_scores_one_message_as_it_scores_a_batch():
    from bot.nlu.classifier import ClassifierConfig, IntentClassifier

    featurizer, analyzer = _featurizer(1.0)
    labels = ["top_up", "top_up", "card_declined", "card_declined", "parcel", "parcel", "ongkir", "ongkir"]
    X = featurizer.transform([analyzer.analyze(t) for t in TRAIN])
    clf = IntentClassifier(ClassifierConfig(folds=2)).fit(X, labels, dense_from=featurizer.dense_from)
    messages = ["please top up my card", "card got rejected", "paket belum sampai", "kirim ke bandung brp"]
    analyses = [analyzer.analyze(t) for t in messages]
    batch_scores, batch_lin, batch_knn = clf.scores(featurizer.transform(analyses))
    for i, analysis in enumerate(analyses):
        scores, lin, knn = clf.scores(featurizer.transform_one(analysis))
        np.testing.assert_allclose(lin[0], batch_lin[i], atol=1e-4)
        np.testing.assert_allclose(knn[0], batch_knn[i], atol=1e-4)
        np.testing.assert_allclose(scores[0], batch_scores[i], atol=1e-4)
    assert [clf.classes_[i] for i in batch_scores.argmax(axis=1)] == ["top_up", "card_declined", "parcel", "ongkir"]
