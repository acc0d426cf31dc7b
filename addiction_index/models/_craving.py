"""The live craving score: each hop's features relative to the person's own baseline block."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from addiction_index.models._definition import ModelDefinition
from addiction_index.models._session_index import usable_mask
from addiction_index.models._transparent import TransparentIndex

__all__ = ["CravingEstimate", "LiveCraving"]


@dataclass(frozen=True, slots=True)
class CravingEstimate:
    """A live craving score 0-100 and the share of the model's weight it rests on (0-1)."""

    value: float | None
    confidence: float
    usable: bool


class LiveCraving:
    """Scores hops once the baseline block is over; before that it reports no value."""

    def __init__(self, definition: ModelDefinition) -> None:
        self.definition = definition
        self.features = definition.weighted_features
        est = TransparentIndex(
            tuple(f.direction for f in self.features),
            tuple(f.weight for f in self.features),
            tuple(f.reference_change for f in self.features),
            definition.craving.gain,
            definition.craving.midpoint,
        )
        self._estimator = est.fit(np.zeros((1, len(self.features))))
        self._weights = np.array([f.weight for f in self.features])
        self._reference: np.ndarray | None = None
        self._row = np.empty((1, len(self.features)))

    @property
    def ready(self) -> bool:
        return self._reference is not None

    def set_baseline(self, hop_features: dict[str, np.ndarray], hop_mask: np.ndarray) -> list[str]:
        """Use the mean of the baseline hops (``hop_mask``) as reference.

        Returns the names of the features that have no usable reference.
        """
        reference, missing = [], []
        for f in self.features:
            if f.name not in hop_features:  # a stream this session does not have
                missing.append(f.name)
                reference.append(math.nan)
                continue
            usable = usable_mask(f.name, hop_features) & hop_mask
            value = float(hop_features[f.name][usable].mean()) if usable.any() else math.nan
            if not math.isfinite(value) or (value <= 0 and not f.difference):
                missing.append(f.name)
                value = math.nan
            reference.append(value)
        self._reference = np.array(reference)
        return missing

    def score(self, features: dict[str, float]) -> CravingEstimate:
        """Score one hop's features (a dict as produced by the feature extractor)."""
        if self._reference is None:
            return CravingEstimate(None, 0.0, False)
        row = self._row[0]
        for j, f in enumerate(self.features):
            x, ref = features.get(f.name, math.nan), self._reference[j]
            ok = math.isfinite(x) and math.isfinite(ref) and bool(usable_mask(f.name, features))
            if not ok:
                row[j] = math.nan
            elif f.difference:
                row[j] = x - ref
            else:
                row[j] = math.log(x / ref) if x > 0 else math.nan
        present = ~np.isnan(row)
        confidence = float(self._weights[present].sum() / self._weights.sum())
        if not present.any():
            return CravingEstimate(None, 0.0, False)
        value = float(self._estimator.predict(self._row)[0])
        return CravingEstimate(value, confidence, confidence >= 0.5)
