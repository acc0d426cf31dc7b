"""The transparent index as a scikit-learn-compatible estimator.

``X`` holds one row per session (or per hop) and one column per model feature: the *change* of the
feature (a log ratio for positive features, a difference for log-scale features) against the
reference block. Missing features are NaN; their weight is left out and the others renormalised.
Weights come from the model definition, so :meth:`fit` learns nothing: it only checks ``X``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = ["TransparentIndex"]


class TransparentIndex(RegressorMixin, BaseEstimator):
    """Weighted, direction-signed, reference-scaled changes mapped to 0-100 by a logistic.

    Parameters
    ----------
    directions, weights, reference_changes : sequence of float, one per column of ``X``
    gain, midpoint : the logistic 100 / (1 + exp(-gain · (s - midpoint))) applied to the score s
    """

    def __init__(
        self,
        directions: tuple[float, ...] = (1.0,),
        weights: tuple[float, ...] = (1.0,),
        reference_changes: tuple[float, ...] = (1.0,),
        gain: float = 4.0,
        midpoint: float = 0.5,
    ) -> None:
        self.directions = directions
        self.weights = weights
        self.reference_changes = reference_changes
        self.gain = gain
        self.midpoint = midpoint

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> TransparentIndex:
        """Check ``X`` and the parameters; the weights are fixed by the model definition."""
        X = validate_data(self, X, ensure_all_finite="allow-nan", reset=True)
        n = X.shape[1]
        for name in ("directions", "weights", "reference_changes"):
            values = np.asarray(getattr(self, name), dtype=float)
            if values.shape != (n,):
                raise ValueError(f"{name} has {values.size} values; X has {n} columns")
        if np.any(np.asarray(self.weights, dtype=float) < 0):
            raise ValueError("weights must be >= 0")
        if np.any(np.asarray(self.reference_changes, dtype=float) <= 0):
            raise ValueError("reference_changes must be > 0")
        self.coef_ = (
            np.asarray(self.directions, float)
            * np.asarray(self.weights, float)
            / np.asarray(self.reference_changes, float)
        )
        return self

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """The weighted mean score s per row (NaN when no weighted feature is present)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, ensure_all_finite="allow-nan", reset=False)
        weights = np.asarray(self.weights, float)
        present = ~np.isnan(X)
        total = (present * weights).sum(axis=1)
        s = np.nansum(X * self.coef_, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, s / total, np.nan)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index 0-100 per row (NaN when no weighted feature is present)."""
        return self._squash(self.score_samples(X))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Points each feature adds to the index above its value at s = 0 (rows sum to that gap)."""
        X = check_array(X, ensure_all_finite="allow-nan")
        s = self.score_samples(X)
        weights = np.asarray(self.weights, float)
        total = (~np.isnan(X) * weights).sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            parts = np.where(np.isnan(X), 0.0, X * self.coef_) / total
            gap = (self._squash(s) - self._squash(np.zeros_like(s)))[:, None]
            share = np.where(s[:, None] != 0, parts / s[:, None], 0.0)
        return share * gap

    def baseline_value(self) -> float:
        """The index when every change is zero."""
        return float(self._squash(np.zeros(1))[0])

    def _squash(self, s: np.ndarray) -> np.ndarray:
        return 100.0 / (1.0 + np.exp(-self.gain * (s - self.midpoint)))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags
