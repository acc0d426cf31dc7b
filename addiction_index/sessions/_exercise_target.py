"""What an exercise session is held against: zone, ceiling and minutes, and where they came from.

:func:`exercise_target` takes, in order, a zone typed in, the resident's latest prescription (as
in force: a clinician's override applies), or age and resting heart rate (ACSM moderate
intensity by Karvonen).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from addiction_index.errors import InputError
from addiction_index.prescriptions._heart_rate import hr_max_estimate, hrr_zone
from addiction_index.prescriptions._zone_monitor import safety_ceiling_bpm
from addiction_index.store._exercise_log import ExerciseLog

__all__ = ["DEFAULT_MINUTES", "MODERATE_HRR", "ExerciseTarget", "exercise_target"]

MODERATE_HRR = (0.40, 0.59)
"""ACSM moderate intensity as heart-rate-reserve fractions (EVIDENCE 4.11)."""
DEFAULT_MINUTES = 30.0
"""Session length without a prescription: the lower end of 30-60 min (EVIDENCE 4.4, 4.8)."""


@dataclass(frozen=True)
class ExerciseTarget:
    """What a session is held against: zone and ceiling (bpm), minutes, and their origin.

    ``zone_source`` is ``prescription``, ``zone`` (typed in) or ``age`` (age and resting HR).
    """

    zone_bpm: tuple[int, int]
    ceiling_bpm: int
    minutes: float
    zone_source: str
    hr_max: float | None = None
    resting_hr: float | None = None
    exercise_type: str | None = None
    rpe_target: tuple[int, int] | None = None
    prescription: dict[str, Any] | None = None  # the prescription's exercise part
    prescription_session_id: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.minutes) and 0 < self.minutes <= 240):
            raise InputError("minutes", self.minutes, "a session length of 0-240 minutes")

    @property
    def planned_s(self) -> float:
        return 60.0 * self.minutes

    def describe(self) -> str:
        """One line for the coach: the zone, the ceiling and where they came from."""
        origin = {
            "prescription": f"the prescription of session {self.prescription_session_id}",
            "zone": "the zone given on the command line",
            "age": "age and resting heart rate (moderate, 40-59 % HRR, EVIDENCE 4.11)",
        }.get(self.zone_source, self.zone_source)
        low, high = self.zone_bpm
        return (
            f"zone {low}-{high} bpm, stop at {self.ceiling_bpm} bpm, {self.minutes:g} min "
            f"(from {origin})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone_bpm": list(self.zone_bpm),
            "ceiling_bpm": self.ceiling_bpm,
            "minutes": self.minutes,
            "zone_source": self.zone_source,
            "hr_max": self.hr_max,
            "resting_hr": self.resting_hr,
            "exercise_type": self.exercise_type,
            "rpe_target": None if self.rpe_target is None else list(self.rpe_target),
            "prescription_session_id": self.prescription_session_id,
        }


def exercise_target(
    log: ExerciseLog | None,
    subject: str,
    *,
    zone: tuple[float, float] | None = None,
    age: float | None = None,
    resting_hr: float | None = None,
    hr_max: float | None = None,
    minutes: float | None = None,
    ceiling: float | None = None,
) -> ExerciseTarget:
    """The zone, ceiling and minutes of ``subject``'s session, and where they came from.

    In order: ``zone`` (bpm) given explicitly; the subject's latest stored prescription (read
    through ``log``); ``age`` (years) and ``resting_hr`` (bpm), moderate 40-59 % HRR by Karvonen
    with Tanaka's HRmax unless ``hr_max`` is given (EVIDENCE 4.9-4.11). ``minutes`` defaults to the
    prescription's lower bound, else :data:`DEFAULT_MINUTES`; ``ceiling`` (bpm) defaults to
    :func:`safety_ceiling_bpm`. Raises :class:`InputError` when none of the three is available.
    """
    stored = log.latest_prescription(subject) if (log is not None and zone is None) else None
    exercise = (stored or {}).get("prescription", {}) or {}
    exercise = exercise.get("exercise") if isinstance(exercise, Mapping) else None
    if zone is not None:
        low, high = (float(v) for v in zone)
        if not 30 <= low <= high <= 230:
            raise InputError("--zone", zone, "LOW-HIGH in bpm with 30 <= LOW <= HIGH <= 230")
        if hr_max is None and age is not None:
            hr_max = hr_max_estimate(age).bpm
        source, zone_i = "zone", (round(low), round(high))
        rest, kind, rpe, plan_minutes = resting_hr, None, None, None
    elif isinstance(exercise, Mapping) and exercise.get("zone_bpm"):
        zone_i = tuple(int(v) for v in exercise["zone_bpm"])  # type: ignore[assignment]
        source = "prescription"
        hr_max = hr_max if hr_max is not None else _float(exercise.get("hr_max"))
        rest = _float(exercise.get("resting_hr"))
        kind = exercise.get("type")
        rpe = tuple(exercise["rpe"]) if exercise.get("rpe") else None
        prescribed = exercise.get("minutes")
        plan_minutes = _float(prescribed[0] if isinstance(prescribed, list | tuple) else prescribed)
    elif age is not None and resting_hr is not None:
        if not 12 <= age <= 100:
            raise InputError("--age", age, "an age in years between 12 and 100")
        if not 30 <= resting_hr <= 130:
            raise InputError("--resting-hr", resting_hr, "a resting heart rate of 30-130 bpm")
        hr_max = hr_max if hr_max is not None else hr_max_estimate(age).bpm
        zone_i = hrr_zone(MODERATE_HRR, resting_hr, hr_max)
        source, rest, kind, rpe, plan_minutes = "age", float(resting_hr), None, (12, 13), None
    else:
        raise InputError(
            "zone",
            None,
            f"a stored prescription for {subject}, or --zone LOW-HIGH, or --age and --resting-hr",
        )
    if ceiling is None:
        ceiling_i = safety_ceiling_bpm(zone_i, hr_max)
    else:
        ceiling_i = round(ceiling)
        if ceiling_i <= zone_i[1]:
            raise InputError("--ceiling", ceiling, f"a heart rate above the zone top {zone_i[1]}")
    return ExerciseTarget(
        zone_bpm=(int(zone_i[0]), int(zone_i[1])),
        ceiling_bpm=int(ceiling_i),
        minutes=float(minutes or plan_minutes or DEFAULT_MINUTES),
        zone_source=source,
        hr_max=hr_max,
        resting_hr=rest,
        exercise_type=kind,
        rpe_target=rpe,  # type: ignore[arg-type]
        prescription=dict(exercise) if source == "prescription" else None,  # type: ignore[arg-type]
        prescription_session_id=stored["session_id"] if source == "prescription" else None,
    )


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
