"""Per-score feature contributions of trained models.

Linear pipelines (``ridge``, ``logistic``) are explained exactly: contribution of feature j =
coefficient_j × (scaled value_j − scaled training mean_j), where the scaled training mean is 0 by
construction of ``StandardScaler``. In the score's own units:

* craving (ridge): craving points before clipping; base = intercept; base + Σ contributions = the
  prediction;
* index (logistic, Platt-calibrated): log-odds of the calibrated probability; the sigmoid
  calibrator is linear in the decision value (p = 1 / (1 + exp(a·f + b))), so contribution_j =
  −a · coef_j · z_j and base = −a · intercept − b; base + Σ contributions = logit(index / 100).

Other models (random forest, gradient boosting) use **occlusion** by default: the contribution
of feature j is score(x) − score(x with feature j set to its training median), in 0-100 score
points; base = the score with every feature at its median. Occlusion is deterministic, needs no
extra dependency and costs one prediction per feature, so it can run per score in a live session.
Contributions of occlusion are not additive when features interact.

``method="shap"`` uses ``shap.PermutationExplainer`` with an independent masker on a small
background sample (additive Shapley values in score points, base + Σ = score). shap 0.51 installs
and runs offline, but importing it and JIT-compiling its numba kernels costs ~10 s per process
(measured), too slow for per-score use; it is therefore optional (``pip install shap``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from addiction_index.errors import AddictionIndexError, InputError
from addiction_index.models._training import predict_score

__all__ = ["Explanation", "decision_value", "explain", "feature_label", "linear_contributions"]


@dataclass
class Explanation:
    """One score and the features that moved it most."""

    score: float
    units: str
    method: str
    base: float
    contributions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "units": self.units,
            "method": self.method,
            "base": self.base,
            "contributions": self.contributions,
        }


@functools.cache
def _default_labels() -> dict[str, str]:
    try:
        from addiction_index.models._definition import load_model_definition

        return {f.name: f.label for f in load_model_definition("default-index").features}
    except AddictionIndexError:  # the label is cosmetic: never fail an explanation for it
        return {}


def feature_label(column: str) -> str:
    """Human label of a feature column (``delta:hrv_rmssd_ms`` → "change of RMSSD ...")."""
    prefix, _, name = column.rpartition(":")
    base = _default_labels().get(name, name)
    if prefix == "delta":
        return f"change of {base} from baseline"
    if prefix == "cue":
        return f"drug-cue vs neutral change of {base}"
    return base


def _unwrap(estimator: Any) -> tuple[Pipeline, Any | None]:
    """The pipeline inside an estimator, and the sigmoid calibrator if any."""
    if isinstance(estimator, CalibratedClassifierCV):
        if len(estimator.calibrated_classifiers_) != 1:
            raise InputError("estimator", "ensemble calibration", "ensemble=False calibration")
        inner = estimator.calibrated_classifiers_[0]
        return inner.estimator, inner.calibrators[0]
    if not isinstance(estimator, Pipeline):
        raise InputError("estimator", type(estimator).__name__, "a fitted Pipeline")
    return estimator, None


def linear_contributions(estimator: Any, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """(contributions rows × features, base per row, units) of a linear pipeline (module doc)."""
    pipe, calibrator = _unwrap(estimator)
    final = pipe[-1]
    if not isinstance(final, Ridge | LogisticRegression):
        raise InputError("estimator", type(final).__name__, "Ridge or LogisticRegression")
    z = np.asarray(pipe[:-1].transform(X), dtype=float)
    scaled_mean = np.zeros(z.shape[1])  # StandardScaler centres the training data on 0
    coef = np.ravel(final.coef_)
    intercept = float(np.ravel(final.intercept_)[0])
    parts = coef * (z - scaled_mean)
    if calibrator is None and isinstance(final, Ridge):
        return parts, np.full(len(z), intercept), "craving points (before clipping to 0-100)"
    if calibrator is not None:
        a, b = float(calibrator.a_), float(calibrator.b_)
        return -a * parts, np.full(len(z), -a * intercept - b), "log-odds of the index"
    return parts, np.full(len(z), intercept), "log-odds of the index"


def _occlusion(estimator: Any, task: str, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pipe, _ = _unwrap(estimator)
    medians = pd.Series(pipe.named_steps["impute"].statistics_, index=pipe.feature_names_in_)
    score = predict_score(estimator, task, X)
    parts = np.empty(X.shape)
    for j, column in enumerate(X.columns):
        moved = X.copy()
        moved[column] = medians[column]
        parts[:, j] = score - predict_score(estimator, task, moved)
    at_median = pd.DataFrame([medians[X.columns].to_numpy()], columns=X.columns)
    base = float(predict_score(estimator, task, at_median)[0])
    return parts, np.full(len(X), base)


def _shap(
    estimator: Any, task: str, X: pd.DataFrame, background: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    try:
        import shap
    except ImportError:
        raise InputError("method", "shap", "occlusion (shap is not installed)") from None
    pipe, _ = _unwrap(estimator)
    if background is None:
        raise InputError("background", None, "a sample of training rows for method='shap'")
    medians = pipe.named_steps["impute"].statistics_
    bg = background[X.columns].to_numpy(float)
    bg = np.where(np.isnan(bg), medians, bg)[:50]

    def score(values: np.ndarray) -> np.ndarray:
        return predict_score(estimator, task, pd.DataFrame(values, columns=X.columns))

    explainer = shap.PermutationExplainer(score, shap.maskers.Independent(bg))
    result = explainer(X.to_numpy(float), silent=True)
    return np.asarray(result.values), np.asarray(result.base_values, dtype=float)


def explain(
    estimator: Any,
    X: pd.DataFrame,
    task: str,
    *,
    top_k: int = 5,
    method: str = "auto",
    background: pd.DataFrame | None = None,
) -> list[Explanation]:
    """Top-``top_k`` signed feature contributions of every row's score.

    ``method``: ``"auto"`` (exact linear decomposition when possible, else occlusion),
    ``"linear"``, ``"occlusion"`` or ``"shap"``.
    """
    if method not in ("auto", "linear", "occlusion", "shap"):
        raise InputError("method", method, "auto, linear, occlusion or shap")
    pipe, _ = _unwrap(estimator)
    X = X.reindex(columns=list(pipe.feature_names_in_)).astype(float)
    linear = isinstance(pipe[-1], Ridge | LogisticRegression)
    if method == "auto":
        method = "linear" if linear else "occlusion"
    if method == "linear":
        parts, base, units = linear_contributions(estimator, X)
    elif method == "occlusion":
        parts, base = _occlusion(estimator, task, X)
        units = f"{task} score points (0-100)"
    else:
        parts, base = _shap(estimator, task, X, background)
        units = f"{task} score points (0-100)"
    scores = predict_score(estimator, task, X)
    out = []
    for i in range(len(X)):
        order = np.argsort(-np.abs(parts[i]))[:top_k]
        out.append(
            Explanation(
                score=float(scores[i]),
                units=units,
                method=method,
                base=float(base[i]),
                contributions=[
                    {
                        "feature": X.columns[j],
                        "label": feature_label(X.columns[j]),
                        "value": None if math.isnan(X.iat[i, j]) else float(X.iat[i, j]),
                        "contribution": float(parts[i, j]),
                    }
                    for j in order
                ],
            )
        )
    return out


def decision_value(estimator: Any, task: str, X: pd.DataFrame) -> np.ndarray:
    """The value linear contributions add up to: raw prediction, or logit of the index."""
    if task == "craving":
        return np.asarray(estimator.predict(X), dtype=float)
    return logit(np.asarray(estimator.predict_proba(X), dtype=float)[:, 1])
