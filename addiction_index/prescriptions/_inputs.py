"""The inputs of a prescription: names a rule may read (with units), their values, their checks.

:data:`INPUTS` lists the names a rule's ``when`` may read, each with its unit;
:class:`PrescriptionInputs` holds their values for one resident and :func:`check_inputs` checks
their ranges (and the contraindication terms against the rule set's vocabulary).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from addiction_index.errors import InputError

__all__ = [
    "ENUMERATIONS",
    "INPUTS",
    "LEVELS",
    "RESPONSES",
    "InputSpec",
    "PrescriptionInputs",
    "check_inputs",
]

RESPONSES = ("none", "progress", "hold", "step_back")
LEVELS = ("low", "normal")


class InputSpec(NamedTuple):
    """One input name: the field it comes from, its unit (pint name or None), its meaning."""

    field: str
    unit: str  # shown to people: "bpm", "years", "points (0-100) or None", ...
    meaning: str
    pint_unit: (
        str | None
    )  # unit the value is in when an expression writes units; None if not numeric


# name -> InputSpec. The one list of names a `when` expression may use; the README and the
# error messages are written from it.
INPUTS: dict[str, InputSpec] = {
    "index": InputSpec(
        "index",
        "points (0-100) or None",
        "addiction index; None without a usable baseline",
        "points",
    ),
    "index_available": InputSpec("index", "bool", "True when index is not None", None),
    "index_confidence": InputSpec(
        "index_confidence",
        "fraction (0-1)",
        "confidence of the index (0 when unknown)",
        "dimensionless",
    ),
    "craving": InputSpec(
        "craving",
        "points (0-100 VAS) or None",
        "latest VAS craving rating; None when not rated",
        "points",
    ),
    "craving_available": InputSpec("craving", "bool", "True when craving is not None", None),
    "resting_hr": InputSpec(
        "resting_hr",
        "bpm",
        "resting heart rate measured in the assessment's baseline",
        "bpm",
    ),
    "age": InputSpec("age", "years", "age of the resident (12-100)", "year"),
    "sex": InputSpec("sex", "'male', 'female' or 'unknown'", "sex as recorded", None),
    "hr_max_measured": InputSpec(
        "hr_max_measured",
        "bpm or None",
        "maximal HR from an exercise test",
        "bpm",
    ),
    "hr_max_measured_available": InputSpec(
        "hr_max_measured",
        "bool",
        "True when hr_max_measured is set",
        None,
    ),
    "weeks_in_programme": InputSpec(
        "weeks_in_programme",
        "weeks (>= 0)",
        "time since the programme started",
        "week",
    ),
    "sessions_completed": InputSpec(
        "sessions_completed",
        "count (>= 0)",
        "exercise sessions completed so far",
        "count",
    ),
    "adherence": InputSpec(
        "adherence",
        "fraction (0-1) or None",
        "share of prescribed sessions done in the last period",
        "dimensionless",
    ),
    "adherence_available": InputSpec("adherence", "bool", "True when adherence is not None", None),
    "time_in_zone": InputSpec(
        "time_in_zone",
        "fraction (0-1) or None",
        "share of the last sessions' time in the HR zone",
        "dimensionless",
    ),
    "time_in_zone_available": InputSpec(
        "time_in_zone",
        "bool",
        "True when time_in_zone is not None",
        None,
    ),
    "response": InputSpec(
        "response",
        "'none', 'progress', 'hold' or 'step_back'",
        "the programme's decision at the last re-assessment ('none': not re-assessed yet)",
        None,
    ),
    "index_change": InputSpec(
        "index_change",
        "points or None",
        "index now minus at the previous assessment",
        "points",
    ),
    "index_change_available": InputSpec(
        "index_change",
        "bool",
        "True when index_change is not None",
        None,
    ),
    "craving_change": InputSpec(
        "craving_change",
        "points or None",
        "craving now minus at the previous assessment",
        "points",
    ),
    "craving_change_available": InputSpec(
        "craving_change",
        "bool",
        "True when craving_change is not None",
        None,
    ),
    "contraindications": InputSpec(
        "contraindications",
        "tuple of terms",
        "contraindications found at screening, from the rule set's vocabulary",
        None,
    ),
    "mood": InputSpec(
        "mood",
        "'low', 'normal' or None",
        "mood at intake or check-in (None: not asked)",
        None,
    ),
    "energy": InputSpec(
        "energy",
        "'low', 'normal' or None",
        "energy at intake or check-in (None: not asked)",
        None,
    ),
}

# Inputs whose text values are a fixed list; literals compared with them are checked at load.
# ``contraindications`` is checked against the vocabulary each rule set declares.
ENUMERATIONS: dict[str, tuple[str | None, ...]] = {
    "sex": ("male", "female", "unknown"),
    "response": RESPONSES,
    "mood": (*LEVELS, None),
    "energy": (*LEVELS, None),
}


@dataclass(frozen=True)
class PrescriptionInputs:
    """What a prescription is computed from (units as in :data:`INPUTS`)."""

    age: float
    resting_hr: float
    index: float | None = None
    index_confidence: float = 0.0
    craving: float | None = None
    sex: Literal["male", "female", "unknown"] = "unknown"
    hr_max_measured: float | None = None
    weeks_in_programme: float = 0.0
    sessions_completed: int = 0
    adherence: float | None = None
    time_in_zone: float | None = None
    response: Literal["none", "progress", "hold", "step_back"] = "none"
    index_change: float | None = None
    craving_change: float | None = None
    contraindications: tuple[str, ...] = field(default=())
    mood: Literal["low", "normal"] | None = None
    energy: Literal["low", "normal"] | None = None
    # Net progression steps the programme has taken (each "progress" +1, each "step_back" -1,
    # :mod:`._programme_loop`). None: one step from ``response`` alone. Not a rule input.
    progression_level: int | None = None

    def names(self) -> dict[str, Any]:
        """The values of every name in :data:`INPUTS`, as seen by ``when`` expressions.

        Numbers are plain, in the unit of :data:`INPUTS`; an expression that writes units gets
        them as pint quantities instead (see ``_units.py``).
        """
        out: dict[str, Any] = {}
        for name, spec in INPUTS.items():
            value = getattr(self, spec.field)
            if spec.unit == "bool":
                out[name] = value is not None
            elif name == "contraindications":
                out[name] = tuple(value)
            else:
                out[name] = value
        return out


def check_inputs(
    inputs: PrescriptionInputs, contraindications: tuple[str, ...] | None = None
) -> None:
    """Raise :class:`InputError` naming the first input that is missing or out of range.

    ``contraindications`` is the rule set's vocabulary; a term of ``inputs.contraindications``
    outside it is an error that names the term (None: any text is accepted).
    """
    if not isinstance(inputs, PrescriptionInputs):
        raise InputError("inputs", inputs, "a PrescriptionInputs")
    _number("age", inputs.age, 12, 100, "years")
    _number("resting_hr", inputs.resting_hr, 30, 130, "bpm")
    _number("index", inputs.index, 0, 100, "(addiction index)", optional=True)
    _number("index_confidence", inputs.index_confidence, 0, 1, "(fraction)")
    _number("craving", inputs.craving, 0, 100, "(VAS)", optional=True)
    _number("hr_max_measured", inputs.hr_max_measured, 100, 230, "bpm", optional=True)
    _number("weeks_in_programme", inputs.weeks_in_programme, 0, 520, "weeks")
    _number("sessions_completed", inputs.sessions_completed, 0, 10_000, "(count)")
    if not isinstance(inputs.sessions_completed, numbers.Integral):
        raise InputError("inputs.sessions_completed", inputs.sessions_completed, "a whole number")
    _number("adherence", inputs.adherence, 0, 1, "(fraction)", optional=True)
    _number("time_in_zone", inputs.time_in_zone, 0, 1, "(fraction)", optional=True)
    _number("index_change", inputs.index_change, -100, 100, "points", optional=True)
    _number("craving_change", inputs.craving_change, -100, 100, "points", optional=True)
    for name, allowed in ENUMERATIONS.items():
        value = getattr(inputs, name)
        if value not in allowed:
            shown = ", ".join("None" if a is None else repr(a) for a in allowed)
            raise InputError(f"inputs.{name}", value, f"one of {shown}")
    terms = inputs.contraindications
    if not isinstance(terms, tuple | list) or not all(isinstance(t, str) for t in terms):
        raise InputError("inputs.contraindications", terms, "a tuple of terms (text)")
    if contraindications is not None:
        for term in terms:
            if term not in contraindications:
                raise InputError(
                    "inputs.contraindications", term,
                    "a term of the rule set's vocabulary: " + ", ".join(contraindications),
                )  # fmt: skip
    if inputs.hr_max_measured is not None and inputs.hr_max_measured <= inputs.resting_hr:
        raise InputError(
            "inputs.hr_max_measured",
            inputs.hr_max_measured,
            f"a maximal HR above resting_hr={inputs.resting_hr} bpm",
        )


def _number(name: str, value: Any, low: float, high: float, unit: str, optional=False) -> None:
    if value is None and optional:
        return
    expected = f"a number from {low} to {high} {unit}" + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"inputs.{name}", value, expected)
    if math.isnan(value) or not low <= value <= high:
        raise InputError(f"inputs.{name}", value, expected)
