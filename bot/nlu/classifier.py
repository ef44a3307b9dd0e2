"""Intent scoring, calibration and the out-of-scope decision.

Scores: a linear SVM (one-vs-rest, class-balanced) over the TF-IDF features,
plus a nearest-neighbour term — for each intent, the best cosine similarity of
the message to that intent's examples — which carries few-shot intents (FAQ
entries with two or three questions) that a linear model underfits.

Confidence: a small logistic "meta" model turns features of the top candidate
(its score, the margin to the runner-up, its neighbour similarity, ...) into
the probability that the top candidate is right. It is fitted on
cross-validation folds of the training data in which a share of the intents is
held out entirely, so their examples play unseen, out-of-scope messages; real
``out_of_scope`` examples, when the data has them, take part as themselves.
The out-of-scope threshold on that probability, and the band in which the
NLU offers "did you mean" suggestions, are chosen on the same folds.
Nothing here ever looks at a test set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

OOS = "out_of_scope"


@dataclass
class ClassifierConfig:
    # SVM regularization; None = by data regime: few examples per intent (FAQ
    # files with 2-3 questions) need stronger regularization than benchmark-size data
    C: float | None = None
    knn_weight: float = 0.2  # weight of the neighbour similarity in the score
    folds: int = 3
    holdout_share: float = 0.2  # intents held out per fold as pseudo out-of-scope
    oos_prior: float = 0.2  # share of out-of-scope messages the threshold is tuned for
    closed_world_oos_prior: float = 0.03  # the same when the data has no out_of_scope examples
    min_threshold: float = 0.05
    max_threshold: float = 0.9
    seed: int = 13


@dataclass
class Decision:
    index: int  # class index of the top candidate
    confidence: float  # calibrated probability that the top candidate is right
    is_oos: bool  # the decision is out_of_scope
    suggest: bool  # unsure: offer suggestions


def _meta_features(scores: np.ndarray, knn: np.ndarray, lin: np.ndarray, oos_index: int) -> np.ndarray:
    """Per row: features of the top-scoring candidate."""
    n, k = scores.shape
    order = np.argsort(-scores, axis=1)
    top = order[:, 0]
    rows = np.arange(n)
    s1 = scores[rows, top]
    s2 = scores[rows, order[:, 1]] if k > 1 else np.zeros(n)
    k1 = knn[rows, top]
    kbest = knn.max(axis=1)
    l1 = lin[rows, top]
    l2 = lin[rows, order[:, 1]] if k > 1 else np.zeros(n)
    is_oos = (top == oos_index).astype(float) if oos_index >= 0 else np.zeros(n)
    return np.column_stack([s1, s1 - s2, k1, kbest, l1, l1 - l2, is_oos])


class IntentClassifier:
    """Linear + nearest-neighbour scores with a calibrated out-of-scope decision."""

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.classes_: np.ndarray = np.array([])
        self.threshold = 0.5
        self.suggest_low = 0.2
        self.suggest_high = 0.8
        self.temperature = 1.0
        self.cv_report: dict[str, float] = {}

    # -- base scorer -------------------------------------------------------
    def _fit_base(self, X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, knn_w: np.ndarray, n_classes: int):
        present = np.unique(y)
        if len(present) >= 2:
            svm = LinearSVC(C=self.C_, class_weight="balanced", dual=True, max_iter=3000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                svm.fit(X, y, sample_weight=w)
            coef = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
            inter = np.full(n_classes, -1e3, dtype=np.float32)
            cls = svm.classes_
            if len(cls) == 2:  # binary LinearSVC has one row
                coef[cls[1]] = svm.coef_[0]
                inter[cls[1]] = svm.intercept_[0]
                coef[cls[0]] = -svm.coef_[0]
                inter[cls[0]] = -svm.intercept_[0]
            else:
                coef[cls] = svm.coef_
                inter[cls] = svm.intercept_
        else:
            coef = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
            inter = np.full(n_classes, -1e3, dtype=np.float32)
            inter[present] = 0.0
        order = np.argsort(y, kind="stable")
        return {
            "coefT": sp.csr_matrix(coef.T),
            "inter": inter,
            "E": X[order].T.tocsr().astype(np.float32),  # examples, grouped by class
            "E_cls": y[order],
            "E_w": knn_w[order].astype(np.float32),
            "n_classes": n_classes,
        }

    @staticmethod
    def _base_scores(base, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        lin = (X @ base["coefT"]).toarray() + base["inter"]
        knn = np.zeros((X.shape[0], base["n_classes"]), dtype=np.float32)
        cls = base["E_cls"]
        if len(cls):
            starts = np.r_[0, np.flatnonzero(np.diff(cls)) + 1]
            for lo in range(0, X.shape[0], 512):  # bounded memory for batch scoring
                sims = (X[lo : lo + 512] @ base["E"]).toarray() * base["E_w"]
                knn[lo : lo + 512, cls[starts]] = np.maximum.reduceat(sims, starts, axis=1)
        return lin, knn

    def _combine(self, lin: np.ndarray, knn: np.ndarray) -> np.ndarray:
        return lin + self.config.knn_weight * knn

    # -- training ----------------------------------------------------------
    def fit(
        self,
        X: sp.csr_matrix,
        labels: list[str],
        sample_weight: np.ndarray | None = None,
        knn_weight: np.ndarray | None = None,
        cv_mask: np.ndarray | None = None,
    ) -> "IntentClassifier":
        """``knn_weight`` scales an example's neighbour similarity (answer texts < 1);
        ``cv_mask`` marks the rows usable as held-out CV queries (real questions)."""
        cfg = self.config
        self.classes_ = np.array(sorted(set(labels)), dtype=object)
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.array([index[c] for c in labels])
        n = len(y)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        kw = np.ones(n) if knn_weight is None else np.asarray(knn_weight, float)
        qmask = np.ones(n, bool) if cv_mask is None else np.asarray(cv_mask, bool)
        self.oos_index = index.get(OOS, -1)
        if cfg.C is not None:
            self.C_ = float(cfg.C)
        else:
            median_size = float(np.median(np.bincount(y)))
            self.C_ = float(np.clip(0.015 * median_size, 0.1, 0.5))
        self._calibrate(X, y, w, kw, qmask)
        self.base = self._fit_base(X, y, w, kw, len(self.classes_))
        return self

    def _calibrate(self, X, y, w, kw, qmask) -> None:
        cfg = self.config
        self.meta = None
        if cfg.folds < 2:
            self.threshold, self.suggest_low, self.suggest_high = 0.3, 0.15, 0.6
            return
        rng = np.random.default_rng(cfg.seed)
        k = len(self.classes_)
        n = len(y)
        fold = np.empty(n, int)
        for c in range(k):  # round-robin per class so tiny classes spread over folds
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            fold[idx] = (np.arange(len(idx)) + rng.integers(cfg.folds)) % cfg.folds
        feats, correct, unknown, top_cls, golds, rank_scores = [], [], [], [], [], []
        candidates = np.array([c for c in range(k) if c != self.oos_index])
        for f in range(cfg.folds):
            n_hold = int(round(cfg.holdout_share * len(candidates))) if len(candidates) > 2 else 0
            held = rng.choice(candidates, size=n_hold, replace=False) if n_hold else np.array([], int)
            held_mask = np.isin(y, held)
            train = (fold != f) & ~held_mask
            test = ((fold == f) | held_mask) & qmask
            if train.sum() < 2 or test.sum() == 0 or len(np.unique(y[train])) < 2:
                continue
            base = self._fit_base(X[train], y[train], w[train], kw[train], k)
            lin, knn = self._base_scores(base, X[test])
            # held-out intents cannot be predicted: mask them out of the candidates
            lin[:, held] = -1e3
            knn[:, held] = 0.0
            scores = self._combine(lin, knn)
            top = scores.argmax(axis=1)
            gold = y[test]
            unk = held_mask[test] | (gold == self.oos_index)
            ok = np.where(unk, top == self.oos_index, top == gold) if self.oos_index >= 0 else (~unk & (top == gold))
            feats.append(_meta_features(scores, knn, lin, self.oos_index))
            correct.append(ok)
            unknown.append(unk)
            top_cls.append(top)
            golds.append(gold)
            rank_scores.append(scores)
        self.meta = None
        if not feats:
            self.threshold, self.suggest_low, self.suggest_high = 0.3, 0.15, 0.6
            return
        F = np.vstack(feats)
        ok = np.concatenate(correct)
        unk = np.concatenate(unknown)
        top = np.concatenate(top_cls)
        if ok.all() or not ok.any():
            self.threshold, self.suggest_low, self.suggest_high = 0.3, 0.15, 0.6
            return
        # weight rows so unknown messages make up the configured prior
        n_unk, n_known = unk.sum(), (~unk).sum()
        # Data with no out_of_scope examples declares no out-of-scope traffic:
        # tune for a small share then, so a closed-world set is not over-rejected.
        prior = cfg.oos_prior if self.oos_index >= 0 else cfg.closed_world_oos_prior
        self.oos_prior_used = prior
        rw = np.ones(len(ok))
        if n_unk and n_known:
            rw[unk] = prior / n_unk * len(ok)
            rw[~unk] = (1 - prior) / n_known * len(ok)
        meta = LogisticRegression(C=1.0, max_iter=1000)
        meta.fit(F, ok, sample_weight=rw)
        self.meta = meta
        p = meta.predict_proba(F)[:, 1]
        top_is_oos = top == self.oos_index
        # pick the threshold maximizing weighted accuracy on the folds
        best_t, best_acc = 0.5, -1.0
        for t in np.linspace(cfg.min_threshold, cfg.max_threshold, 86):
            say_oos = top_is_oos | (p < t)
            right = np.where(unk, say_oos, ~say_oos & ok)
            acc = float((right * rw).sum() / rw.sum())
            if acc > best_acc + 1e-9:
                best_t, best_acc = float(t), acc
        self.threshold = best_t
        # suggestion band: below it, known messages are rarely right; above, rarely wrong
        known_p = p[~unk & ~top_is_oos]
        self.suggest_low = float(max(cfg.min_threshold / 2, best_t * 0.5))
        high = best_t
        for t in np.linspace(best_t, 0.99, 50):
            sel = (p >= t) & ~top_is_oos
            if sel.sum() == 0:
                break
            prec = float((ok[sel] * rw[sel]).sum() / rw[sel].sum())
            high = float(t)
            if prec >= 0.95:
                break
        self.suggest_high = max(high, best_t)
        say_oos = top_is_oos | (p < best_t)
        self.cv_report = {
            "cv_rows": float(len(ok)),
            "cv_top1": float(ok[~unk].mean()) if n_known else float("nan"),
            "cv_accuracy_weighted": best_acc,
            "cv_oos_recall": float(say_oos[unk].mean()) if n_unk else float("nan"),
            "cv_known_accepted": float((~say_oos[~unk]).mean()) if n_known else float("nan"),
            "threshold": best_t,
            "known_p_median": float(np.median(known_p)) if len(known_p) else float("nan"),
        }
        # temperature for the ranking probabilities: a simple grid on the fold scores
        S = np.vstack(rank_scores)
        g = np.concatenate(golds)
        known_rows = ~unk
        if known_rows.any():
            best_nll, best_T = np.inf, 1.0
            for T in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0):
                z = S[known_rows] / T
                z = z - z.max(axis=1, keepdims=True)
                logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
                nll = -logp[np.arange(known_rows.sum()), g[known_rows]].mean()
                if nll < best_nll:
                    best_nll, best_T = nll, T
            self.temperature = best_T

    # -- prediction --------------------------------------------------------
    def scores(self, X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lin, knn = self._base_scores(self.base, X)
        return self._combine(lin, knn), lin, knn

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        z = scores / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, X: sp.csr_matrix) -> tuple[list[Decision], np.ndarray]:
        scores, lin, knn = self.scores(X)
        top = scores.argmax(axis=1)
        if self.meta is not None:
            z = _meta_features(scores, knn, lin, self.oos_index) @ self.meta.coef_[0] + self.meta.intercept_[0]
            conf = 1.0 / (1.0 + np.exp(-z))
        else:
            conf = self.probabilities(scores).max(axis=1)
        out = []
        for i in range(len(top)):
            c = float(conf[i])
            is_oos = bool(top[i] == self.oos_index or c < self.threshold)
            suggest = self.suggest_low <= c < self.suggest_high and top[i] != self.oos_index
            out.append(Decision(int(top[i]), c, is_oos, bool(suggest)))
        return out, self.probabilities(scores)
