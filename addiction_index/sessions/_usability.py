"""How much of each protocol block had usable signal: the quality part of a session report.

For every block, over the hops that fell in it: the fraction with all four EEG channels clean
(``eeg_usable``), with the frontal pair clean (``eeg_usable_frontal``, what the frontal features
and the asymmetry need), each channel clean, and the heart strap in contact
(``heart_quality == 0``). A hop without EEG (a gap, the device reconnecting) counts as not
usable. The scores use the same flags (:func:`~addiction_index.models.usable_mask`); this table
is what a clinician reads to judge a session's index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["block_usability"]


def _fraction(values: list[float], good: Any) -> float | None:
    if not values:
        return None
    return sum(1 for v in values if v is not None and not math.isnan(v) and good(v)) / len(values)


def block_usability(
    schedule: Sequence[Any], hops: Sequence[Any], channels: Sequence[str]
) -> list[dict[str, Any]]:
    """One dict per scheduled block: ``block``, ``role``, ``hops`` and usable fractions (0..1,
    None when the block had no hop): ``eeg``, ``eeg_frontal``, ``heart`` and ``channels``."""
    out = []
    for sb in schedule:
        inside = [h.features for h in hops if sb.start < h.t <= sb.end + 1e-9]

        def column(name: str, rows: list[dict[str, float]] = inside) -> list[float]:
            return [row.get(name, math.nan) for row in rows]

        out.append(
            {
                "block": sb.block.id,
                "role": str(sb.block.role),
                "hops": len(inside),
                "eeg": _fraction(column("eeg_usable"), lambda v: v == 1.0),
                "eeg_frontal": _fraction(column("eeg_usable_frontal"), lambda v: v == 1.0),
                "heart": _fraction(column("heart_quality"), lambda v: v == 0.0),
                "channels": {
                    ch: _fraction(column(f"eeg_quality_{ch}"), lambda v: v == 0.0)
                    for ch in channels
                },
            }
        )
    return out
