"""The decision on top of the two NLU stages: FAQ answer, intent, or out of scope.

Stage A (:class:`bot.nlu.classifier.IntentClassifier`) knows the dialogue and
task intents (greet, deny, order_status, ...) and ``out_of_scope``; stage B
(:class:`bot.nlu.faq_index.FaqIndex`) ranks the shop's FAQ entries. Neither
alone can say whether "bisa bayar pakai gopay ga kak?" is a ``deny``, a
``payment_confirmation`` or the FAQ entry on payment methods. :class:`Combiner`
is a small multinomial logistic model over features of both stages (the FAQ
top score and margin, how much of the message the top entry covers, stage A's
calibrated confidence and whether its top intent is a short dialogue act, the
message length, ...) that decides between three routes: ``faq`` (answer the
FAQ top-1), ``intent`` (stage A's intent) and ``oos``.

It is trained on cross-validated predictions from the training data only (see
:func:`bot.nlu.model.train_model`): FAQ questions as leave-one-out queries,
the same questions with their whole entry left out of the index as
near-domain out-of-scope messages, and stage A's examples through
cross-validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.nlu.faq_index import PAIR_FEATURES

ROUTES = ("faq", "intent", "oos")
FAQ, INTENT, OOS_ROUTE = 0, 1, 2
# Short dialogue acts: they often share words with questions ("bisa ... ga?").
DIALOGUE_ACTS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "cancel"})
OOS = "out_of_scope"
# Stage A's pooled class of all FAQ questions: "looks like a question to this shop's FAQ".
FAQ_CLASS = "faq/*"

# Stage-A features left out of the model: on held-out shops they made the
# combiner trust stage A's intents over good FAQ matches (see bench/nlu_faq.py).
DROP_FEATURES: frozenset[str] = frozenset(
    {"a_conf", "a_is_oos", "a_top_p", "a_top_faq", "a_task", "s1_x_task", "s1_x_a_oos"}
)
FEATURE_NAMES = (
    ("faq_s1", "faq_margin")
    + tuple(f"faq_top_{f}" for f in PAIR_FEATURES)
    + ("faq_best_q_char", "unknown_share", "log_len")
    + ("a_conf", "a_is_oos", "a_dialogue", "a_task", "a_p_oos", "a_top_p", "a_p_faq", "a_top_faq")
    + ("s1_x_dialogue", "s1_x_task", "s1_x_a_oos", "len_x_dialogue", "conf_x_dialogue")
)


@dataclass
class StageAView:
    """What the combiner needs from stage A for one message."""

    conf: float  # calibrated confidence of the top candidate
    is_oos: bool  # stage A's decision is out_of_scope
    top: str  # stage A's top intent name
    p_oos: float  # probability of the out_of_scope class (0 if not trained)
    top_p: float  # softmax probability of the top intent
    p_faq: float = 0.0  # probability of the pooled FAQ class


def combiner_features(
    faq_scores: np.ndarray,  # (n, n_entries) ranking scores
    faq_feats: np.ndarray,  # (n, n_entries, n_pair_features)
    unknown_share: np.ndarray,  # (n,)
    n_tokens: np.ndarray,  # (n,)
    stage_a: list[StageAView],
) -> np.ndarray:
    n = faq_scores.shape[0]
    rows = np.arange(n)
    if faq_scores.shape[1] >= 2:
        part = np.argpartition(-faq_scores, 1, axis=1)[:, :2]
        s_a = faq_scores[rows, part[:, 0]]
        s_b = faq_scores[rows, part[:, 1]]
        top = np.where(s_a >= s_b, part[:, 0], part[:, 1])
        s1 = np.maximum(s_a, s_b)
        s2 = np.minimum(s_a, s_b)
    else:
        top = np.zeros(n, int)
        s1 = faq_scores[:, 0]
        s2 = np.zeros(n)
    top_f = faq_feats[rows, top, :]
    best_q_char = faq_feats[:, :, 0].max(axis=1)
    a_conf = np.array([a.conf for a in stage_a])
    a_oos = np.array([float(a.is_oos or a.top == OOS) for a in stage_a])
    a_dia = np.array([float(a.top in DIALOGUE_ACTS and not a.is_oos) for a in stage_a])
    a_task = np.array(
        [float(a.top not in DIALOGUE_ACTS and a.top not in (OOS, FAQ_CLASS) and not a.is_oos) for a in stage_a]
    )
    a_p_faq = np.array([a.p_faq for a in stage_a])
    a_top_faq = np.array([float(a.top == FAQ_CLASS) for a in stage_a])
    a_p_oos = np.array([a.p_oos for a in stage_a])
    a_top_p = np.array([a.top_p for a in stage_a])
    return np.column_stack(
        [s1, s1 - s2, top_f, best_q_char, unknown_share, np.log1p(n_tokens)]
        + [a_conf, a_oos, a_dia, a_task, a_p_oos, a_top_p, a_p_faq, a_top_faq]
        + [s1 * a_dia * a_conf, s1 * a_task * a_conf, s1 * a_oos, np.log1p(n_tokens) * a_dia, a_conf * a_dia]
    ).astype(np.float64)


class Combiner:
    """Multinomial logistic decision between the FAQ top-1, stage A and out_of_scope."""

    def __init__(self, C: float = 1.0, kind: str = "lr") -> None:
        self.C = C
        self.kind = kind
        self.model: LogisticRegression | None = None
        self.classes_: np.ndarray = np.array([], int)
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: np.ndarray, route: np.ndarray, weight: np.ndarray) -> "Combiner":
        if self.kind == "rule":
            self.classes_ = np.arange(len(ROUTES))
            return self
        self.mask_ = np.array([f not in DROP_FEATURES for f in FEATURE_NAMES])
        X = X[:, self.mask_]
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-6
        Z = (X - self.mean_) / self.scale_
        present = np.unique(route)
        if len(present) < 2:
            self.model = None
            self.classes_ = present
            return self
        if self.kind == "hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier
            self.model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=10, l2_regularization=1.0)
            self.model.fit(Z, route, sample_weight=weight)
            self.classes_ = self.model.classes_
            return self
        self.model = LogisticRegression(C=self.C, max_iter=3000)
        self.model.fit(Z, route, sample_weight=weight)
        self.classes_ = self.model.classes_
        # raw coefficients for a fast single-row path
        self._coef = self.model.coef_
        self._inter = self.model.intercept_
        return self

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the features the learned model uses, in :meth:`standardized` order."""
        mask = getattr(self, "mask_", None)
        return tuple(n for n, keep in zip(FEATURE_NAMES, mask) if keep) if mask is not None else ()

    def standardized(self, X: np.ndarray) -> np.ndarray:
        """The used features of ``X`` scaled as in training (for :mod:`bot.nlu.router`)."""
        return (X[:, self.mask_] - self.mean_) / self.scale_

    def proba(self, X: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of the routes faq, intent, oos."""
        if self.kind == "rule":
            return rule_proba(X)
        out = np.zeros((X.shape[0], len(ROUTES)))
        X = X[:, self.mask_]
        if self.model is None:
            if len(self.classes_):
                out[:, self.classes_[0]] = 1.0
            return out
        Z = (X - self.mean_) / self.scale_
        if self.kind == "hgb":
            out[:, self.classes_] = self.model.predict_proba(Z)
            return out
        if len(self.classes_) == 2:
            z = Z @ self._coef[0] + self._inter[0]
            p1 = 1.0 / (1.0 + np.exp(-z))
            out[:, self.classes_[1]] = p1
            out[:, self.classes_[0]] = 1.0 - p1
        else:
            z = Z @ self._coef.T + self._inter
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            out[:, self.classes_] = e / e.sum(axis=1, keepdims=True)
        return out


def rule_proba(X: np.ndarray) -> np.ndarray:
    """The fixed decision for data too small to learn one: stage A's intent when
    it is confident of one; else the FAQ top-1 when the entry covers enough of
    the message's words; else out_of_scope."""
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    cover = X[:, col["faq_top_cover"]]
    unknown = X[:, col["unknown_share"]]
    margin = X[:, col["faq_margin"]]
    a_real = X[:, col["a_dialogue"]] + X[:, col["a_task"]]
    a_conf = X[:, col["a_conf"]]
    faq_ev = np.clip(0.5 + 1.5 * (cover - 0.3) - 0.5 * np.maximum(unknown - 0.5, 0) + 0.1 * np.minimum(margin, 1.0), 0.0, 1.0)
    intent_ev = a_real * a_conf * (1.0 - 0.5 * faq_ev)
    out = np.zeros((X.shape[0], len(ROUTES)))
    out[:, FAQ] = faq_ev * (1.0 - intent_ev)
    out[:, INTENT] = intent_ev
    out[:, OOS_ROUTE] = np.clip(1.0 - out[:, FAQ] - out[:, INTENT], 0.0, 1.0)
    return out
