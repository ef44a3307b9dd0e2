"""Intent scoring, calibration and the out-of-scope decision.

Scores: a linear SVM (one-vs-rest, class-balanced) over the TF-IDF features,
plus a nearest-neighbour term — for each intent, the best cosine similarity of
the message to that intent's examples — which carries few-shot intents (FAQ
entries with two or three questions) that a linear model underfits.

Confidence: a small logistic "meta" model turns features of the top candidate
(its score, the margins to the runners-up, its neighbour similarity, the
``out_of_scope`` class's own score, the entropy of the scores, ...) into the
probability that the top candidate is right. It is fitted on cross-validation
folds of the training data in which a share of the intents is held out
entirely, so their examples play unseen, out-of-scope messages ("pseudo
out-of-scope"); real ``out_of_scope`` examples, when the data has them, take
part as themselves.

The out-of-scope threshold on that probability is chosen on the same folds:

* with ``out_of_scope`` examples in the data — the lowest threshold whose
  estimated out-of-scope recall reaches ``oos_target_recall``, so as few known
  messages as possible are rejected, but never one that costs more than
  ``max_known_loss`` of the folds' known-intent accuracy. The recall estimate
  blends the two kinds of unknown rows: held-out intents are *harder* to tell
  from the known ones than real out-of-scope traffic (they are neighbours in the
  same domain), the real examples are *easier* than new out-of-scope messages
  (the model trained on their siblings), so each counts for half;
* closed-world data (no ``out_of_scope`` examples) declares no out-of-scope
  traffic: the threshold maximizes accuracy for a small out-of-scope prior.

The "did you mean" band is chosen on the same folds. Nothing here ever looks
at a test set.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from bot.nlu.sparse import Row, row_times

T = TypeVar("T")

OOS = "out_of_scope"


def _run_parallel(tasks: list[Callable[[], T]]) -> list[T]:
    """Run the tasks on a thread per core and return their results in order."""
    workers = min(len(tasks), os.cpu_count() or 1)
    if workers <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nlu-fit") as pool:
        return list(pool.map(lambda task: task(), tasks))


@dataclass
class ClassifierConfig:
    # SVM regularization; None = by data regime, C = clip(C_per_example x the
    # median examples per intent, C_min, C_max): few examples per intent (FAQ
    # files with 2-3 questions) need stronger regularization than benchmark-size
    # data (100+ per intent, where C 0.5 -> 2 gains ~0.5 point of accuracy)
    C: float | None = None
    C_per_example: float = 0.02
    C_min: float = 0.1
    C_max: float = 2.0
    knn_weight: float = 0.2  # weight of the neighbour similarity in the score
    folds: int = 3
    holdout_share: float = 0.2  # intents held out per fold as pseudo out-of-scope
    # data with out_of_scope examples: reach this estimated out-of-scope recall ...
    oos_target_recall: float = 0.6
    # ... without losing more than this share of known-intent accuracy
    max_known_loss: float = 0.03
    real_oos_share: float = 0.5  # weight of real out_of_scope rows among the unknown CV rows
    oos_prior: float = 0.2  # share of unknown rows when fitting the meta model
    closed_world_oos_prior: float = 0.01  # threshold objective when the data has no out_of_scope examples
    min_threshold: float = 0.02
    max_threshold: float = 0.9
    entropy_temperature: float = 0.1  # softmax temperature of the entropy meta feature
    seed: int = 13


@dataclass
class Decision:
    index: int  # class index of the top candidate
    confidence: float  # calibrated probability that the top candidate is right
    is_oos: bool  # the decision is out_of_scope
    suggest: bool  # unsure: offer suggestions


def _meta_features(
    scores: np.ndarray, knn: np.ndarray, lin: np.ndarray, oos_index: int, entropy_t: float = 0.1
) -> np.ndarray:
    """Per row: features of the top-scoring candidate and of the score distribution."""
    n, k = scores.shape
    rows = np.arange(n)
    if k > 3:
        part = np.argpartition(-scores, 2, axis=1)[:, :3]
        ps = scores[rows[:, None], part]
        o = np.argsort(-ps, axis=1)
        order = part[rows[:, None], o]
    else:
        order = np.argsort(-scores, axis=1)
    top = order[:, 0]
    s1 = scores[rows, top]
    s2 = scores[rows, order[:, 1]] if k > 1 else s1 - 1.0
    s3 = scores[rows, order[:, 2]] if k > 2 else s2 - 1.0
    k1 = knn[rows, top]
    if k > 1:
        kp = np.partition(knn, k - 2, axis=1)
        kbest, ksecond = kp[:, -1], kp[:, -2]
    else:
        kbest, ksecond = knn[:, 0], np.zeros(n)
    l1 = lin[rows, top]
    l2 = lin[rows, order[:, 1]] if k > 1 else l1 - 1.0
    if oos_index >= 0:
        is_oos = (top == oos_index).astype(float)
        l_oos = lin[:, oos_index]
    else:
        is_oos = l_oos = np.zeros(n)
    z = (scores - s1[:, None]) / entropy_t
    e = np.exp(np.maximum(z, -50.0))
    sum_e = e.sum(axis=1)
    entropy = np.log(sum_e) - (e * z).sum(axis=1) / sum_e
    F = np.column_stack(
        [s1, s1 - s2, s2 - s3, k1, kbest, kbest - ksecond, l1, l1 - l2, is_oos, l_oos, l1 - l_oos, entropy]
    )
    # masked or untrained classes score -1e3: keep the features in a sane range
    return np.clip(F, -5.0, 5.0)


class IntentClassifier:
    """Linear + nearest-neighbour scores with a calibrated out-of-scope decision."""

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.classes_: np.ndarray = np.array([])
        self.threshold = 0.5
        self.suggest_low = 0.2
        self.suggest_high = 0.8
        self.temperature = 1.0
        self.cv_report: dict[str, float | str] = {}

    # -- base scorer -------------------------------------------------------
    def _fit_base(self, X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, knn_w: np.ndarray, n_classes: int):
        present = np.unique(y)
        if len(present) >= 2:
            svm = LinearSVC(C=self.C_, class_weight="balanced", dual=True, max_iter=3000, random_state=0)
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
        examples = X[order]  # grouped by class
        d = self.dense_from
        return {
            # features x classes, dense: a linear SVM's weights are non-zero for
            # every feature seen in training, so a sparse copy saves nothing
            "coef": np.ascontiguousarray(coef.T),
            "inter": inter,
            # the neighbour similarities of the dense block are a BLAS product:
            # through scipy's sparse product they cost ~20x more
            "E": (examples if d is None else examples[:, :d]).T.tocsr().astype(np.float32),
            "E_dense": None if d is None else examples[:, d:].toarray().astype(np.float32),
            "dense_from": d,
            "E_cls": y[order],
            "E_w": knn_w[order].astype(np.float32),
            "n_classes": n_classes,
        }

    @staticmethod
    def _base_scores(base, X: sp.csr_matrix | Row) -> tuple[np.ndarray, np.ndarray]:
        one = X.shape[0] == 1  # a live parse: the numpy fast path
        if one:
            lin = (X.data @ base["coef"][X.indices])[None, :] + base["inter"]
        else:
            lin = np.asarray(X @ base["coef"]) + base["inter"]
        knn = np.zeros((X.shape[0], base["n_classes"]), dtype=np.float32)
        cls = base["E_cls"]
        if len(cls):
            starts = base.get("E_starts")
            if starts is None:  # where each class's examples start; fixed after training
                starts = base["E_starts"] = np.r_[0, np.flatnonzero(np.diff(cls)) + 1]
            d, E_dense = base.get("dense_from"), base.get("E_dense")
            if one:
                idx, val = X.indices, X.data
                if d is not None:
                    tail = idx >= d
                    dense = np.zeros(E_dense.shape[1], np.float32)
                    dense[idx[tail] - d] = val[tail]
                    idx, val = idx[~tail], val[~tail]
                sims = row_times(idx, val, base["E"])
                if d is not None:
                    sims = sims + E_dense @ dense
                sims = sims[None, :] * base["E_w"]
                knn[:, cls[starts]] = np.maximum.reduceat(sims, starts, axis=1)
                return lin, knn
            X_sparse = X if d is None else X[:, :d].tocsr()
            for lo in range(0, X.shape[0], 512):  # bounded memory for batch scoring
                sims = (X_sparse[lo : lo + 512] @ base["E"]).toarray()
                if d is not None:
                    sims += X[lo : lo + 512, d:].toarray() @ E_dense.T
                sims *= base["E_w"]
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
        dense_from: int | None = None,
    ) -> "IntentClassifier":
        """``knn_weight`` scales an example's neighbour similarity (answer texts < 1);
        ``cv_mask`` marks the rows usable as held-out CV queries (real questions);
        the columns from ``dense_from`` on are a dense block (the embedding view)."""
        cfg = self.config
        self.dense_from = dense_from
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
            self.C_ = float(np.clip(cfg.C_per_example * median_size, cfg.C_min, cfg.C_max))
        k = len(self.classes_)
        plans = self._cv_plans(y, qmask) if cfg.folds >= 2 else []
        # The fold models and the final one are independent; liblinear releases
        # the GIL, so they train side by side on every core.
        jobs = [(train, False) for train, _, _ in plans] + [(np.ones(n, bool), True)]
        bases = _run_parallel(
            [lambda rows=rows: self._fit_base(X[rows], y[rows], w[rows], kw[rows], k) for rows, _ in jobs]
        )
        self.base = bases[-1]
        self._calibrate(X, y, plans, bases[:-1])
        return self

    def _defaults(self) -> None:
        self.meta = None
        self.threshold, self.suggest_low, self.suggest_high = 0.3, 0.15, 0.6

    def _cv_plans(self, y: np.ndarray, qmask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(train rows, test rows, held-out intents) per fold: a share of the
        intents is held out of each fold entirely, to play unseen messages."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        k = len(self.classes_)
        n = len(y)
        fold = np.empty(n, int)
        for c in range(k):  # round-robin per class so tiny classes spread over folds
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            fold[idx] = (np.arange(len(idx)) + rng.integers(cfg.folds)) % cfg.folds
        plans = []
        candidates = np.array([c for c in range(k) if c != self.oos_index])
        for f in range(cfg.folds):
            n_hold = int(round(cfg.holdout_share * len(candidates))) if len(candidates) > 2 else 0
            held = rng.choice(candidates, size=n_hold, replace=False) if n_hold else np.array([], int)
            held_mask = np.isin(y, held)
            train = (fold != f) & ~held_mask
            test = ((fold == f) | held_mask) & qmask
            if train.sum() < 2 or test.sum() == 0 or len(np.unique(y[train])) < 2:
                continue
            plans.append((train, test, held))
        return plans

    def _cv_rows(self, X, y, plans, bases):
        """Out-of-fold scores of each fold's test rows by that fold's model."""
        out = []
        for (train, test, held), base in zip(plans, bases):
            lin, knn = self._base_scores(base, X[test])
            # held-out intents cannot be predicted: mask them out of the candidates
            lin[:, held] = -1e3
            knn[:, held] = 0.0
            out.append((lin, knn, y[test], np.isin(y[test], held)))
        return out

    def _calibrate(self, X, y, plans, bases) -> None:
        cfg = self.config
        self._defaults()
        if not plans:
            return
        folds = self._cv_rows(X, y, plans, bases)
        if not folds:
            return
        oi = self.oos_index
        feats, correct, pseudo_l, real_l, top_l, gold_l, score_l = [], [], [], [], [], [], []
        for lin, knn, gold, held in folds:
            scores = self._combine(lin, knn)
            top = scores.argmax(axis=1)
            real = gold == oi if oi >= 0 else np.zeros(len(gold), bool)
            unk = held | real
            ok = np.where(unk, top == oi, top == gold) if oi >= 0 else (~unk & (top == gold))
            feats.append(_meta_features(scores, knn, lin, oi, cfg.entropy_temperature))
            correct.append(ok)
            pseudo_l.append(held & ~real)
            real_l.append(real)
            top_l.append(top)
            gold_l.append(gold)
            score_l.append(scores)
        F = np.vstack(feats)
        ok = np.concatenate(correct)
        pseudo = np.concatenate(pseudo_l)
        real = np.concatenate(real_l)
        unk = pseudo | real
        known = ~unk
        top = np.concatenate(top_l)
        if ok.all() or not ok.any():
            return
        n_rows = len(ok)
        # Row weights: unknown rows make up oos_prior of the total (the closed-world
        # prior when the data has no out_of_scope examples); among them real
        # out_of_scope examples count for real_oos_share.
        open_world = oi >= 0
        prior = cfg.oos_prior if open_world else cfg.closed_world_oos_prior
        self.oos_prior_used = prior
        share = cfg.real_oos_share if (real.any() and pseudo.any()) else (1.0 if real.any() else 0.0)
        rw = np.ones(n_rows)
        if unk.any() and known.any():
            rw[known] = (1 - prior) / known.sum()
            if pseudo.any():
                rw[pseudo] = prior * (1 - share) / pseudo.sum()
            if real.any():
                rw[real] = prior * share / real.sum()
            rw *= n_rows
        self.meta_mean = F.mean(axis=0)
        self.meta_scale = F.std(axis=0) + 1e-6
        Fs = (F - self.meta_mean) / self.meta_scale
        meta = LogisticRegression(C=1.0, max_iter=1000)
        meta.fit(Fs, ok, sample_weight=rw)
        self.meta = meta
        # the decision function on raw features: z = F @ coef + intercept
        self.meta_coef = meta.coef_[0] / self.meta_scale
        self.meta_intercept = float(meta.intercept_[0] - (self.meta_mean / self.meta_scale) @ meta.coef_[0])
        p = meta.predict_proba(Fs)[:, 1]
        top_is_oos = top == oi if open_world else np.zeros(n_rows, bool)

        grid = np.round(np.linspace(cfg.min_threshold, cfg.max_threshold, 89), 4)

        def right_w(say_oos: np.ndarray) -> np.ndarray:
            return np.where(unk, say_oos, ~say_oos & ok) * rw

        def curve(t: float) -> tuple[float, float, float]:
            """Known-intent accuracy, estimated out-of-scope recall, weighted accuracy."""
            say_oos = top_is_oos | (p < t)
            known_acc = float((~say_oos & ok)[known].mean()) if known.any() else 1.0
            rec_pseudo = float(say_oos[pseudo].mean()) if pseudo.any() else float("nan")
            rec_real = float(say_oos[real].mean()) if real.any() else float("nan")
            if real.any() and pseudo.any():
                rec = (1 - share) * rec_pseudo + share * rec_real
            else:
                rec = rec_real if real.any() else rec_pseudo
            return known_acc, rec, float(right_w(say_oos).sum() / rw.sum())

        points = [(float(t), *curve(t)) for t in grid]
        known_ceiling = float((~top_is_oos & ok)[known].mean()) if known.any() else 1.0
        if open_world and unk.any():
            # the lowest threshold that reaches the target recall within the known-loss budget
            allowed = [pt for pt in points if pt[1] >= known_ceiling - cfg.max_known_loss]
            reach = [pt for pt in allowed if pt[2] >= cfg.oos_target_recall]
            if reach:
                chosen = min(reach, key=lambda pt: pt[0])
            elif allowed:
                chosen = max(allowed, key=lambda pt: (pt[2], -pt[0]))
            else:
                chosen = points[0]
            rule = "target_recall"
        else:
            chosen = max(points, key=lambda pt: (pt[3], -pt[0]))  # weighted accuracy, lowest t on ties
            rule = "weighted_accuracy"
        best_t = chosen[0]
        self.threshold = best_t
        # suggestion band: below it, known messages are rarely right; above, rarely wrong
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
        known_p = p[known & ~top_is_oos]
        self.cv_report = {
            "cv_rows": float(n_rows),
            "cv_top1": float(ok[known].mean()) if known.any() else float("nan"),
            "cv_known_accuracy": chosen[1],
            "cv_known_ceiling": known_ceiling,
            "cv_oos_recall": chosen[2],
            "cv_oos_recall_pseudo": float(say_oos[pseudo].mean()) if pseudo.any() else float("nan"),
            "cv_oos_recall_real": float(say_oos[real].mean()) if real.any() else float("nan"),
            "cv_accuracy_weighted": chosen[3],
            "threshold": best_t,
            "threshold_rule": rule,
            "C": self.C_,
            "known_p_median": float(np.median(known_p)) if len(known_p) else float("nan"),
        }
        # temperature for the ranking probabilities: a simple grid on the fold scores
        S = np.vstack(score_l)
        g = np.concatenate(gold_l)
        if known.any():
            best_nll, best_T = np.inf, 1.0
            for T in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0):
                z = S[known] / T
                z = z - z.max(axis=1, keepdims=True)
                logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
                nll = -logp[np.arange(known.sum()), g[known]].mean()
                if nll < best_nll:
                    best_nll, best_T = nll, T
            self.temperature = best_T

    # -- prediction --------------------------------------------------------
    def scores(self, X: sp.csr_matrix | Row) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lin, knn = self._base_scores(self.base, X)
        return self._combine(lin, knn), lin, knn

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        z = scores / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, X: sp.csr_matrix | Row) -> tuple[list[Decision], np.ndarray]:
        scores, lin, knn = self.scores(X)
        top = scores.argmax(axis=1)
        if self.meta is not None:
            F = _meta_features(scores, knn, lin, self.oos_index, self.config.entropy_temperature)
            z = F @ self.meta_coef + self.meta_intercept
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
