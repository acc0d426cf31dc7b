"""The live craving score from a promoted trained model (``models promote craving-…``).

A craving model is trained on block rows (:func:`~addiction_index.datasets._tables.block_table`):
``delta:<feature>`` = a block's mean over usable hops relative to the baseline block's. Live, the
same rows are made from what the session has so far: the baseline block's means (set when the
baseline block ends) and the means of the last ``trailing_s`` seconds of hops (30 s by default,
at most the length of a rated block), by the batch code
(:func:`~addiction_index.datasets._tables.recording_blocks`), so a hop's score is the model's
answer to "this stretch of the session, as a block". The confidence is the share of the model's
features that are usable (the rest are imputed with the training medians).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from addiction_index.models._craving import CravingEstimate

if TYPE_CHECKING:
    from addiction_index.features.spec import FeatureSpec
    from addiction_index.models._artifact import Artifact

__all__ = ["TrainedLiveCraving"]

BASELINE, CURRENT = "baseline", "current"


class TrainedLiveCraving:
    """:class:`~addiction_index.models.LiveCraving`'s interface over a trained craving model."""

    def __init__(
        self, artifact: Artifact, spec: FeatureSpec, *, trailing_s: float = 30.0,
        min_usable: float = 0.5,
    ) -> None:  # fmt: skip
        import pandas as pd

        from addiction_index.datasets._tables import delta_kind

        if artifact.task != "craving":
            raise ValueError(f"{artifact.name} is a {artifact.task} model, not a craving model")
        self.artifact = artifact
        self.features = [n.removeprefix("delta:") for n in artifact.feature_names]
        self._kinds = {n: delta_kind(spec.registry[n]) for n in self.features}
        self._min_usable = min_usable
        self._recent: deque[dict[str, float]] = deque(maxlen=max(1, round(trailing_s / spec.hop_s)))
        self._reference: dict[str, float] | None = None
        self._frame = pd.DataFrame(np.full((1, len(self.features)), np.nan),
                                   columns=artifact.feature_names)  # fmt: skip

    @property
    def ready(self) -> bool:
        return self._reference is not None

    def _means(self, hop: dict[str, np.ndarray], label: str) -> dict[str, float]:
        from addiction_index.datasets._tables import recording_blocks

        n = len(next(iter(hop.values()))) if hop else 0
        block_of = np.full(n, label)
        _, _, _, rows, _ = recording_blocks(hop, block_of, self.features, self._kinds,
                                            self._min_usable)  # fmt: skip
        return rows.get(label, dict.fromkeys(self.features, math.nan))

    def set_baseline(self, hop_features: dict[str, np.ndarray], hop_mask: np.ndarray) -> list[str]:
        """Baseline means over the usable hops of ``hop_mask``; returns features without one."""
        hop = {k: np.asarray(v, dtype=np.float64)[hop_mask] for k, v in hop_features.items()}
        self._reference = self._means(hop, BASELINE)
        return [f for f in self.features if not math.isfinite(self._reference[f])]

    def score(self, features: dict[str, float]) -> CravingEstimate:
        """Score one hop: the trailing window's block row, relative to the baseline."""
        from addiction_index.datasets._tables import relative_change

        self._recent.append(features)
        if self._reference is None:
            return CravingEstimate(None, 0.0, False)
        names = {k for hop in self._recent for k in hop}
        hop = {k: np.array([h.get(k, math.nan) for h in self._recent]) for k in names}
        current = self._means(hop, CURRENT)
        row = self._frame.to_numpy()[0]
        for j, name in enumerate(self.features):
            row[j] = relative_change(current[name], self._reference[name], self._kinds[name])
        present = np.isfinite(row)
        confidence = float(present.mean()) if row.size else 0.0
        if not present.any():
            return CravingEstimate(None, 0.0, False)
        value = float(self.artifact.score(self._frame)[0])
        return CravingEstimate(value, confidence, confidence >= 0.5)
