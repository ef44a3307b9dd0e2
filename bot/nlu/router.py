"""Answer the FAQ's best entry, or say "I don't know": a decision learned from real customers.

The combiner (:mod:`bot.nlu.combine`) is trained per shop on what the shop's own
data can simulate: its FAQ questions left out one at a time, noisy copies of
them, the same questions with their entry removed as near misses. Real
customers' paraphrases look different from all of these, and on FAQ files the
engine had never seen the combiner turned away up to one in six questions
whose best entry was the right one, and answered near-miss questions it
should have turned away.

:class:`FaqRouter` is a small logistic model over the combiner's own
standardized features (scaled per shop, so its weights carry across shops)
that gives the probability that the FAQ's best entry is the right answer. It is
fitted on held-back customer paraphrases of several shops' FAQ files
(``bench/data``) by ``bench/train_faq_router.py``, which also measures it
leave-one-shop-out: each shop's figure comes from a router that never saw that
shop. The weights ship in ``resources/faq_router.json``; refit them whenever
the combiner's features or training change (the file records the feature
names and is not used when they no longer match).

Only the choice between the FAQ and out_of_scope goes through the router;
whether stage A's intent (a greeting, an order-status check) wins stays the
combiner's decision. And only for FAQ files with few questions per entry, the
kind the router was fitted on and the kind shop admins write: with eight or
nine questions an entry, as in the demo shop, the shop's own combiner has
enough to learn from (leave-one-shop-out on the demo: 0.755 with the router,
0.799 without).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

RESOURCE = "resources/faq_router.json"
# Above this probability the best entry is answered (or offered, see the model's
# "did you mean" band); not tuned: the logistic model's own even odds.
THRESHOLD = 0.5
# The router is used for FAQ files with at most this many questions per entry on
# average (the shops it was fitted on have 2-3; the demo shop has 8-9).
MAX_QUESTIONS_PER_ENTRY = 4.0


@dataclass(frozen=True)
class FaqRouter:
    """P(the FAQ's best entry is the right answer) from the combiner's standardized features."""

    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float
    threshold: float = THRESHOLD

    def probability(self, z: np.ndarray) -> float:
        """``z``: one message's standardized combiner features, in :attr:`features` order."""
        return float(1.0 / (1.0 + np.exp(-(float(z @ self.coef) + self.intercept))))

    @classmethod
    def fit(cls, Z: np.ndarray, right: np.ndarray, features: Sequence[str], C: float = 1.0) -> "FaqRouter":
        """Fit on rows ``Z`` labeled ``right`` (1: the best entry was the right answer)."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=C, max_iter=5000).fit(Z, right)
        return cls(tuple(features), lr.coef_[0].astype(np.float64), float(lr.intercept_[0]))

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(self.features),
                "coef": [round(float(c), 6) for c in self.coef],
                "intercept": round(self.intercept, 6),
                "threshold": self.threshold,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> "FaqRouter":
        data = json.loads(text)
        return cls(
            tuple(data["features"]),
            np.array(data["coef"], dtype=np.float64),
            float(data["intercept"]),
            float(data.get("threshold", THRESHOLD)),
        )


def applies(questions: int, entries: int) -> bool:
    """Whether an FAQ of ``entries`` entries with ``questions`` questions in all gets the router."""
    return entries > 0 and questions / entries <= MAX_QUESTIONS_PER_ENTRY


def shipped_router(features: Sequence[str]) -> FaqRouter | None:
    """The router in ``resources/faq_router.json`` if it was fitted on ``features``."""
    try:
        text = resources.files("bot.nlu").joinpath(RESOURCE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    router = FaqRouter.from_json(text)
    if router.features != tuple(features):
        log.warning("%s was fitted on other features; refit it with bench/train_faq_router.py", RESOURCE)
        return None
    return router
