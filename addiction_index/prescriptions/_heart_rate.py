"""Maximal heart rate, heart-rate-reserve (Karvonen) zones and ACSM intensity classes.

All heart rates are in beats per minute (bpm); intensities are fractions of the heart-rate
reserve (HRR, 0-1, so 0.40 means 40 % HRR).

- HRmax from age: Tanaka 208 − 0.7 × age (default) or Fox 220 − age; Zhu N et al. 2010,
  Med Sci Sports Exerc 42(8):1519-1527, doi:10.1249/MSS.0b013e3181cf8242 (EVIDENCE 4.9).
  Their standard errors of estimate in 762 sedentary adults (HERITAGE, PMC3935487) are
  11.4 bpm (Tanaka) and 12.4 bpm (Fox) (EVIDENCE 4.10), so an age-predicted zone is a range.
- Karvonen: HR = HRrest + f × (HRmax − HRrest) (Karvonen, Kentala, Mustala 1957; EVIDENCE 4.11).
- Intensity classes by %HRR, ACSM v10 (Arch Phys Med Rehabil 2022;103(7 Suppl):S178-S188,
  doi:10.1016/j.apmr.2020.09.399, Table 1; EVIDENCE 4.11).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from addiction_index.errors import InputError

__all__ = [
    "ACSM_HRR_CLASSES",
    "HR_MAX_FORMULAS",
    "HRMax",
    "HRMaxFormula",
    "hr_max_estimate",
    "hr_max_fox",
    "hr_max_tanaka",
    "hrr_intensity_class",
    "hrr_zone",
    "round_bpm",
]

HRMaxFormula = Literal["tanaka", "fox"]


def hr_max_tanaka(age: float) -> float:
    """Age-predicted maximal heart rate in bpm, Tanaka: 208 − 0.7 × age (years).

    doi:10.1249/MSS.0b013e3181cf8242 (EVIDENCE 4.9); SEE 11.4 bpm (EVIDENCE 4.10).
    """
    return 208.0 - 0.7 * age


def hr_max_fox(age: float) -> float:
    """Age-predicted maximal heart rate in bpm, Fox 1971: 220 − age (years).

    Derived mostly from men under 55 (EVIDENCE 4.9); SEE 12.4 bpm (EVIDENCE 4.10).
    """
    return 220.0 - age


# name -> (formula, standard error of estimate in bpm, text shown to the user)
HR_MAX_FORMULAS: dict[str, tuple[Callable[[float], float], float, str]] = {
    "tanaka": (hr_max_tanaka, 11.4, "Tanaka 208 − 0.7 × age"),
    "fox": (hr_max_fox, 12.4, "Fox 220 − age"),
}

# (lower bound of the class in %HRR as a fraction, label), ACSM v10 Table 1 (EVIDENCE 4.11).
ACSM_HRR_CLASSES: tuple[tuple[float, str], ...] = (
    (0.0, "very light"),
    (0.30, "light"),
    (0.40, "moderate"),
    (0.60, "vigorous"),
    (0.85, "near-maximal"),
)


@dataclass(frozen=True)
class HRMax:
    """A maximal heart rate and where it came from.

    ``bpm`` is the value in bpm; ``formula`` is ``"measured"``, ``"tanaka"`` or ``"fox"``;
    ``uncertainty_bpm`` is the formula's standard error of estimate (None when measured).
    """

    bpm: float
    formula: str
    uncertainty_bpm: float | None
    description: str


def round_bpm(value: float) -> int:
    """Round a heart rate to whole bpm, halves upwards (117.5 -> 118), not to even."""
    return math.floor(value + 0.5)


def hr_max_estimate(
    age: float, formula: HRMaxFormula = "tanaka", measured: float | None = None
) -> HRMax:
    """Maximal heart rate in bpm: ``measured`` when given, else predicted from ``age`` (years).

    ``formula`` is ``"tanaka"`` (default, EVIDENCE 4.10) or ``"fox"``.
    """
    if measured is not None:
        return HRMax(float(measured), "measured", None, "measured in an exercise test")
    if formula not in HR_MAX_FORMULAS:
        raise InputError("formula", formula, "one of " + ", ".join(HR_MAX_FORMULAS))
    function, see, text = HR_MAX_FORMULAS[formula]
    return HRMax(function(age), formula, see, f"{text}, SEE {see} bpm, EVIDENCE 4.10")


def hrr_zone(
    intensity_hrr: tuple[float, float], resting_hr: float, hr_max: float
) -> tuple[int, int]:
    """Target heart-rate zone in whole bpm by Karvonen: HRrest + f × (HRmax − HRrest).

    ``intensity_hrr`` is (low, high) as fractions of the heart-rate reserve; ``resting_hr``
    and ``hr_max`` are in bpm. Example: age 30 (Tanaka HRmax 187), rest 70, 40-59 % HRR gives
    70 + 0.40 × 117 = 116.8 -> 117 and 70 + 0.59 × 117 = 139.03 -> 139 bpm.
    """
    low, high = intensity_hrr
    if not 0.0 <= low <= high <= 1.0:
        raise InputError("intensity_hrr", intensity_hrr, "0 <= low <= high <= 1 (fractions)")
    if hr_max <= resting_hr:
        raise InputError("hr_max", hr_max, f"a value above the resting HR ({resting_hr} bpm)")
    reserve = hr_max - resting_hr
    return round_bpm(resting_hr + low * reserve), round_bpm(resting_hr + high * reserve)


def hrr_intensity_class(intensity_hrr: tuple[float, float]) -> str:
    """ACSM class of a %HRR range (EVIDENCE 4.11): e.g. ``"moderate"`` or ``"light to moderate"``.

    Bands by HRR fraction: very light < 0.30, light 0.30-0.39, moderate 0.40-0.59,
    vigorous 0.60-0.84, near-maximal >= 0.85.
    """
    low, high = (_class_of(value) for value in intensity_hrr)
    return low if low == high else f"{low} to {high}"


def _class_of(fraction: float) -> str:
    label = ACSM_HRR_CLASSES[0][1]
    for lower, name in ACSM_HRR_CLASSES:
        if fraction >= lower - 1e-9:
            label = name
    return label
