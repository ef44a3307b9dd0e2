"""Evaluation metrics, checked against hand-computed figures."""

from __future__ import annotations

import json

import pytest

from bot.nlu.evaluate import compute_report, evaluate, format_report, macro_f1
from bot.shopdata.model import NluExample
from bot.types import IntentScore, ParseResult


class FixedModel:
    """Predicts from a lookup table; stands in for a trained model."""

    train_seconds = 1.5

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def parse(self, text: str, lang=None) -> ParseResult:
        name = self.answers[text]
        score = IntentScore(name, 0.9)
        return ParseResult(text=text, normalized=text, lang="id", intent=score, ranking=(score,))


GOLD_PRED = [
    ("a1", "a", "a"),
    ("a2", "a", "a"),
    ("a3", "a", "b"),
    ("b1", "b", "b"),
    ("o1", "out_of_scope", "out_of_scope"),
    ("o2", "out_of_scope", "a"),
    ("b2", "b", "out_of_scope"),
    ("f1", "faq/x", "faq/x"),
]


def test_metrics_on_a_tiny_hand_computed_example() -> None:
    examples = [NluExample(text=t, intent=g) for t, g, _ in GOLD_PRED]
    model = FixedModel({t: p for t, _, p in GOLD_PRED})
    report = evaluate(model, examples)
    assert report.n == 8
    assert report.accuracy == pytest.approx(5 / 8)
    # in scope: a1 a2 a3 b1 b2 f1 -> right: a1 a2 b1 f1
    assert report.in_scope_accuracy == pytest.approx(4 / 6)
    # OOS positive: predicted OOS = o1, b2 (1 right); actual OOS = o1, o2
    assert report.oos_precision == pytest.approx(1 / 2)
    assert report.oos_recall == pytest.approx(1 / 2)
    # per-label F1: a: tp2 fp1 fn1 -> 4/6; b: tp1 fp1 fn1 -> 2/4;
    # oos: tp1 fp1 fn1 -> 2/4; faq/x: 1
    assert report.macro_f1 == pytest.approx((4 / 6 + 0.5 + 0.5 + 1.0) / 4)
    assert report.train_seconds == 1.5
    assert report.parse_ms_p50 >= 0 and report.parse_ms_p99 >= report.parse_ms_p50
    assert sorted(report.confused) == sorted(
        [("a", "b", 1), ("out_of_scope", "a", 1), ("b", "out_of_scope", 1)]
    )

    body = report.as_json()
    json.dumps(body)
    for key in (
        "n", "accuracy", "macro_f1", "in_scope_accuracy", "oos_precision", "oos_recall",
        "train_seconds", "parse_ms_p50", "parse_ms_p99",
    ):
        assert key in body
    text = format_report(report)
    assert "62.5%" in text and "out-of-scope" in text


def test_oos_figures_are_none_without_oos_examples() -> None:
    report = compute_report(["a", "b", "b"], ["a", "b", "out_of_scope"])
    assert report.oos_precision is None and report.oos_recall is None
    assert report.in_scope_accuracy == pytest.approx(2 / 3)
    assert report.as_json()["oos_recall"] is None
    assert "n/a" in format_report(report)


def test_macro_f1_perfect_and_empty() -> None:
    assert macro_f1(["a", "b"], ["a", "b"]) == 1.0
    assert macro_f1([], []) == 0.0
