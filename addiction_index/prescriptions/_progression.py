"""The programme's progression applied to a dose: steps of the rule set's ``progression_step``.

Time first, then intensity, then the zone's floor; back down in the reverse order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MIN_ZONE_WIDTH_HRR", "apply_progression"]

#: The narrowest zone progression may leave when it raises the floor under a capped top (10 %
#: HRR: about 12 bpm for a 40-year-old at rest 70 bpm; convention).
MIN_ZONE_WIDTH_HRR = 0.10


def _one_step(
    direction: str,
    step: dict[str, Any],
    minutes: tuple[int, int],
    intensity: tuple[float, float],
) -> tuple[tuple[int, int], tuple[float, float]] | None:
    """One step of the progression rule: time first, then intensity (None: at the end).

    "progress": minutes + step up to ``minutes_max``; once there, intensity + step up to
    ``intensity_hrr_max``, then the floor of the zone + step while the zone stays at least
    :data:`MIN_ZONE_WIDTH_HRR` wide. "step_back": the reverse, intensity − step down to
    ``intensity_hrr_min`` first, then minutes − step down to ``minutes_min``.
    """
    lo, hi = minutes
    ilo, ihi = intensity
    if direction == "progress":
        if hi < step["minutes_max"] and step["minutes"] > 0:
            hi = min(hi + step["minutes"], step["minutes_max"])
            lo = min(lo + step["minutes"], hi)
        elif ihi < step["intensity_hrr_max"] - 1e-9 and step["intensity_hrr"] > 0:
            ihi = round(min(ihi + step["intensity_hrr"], step["intensity_hrr_max"]), 4)
            ilo = round(min(ilo + step["intensity_hrr"], ihi), 4)
        elif ilo + step["intensity_hrr"] <= ihi - MIN_ZONE_WIDTH_HRR + 1e-9:
            ilo = round(ilo + step["intensity_hrr"], 4)  # the top is capped: raise the floor
        else:
            return None
    elif ilo > step["intensity_hrr_min"] + 1e-9 and step["intensity_hrr"] > 0:
        ilo = round(max(ilo - step["intensity_hrr"], step["intensity_hrr_min"]), 4)
        ihi = round(max(ihi - step["intensity_hrr"], ilo), 4)
    elif lo > step["minutes_min"] and step["minutes"] > 0:
        lo = max(lo - step["minutes"], step["minutes_min"])
        hi = max(hi - step["minutes"], lo)
    else:
        return None
    return (lo, hi), (ilo, ihi)


def apply_progression(
    response: str,
    step: dict[str, Any] | None,
    minutes: tuple[int, int],
    intensity: tuple[float, float],
    level: int | None = None,
) -> tuple[tuple[int, int], tuple[float, float], str | None]:
    """The dose after the programme's progression: ``level`` net steps (positive: progress,
    negative: step back) or, when ``level`` is None, one step for the last ``response``."""
    steps = level if level is not None else {"progress": 1, "step_back": -1}.get(response, 0)
    if not steps or not step:
        return minutes, intensity, None
    direction = "progress" if steps > 0 else "step_back"
    before = f"{minutes[0]}-{minutes[1]} min at {intensity[0]:.0%}-{intensity[1]:.0%} HRR"
    taken = 0
    for _ in range(abs(steps)):
        moved = _one_step(direction, step, minutes, intensity)
        if moved is None:
            break
        (minutes, intensity), taken = moved, taken + 1
    if taken == 0:
        where = "top" if direction == "progress" else "bottom"
        return minutes, intensity, f"{direction}: already at the {where} ({before})."
    after = f"{minutes[0]}-{minutes[1]} min at {intensity[0]:.0%}-{intensity[1]:.0%} HRR"
    count = "one progression step" if taken == 1 else f"{taken} progression steps"
    return minutes, intensity, f"{direction}: {before} -> {after} ({count})."
