"""Metrics of trained and default scores, and bootstrap confidence intervals over subjects.

Craving (0-100 regression): mean absolute error (``sklearn.metrics.mean_absolute_error``) and
Spearman's rank correlation (``scipy.stats.spearmanr``).

Index (0-100 = 100 × probability of ``label:diagnosis``): ROC AUC, balanced accuracy at
probability 0.5, Brier score (``sklearn.metrics``) and the expected calibration error:

    ECE = Σ_b (n_b / N) · |mean(y in b) − mean(p in b)|

over 10 equal-width bins of the predicted probability p on [0, 1] (bin b holds
``b/10 <= p < (b+1)/10``, the last bin includes 1.0; empty bins contribute nothing).

Point estimates use ``sklearn.metrics`` and ``scipy.stats.spearmanr``. Inside the bootstrap loop
(thousands of evaluations, where sklearn's input validation costs ~5 ms per call) the same metrics
are computed by exact vectorised equivalents (:func:`fast_metric_functions`: AUC as the
Mann-Whitney rank statistic, Spearman as the Pearson correlation of average ranks);
tests check they equal the sklearn/scipy values.

Confidence intervals resample *subjects* with replacement (all rows of a drawn subject come with
it, a subject drawn twice counts twice), recompute the metric on those out-of-fold rows and take
the 2.5 and 97.5 percentiles (percentile bootstrap). Resamples where a metric is undefined (one
class only, constant predictions) are left out and counted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping

import numpy as np
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    mean_absolute_error,
    roc_auc_score,
)

__all__ = [
    "ECE_BINS",
    "MetricFn",
    "bootstrap_ci",
    "classification_metrics",
    "expected_calibration_error",
    "fast_metric_functions",
    "metric_functions",
    "regression_metrics",
]

ECE_BINS = 10

MetricFn = Callable[[np.ndarray, np.ndarray], float]


def expected_calibration_error(
    y_true: np.ndarray, prob: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """ECE with ``n_bins`` equal-width bins of the predicted probability (see module docstring)."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(prob, dtype=float)
    if y.size == 0:
        return math.nan
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() / y.size * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def _spearman(y: np.ndarray, pred: np.ndarray) -> float:
    if np.ptp(y) == 0 or np.ptp(pred) == 0:
        return math.nan
    return float(spearmanr(y, pred).statistic)


def _auc(y: np.ndarray, prob: np.ndarray) -> float:
    if np.unique(y).size < 2:
        return math.nan
    return float(roc_auc_score(y, prob))


def _balanced_accuracy(y: np.ndarray, prob: np.ndarray) -> float:
    if np.unique(y).size < 2:
        return math.nan
    return float(balanced_accuracy_score(y.astype(int), (prob >= 0.5).astype(int)))


def metric_functions(task: str) -> dict[str, MetricFn]:
    """Name → metric(y_true, prediction) for a task.

    Craving predictions are on the 0-100 scale; index predictions are probabilities 0-1.
    """
    if task == "craving":
        return {
            "mae": lambda y, p: float(mean_absolute_error(y, p)),
            "spearman": _spearman,
        }
    return {
        "roc_auc": _auc,
        "balanced_accuracy": _balanced_accuracy,
        "ece": expected_calibration_error,
        "brier": lambda y, p: float(brier_score_loss(y.astype(int), p)),
    }


def _fast_spearman(y: np.ndarray, p: np.ndarray) -> float:
    if y.size < 2 or np.ptp(y) == 0 or np.ptp(p) == 0:
        return math.nan
    return float(np.corrcoef(rankdata(y), rankdata(p))[0, 1])


def _fast_auc(y: np.ndarray, p: np.ndarray) -> float:
    positive = y == 1
    n1 = int(positive.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    return float((rankdata(p)[positive].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _fast_balanced_accuracy(y: np.ndarray, p: np.ndarray) -> float:
    positive = y == 1
    if positive.all() or not positive.any():
        return math.nan
    hit = p >= 0.5
    return float(0.5 * (hit[positive].mean() + (~hit[~positive]).mean()))


def fast_metric_functions(task: str) -> dict[str, MetricFn]:
    """The metrics of :func:`metric_functions`, computed without sklearn's per-call overhead."""
    if task == "craving":
        return {
            "mae": lambda y, p: float(np.mean(np.abs(y - p))) if y.size else math.nan,
            "spearman": _fast_spearman,
        }
    return {
        "roc_auc": _fast_auc,
        "balanced_accuracy": _fast_balanced_accuracy,
        "ece": expected_calibration_error,
        "brier": lambda y, p: float(np.mean((p - y) ** 2)) if y.size else math.nan,
    }


#: Whether a larger value of a metric is better (for "does the model beat the default").
HIGHER_IS_BETTER = {
    "mae": False,
    "spearman": True,
    "roc_auc": True,
    "balanced_accuracy": True,
    "ece": False,
    "brier": False,
}


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE and Spearman ρ of 0-100 predictions."""
    return {
        k: f(np.asarray(y, float), np.asarray(pred, float))
        for k, f in metric_functions("craving").items()
    }


def classification_metrics(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """ROC AUC, balanced accuracy, ECE and Brier of probabilities."""
    return {
        k: f(np.asarray(y, float), np.asarray(prob, float))
        for k, f in metric_functions("index").items()
    }


def bootstrap_ci(
    subjects: np.ndarray,
    y: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    metrics: Mapping[str, MetricFn],
    *,
    fast_metrics: Mapping[str, MetricFn] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, object]]:
    """Point estimate and percentile CI per (prediction, metric), resampling subjects.

    ``predictions`` maps a name (``"model"``, ``"default"``) to one prediction per row; rows where
    a prediction is NaN are left out for that prediction. When both ``"model"`` and
    ``"default"`` are given, the paired difference model − default is bootstrapped as well
    (``"difference"``), on the rows both score, with the same resampled subjects.

    Returns ``{name: {metric: {"value", "ci_low", "ci_high", "n_valid"}}}``.
    """
    subjects = np.asarray(subjects)
    y = np.asarray(y, dtype=float)
    codes, inverse = np.unique(subjects, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(codes.size)]
    preds = {k: np.asarray(v, dtype=float) for k, v in predictions.items()}
    paired = "model" in preds and "default" in preds
    both = np.isfinite(preds["model"]) & np.isfinite(preds["default"]) if paired else None

    finite = {name: np.isfinite(p) for name, p in preds.items()}

    def evaluate(idx: np.ndarray, fns: Mapping[str, MetricFn]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, p in preds.items():
                keep = idx[finite[name][idx]]
                out[name] = {
                    m: (f(y[keep], p[keep]) if keep.size else math.nan) for m, f in fns.items()
                }
            if paired:
                keep = idx[both[idx]]  # type: ignore[index]
                same = keep.size == idx.size
                out["difference"] = {
                    m: (
                        out["model"][m] - out["default"][m]
                        if same
                        else f(y[keep], preds["model"][keep]) - f(y[keep], preds["default"][keep])
                    )
                    if keep.size
                    else math.nan
                    for m, f in fns.items()
                }
        return out

    point = evaluate(np.arange(y.size), metrics)
    fast = fast_metrics or metrics
    rng = np.random.default_rng(seed)
    draws: dict[str, dict[str, list[float]]] = {n: {m: [] for m in metrics} for n in point}
    for _ in range(n_resamples):
        chosen = rng.integers(0, codes.size, codes.size)
        idx = np.concatenate([rows_of[i] for i in chosen])
        for name, values in evaluate(idx, fast).items():
            for m, v in values.items():
                draws[name][m].append(v)
    alpha = (1.0 - level) / 2.0
    result: dict[str, dict[str, object]] = {}
    for name, values in point.items():
        result[name] = {}
        for m, v in values.items():
            sample = np.asarray(draws[name][m], dtype=float)
            sample = sample[np.isfinite(sample)]
            lo, hi = (
                np.percentile(sample, [100 * alpha, 100 * (1 - alpha)])
                if sample.size
                else (math.nan, math.nan)
            )
            result[name][m] = {
                "value": v,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "n_valid": int(sample.size),
            }
    return result
