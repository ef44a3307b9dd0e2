"""Intent-classification metrics for ``sapa nlu test``.

The prediction for an example is the model's decided intent name (``faq/<id>``
for an FAQ hit, ``out_of_scope`` when nothing is confident). Out-of-scope
precision and recall treat ``out_of_scope`` as the positive class.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from bot.shopdata.model import NluExample

OOS = "out_of_scope"


@dataclass
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_precision: float | None
    oos_recall: float | None
    train_seconds: float
    parse_ms_p50: float
    parse_ms_p99: float
    confused: list[tuple[str, str, int]] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (text, gold, predicted)

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "in_scope_accuracy": self.in_scope_accuracy,
            "oos_precision": self.oos_precision,
            "oos_recall": self.oos_recall,
            "train_seconds": self.train_seconds,
            "parse_ms_p50": self.parse_ms_p50,
            "parse_ms_p99": self.parse_ms_p99,
            "confused": [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confused],
        }


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Unweighted mean F1 over the labels that occur in ``gold`` or ``pred``."""
    labels = sorted(set(gold) | set(pred))
    if not labels:
        return 0.0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    f1s = []
    for label in labels:
        denom = 2 * tp[label] + fp[label] + fn[label]
        f1s.append(2 * tp[label] / denom if denom else 0.0)
    return float(np.mean(f1s))


def compute_report(
    gold: Sequence[str],
    pred: Sequence[str],
    parse_ms: Sequence[float] = (),
    train_seconds: float = 0.0,
    texts: Sequence[str] | None = None,
) -> EvalReport:
    n = len(gold)
    if n != len(pred):
        raise ValueError("gold and predicted lengths differ")
    correct = [g == p for g, p in zip(gold, pred)]
    in_scope = [i for i, g in enumerate(gold) if g != OOS]
    has_oos = len(in_scope) < n
    oos_precision = oos_recall = None
    if has_oos:
        tp = sum(1 for g, p in zip(gold, pred) if g == OOS and p == OOS)
        said = sum(1 for p in pred if p == OOS)
        actual = n - len(in_scope)
        oos_recall = tp / actual
        oos_precision = tp / said if said else 0.0
    confused = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    ms = np.asarray(parse_ms, float)
    return EvalReport(
        n=n,
        accuracy=sum(correct) / n if n else 0.0,
        macro_f1=macro_f1(gold, pred),
        in_scope_accuracy=(sum(correct[i] for i in in_scope) / len(in_scope)) if in_scope else None,
        oos_precision=oos_precision,
        oos_recall=oos_recall,
        train_seconds=float(train_seconds),
        parse_ms_p50=float(np.percentile(ms, 50)) if len(ms) else 0.0,
        parse_ms_p99=float(np.percentile(ms, 99)) if len(ms) else 0.0,
        confused=[(g, p, c) for (g, p), c in confused.most_common(10)],
        errors=[(texts[i] if texts else "", gold[i], pred[i]) for i in range(n) if not correct[i]],
    )


def evaluate(model, examples: Sequence[NluExample]) -> EvalReport:
    """Parse every example (timing each parse) and score the decided intents."""
    gold: list[str] = []
    pred: list[str] = []
    times: list[float] = []
    for ex in examples:
        t0 = time.perf_counter()
        result = model.parse(ex.text)
        times.append((time.perf_counter() - t0) * 1000.0)
        gold.append(ex.intent)
        pred.append(result.intent.name)
    return compute_report(
        gold, pred, times, getattr(model, "train_seconds", 0.0), [ex.text for ex in examples]
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def format_report(report: EvalReport) -> str:
    lines = [
        f"examples            {report.n}",
        f"accuracy            {_pct(report.accuracy)}",
        f"macro F1            {_pct(report.macro_f1)}",
        f"in-scope accuracy   {_pct(report.in_scope_accuracy)}",
        f"out-of-scope        precision {_pct(report.oos_precision)}, recall {_pct(report.oos_recall)}",
        f"training            {report.train_seconds:.1f} s",
        f"parse time          p50 {report.parse_ms_p50:.2f} ms, p99 {report.parse_ms_p99:.2f} ms",
    ]
    if report.confused:
        lines.append("most confused (gold -> predicted):")
        width = max(len(g) for g, _, _ in report.confused)
        for g, p, c in report.confused:
            lines.append(f"  {c:4d}  {g:<{width}} -> {p}")
    return "\n".join(lines)
