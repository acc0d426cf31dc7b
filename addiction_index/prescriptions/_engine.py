"""The inputs of a prescription, and evaluating a rule set into a prescription with its reasons.

:data:`INPUTS` lists the names a rule's ``when`` may read, with units; :class:`PrescriptionInputs`
holds their values for one resident and :func:`check_inputs` checks their ranges.

Every rule whose ``when`` holds fires. Fired rules are applied from the lowest to the highest
priority onto the rule set's defaults (equal priorities: the later rule in the file is applied
later), so for each field the highest-priority rule that sets it wins; ``notes`` add up instead.
The exercise zone is then computed in bpm from heart-rate reserve (Karvonen; EVIDENCE 4.9-4.11).
The result records which rules fired, what they set, what was overridden and the input values
each rule read, with the rule-set name and version, so a decision can be audited later.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.errors import ConfigError, InputError
from addiction_index.prescriptions._heart_rate import (
    hr_max_estimate,
    hrr_intensity_class,
    hrr_zone,
    round_bpm,
)

if TYPE_CHECKING:
    from addiction_index.prescriptions._ruleset import Rule, RuleSet

__all__ = [
    "INPUTS",
    "ExercisePrescription",
    "FiredRule",
    "MusicPrescription",
    "Prescription",
    "PrescriptionInputs",
    "check_inputs",
    "prescribe",
]

_SECTIONS = ("exercise", "music")

# name -> (field of PrescriptionInputs it comes from, unit / type, meaning). The one list of
# names a `when` expression may use; the README and the error messages are written from it.
INPUTS: dict[str, tuple[str, str, str]] = {
    "index": ("index", "0-100 or None", "addiction index; None when the session had no baseline"),
    "index_available": ("index", "bool", "True when index is not None"),
    "index_confidence": ("index_confidence", "0-1", "confidence of the index (0 when unknown)"),
    "craving": ("craving", "0-100 or None", "latest VAS craving rating; None when not rated"),
    "craving_available": ("craving", "bool", "True when craving is not None"),
    "resting_hr": ("resting_hr", "bpm", "resting heart rate measured in the session's baseline"),
    "age": ("age", "years", "age of the resident"),
    "sex": ("sex", "'male', 'female' or 'unknown'", "sex as recorded"),
    "hr_max_measured": ("hr_max_measured", "bpm or None", "maximal HR from an exercise test"),
    "hr_max_measured_available": ("hr_max_measured", "bool", "True when hr_max_measured is set"),
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

    def names(self) -> dict[str, Any]:
        """The values of every name in :data:`INPUTS`, as seen by ``when`` expressions."""
        return {
            "index": self.index,
            "index_available": self.index is not None,
            "index_confidence": self.index_confidence,
            "craving": self.craving,
            "craving_available": self.craving is not None,
            "resting_hr": self.resting_hr,
            "age": self.age,
            "sex": self.sex,
            "hr_max_measured": self.hr_max_measured,
            "hr_max_measured_available": self.hr_max_measured is not None,
        }


@dataclass(frozen=True)
class ExercisePrescription:
    """FITT-VP exercise prescription. Heart rates in bpm, intensities as HRR fractions."""

    type: str
    sessions_per_week: int
    minutes: tuple[int, int]
    weeks: int
    intensity_hrr: tuple[float, float]
    intensity_class: str  # ACSM class of intensity_hrr (EVIDENCE 4.11)
    zone_bpm: tuple[int, int]  # Karvonen target zone
    zone_pct_hr_max: tuple[int, int]  # the same zone as % of HRmax, for display
    zone_uncertainty_bpm: tuple[int, int] | None  # ± from the HRmax formula's SEE; None if measured
    hr_max: float
    hr_max_formula: str  # "tanaka", "fox" or "measured"
    hr_max_uncertainty_bpm: float | None  # SEE of the formula (EVIDENCE 4.10)
    resting_hr: float
    rpe: tuple[int, int]  # Borg 6-20
    progression: str | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class MusicPrescription:
    """Music prescription: purpose, when to play it, tempo (beats per minute) and minutes."""

    purpose: str  # calm | activate | synchronise
    timing: str  # during | before_after | standalone
    tempo_bpm: tuple[int, int]
    minutes: tuple[int, int]
    valence: str
    arousal: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired: what it set, which of those a higher rule overrode, what it read."""

    id: str
    priority: int
    description: str
    cite: tuple[str, ...]
    fields: tuple[str, ...]  # dotted, e.g. "exercise.minutes"
    overridden: dict[str, str]  # field -> id of the higher-priority rule that won it
    inputs: dict[str, Any]  # input name -> value, for every input the expression read


@dataclass(frozen=True)
class Prescription:
    """The decision: exercise, music, the rules that fired, and the rule set and inputs used."""

    exercise: ExercisePrescription
    music: MusicPrescription
    rules_fired: tuple[FiredRule, ...]  # highest priority first
    rule_set: str
    version: str
    inputs: PrescriptionInputs
    citations: dict[str, str]  # id -> source, for the defaults and every fired rule

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (tuples become lists) for storage and ``--json``."""
        data = _jsonable(dataclasses.asdict(self))
        data["disclaimer"] = NOT_A_DIAGNOSIS
        return data


def prescribe(rule_set: RuleSet, inputs: PrescriptionInputs) -> Prescription:
    """Evaluate ``rule_set`` for ``inputs`` into a :class:`Prescription`.

    Raises :class:`~addiction_index.errors.InputError` naming the bad input (age 12-100 years,
    resting_hr 30-130 bpm, index and craving 0-100 or None, index_confidence 0-1,
    hr_max_measured 100-230 bpm and above resting_hr, or None).
    """
    check_inputs(inputs)
    names = inputs.names()
    fired = [(n, r) for n, r in enumerate(rule_set.rules) if _holds(rule_set, n, r, names)]
    fired.sort(key=lambda item: (item[1].priority, item[0]))  # application order
    values = {s: getattr(rule_set.defaults, s).model_dump(exclude={"notes"}) for s in _SECTIONS}
    owner: dict[str, str] = {}
    for _, rule in fired:
        for section, field, value in _changes(rule):
            if field != "notes":
                values[section][field] = value
                owner[f"{section}.{field}"] = rule.id
    records = []
    notes: dict[str, list[str]] = {s: [] for s in _SECTIONS}
    for _, rule in reversed(fired):
        fields = tuple(f"{s}.{f}" for s, f, _ in _changes(rule))
        overridden = {f: owner[f] for f in fields if owner.get(f, rule.id) != rule.id}
        for section in _SECTIONS:
            notes[section] += getattr(rule.set, section).notes
        read = {name: names[name] for name in rule.condition.names}
        records.append(
            FiredRule(rule.id, rule.priority, rule.description, tuple(rule.cite),
                      fields, overridden, read)
        )  # fmt: skip
    for section in _SECTIONS:
        notes[section] += getattr(rule_set.defaults, section).notes
    exercise = _exercise(rule_set, inputs, values["exercise"], owner, notes["exercise"])
    music = MusicPrescription(**values["music"], notes=_unique(notes["music"]))
    cited = [*rule_set.defaults.cite, *(c for r in records for c in r.cite)]
    return Prescription(
        exercise=exercise,
        music=music,
        rules_fired=tuple(records),
        rule_set=rule_set.name,
        version=rule_set.version,
        inputs=inputs,
        citations={c: rule_set.citations[c] for c in sorted(set(cited), key=_natural)},
    )


def check_inputs(inputs: PrescriptionInputs) -> None:
    """Raise :class:`InputError` naming the first input that is missing or out of range."""
    if not isinstance(inputs, PrescriptionInputs):
        raise InputError("inputs", inputs, "a PrescriptionInputs")
    _number("age", inputs.age, 12, 100, "years")
    _number("resting_hr", inputs.resting_hr, 30, 130, "bpm")
    _number("index", inputs.index, 0, 100, "(addiction index)", optional=True)
    _number("index_confidence", inputs.index_confidence, 0, 1, "(fraction)")
    _number("craving", inputs.craving, 0, 100, "(VAS)", optional=True)
    _number("hr_max_measured", inputs.hr_max_measured, 100, 230, "bpm", optional=True)
    if inputs.sex not in ("male", "female", "unknown"):
        raise InputError("inputs.sex", inputs.sex, "'male', 'female' or 'unknown'")
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


def _holds(rule_set: RuleSet, n: int, rule: Rule, names: dict[str, Any]) -> bool:
    try:
        return rule.condition.evaluate(names)
    except Exception as exc:  # the load-time probe makes this rare; say which rule failed
        read = {name: names[name] for name in rule.condition.names}
        raise ConfigError(
            rule_set.source, f"rule '{rule.id}' failed for inputs {read}: {exc}",
            key=f"rules.{n}.when", expected="an expression giving True or False",
        ) from exc  # fmt: skip


def _changes(rule: Rule) -> list[tuple[str, str, Any]]:
    """(section, field, value) for every field the rule sets; notes are listed, not overridden."""
    out = []
    for section in _SECTIONS:
        part = getattr(rule.set, section)
        for field, value in part.model_dump(exclude_none=True, exclude={"notes"}).items():
            out.append((section, field, value))
        if part.notes:
            out.append((section, "notes", list(part.notes)))
    return out


def _exercise(
    rule_set: RuleSet,
    inputs: PrescriptionInputs,
    values: dict[str, Any],
    owner: dict[str, str],
    notes: list[str],
) -> ExercisePrescription:
    low, high = values.pop("intensity_hrr")
    cap = values.pop("intensity_hrr_cap")
    if cap is not None and high > cap:
        low, high = min(low, cap), cap
        by = owner.get("exercise.intensity_hrr_cap", "defaults")
        notes.insert(0, f"Intensity capped at {cap:.0%} HRR (rule '{by}').")
    hr_max = hr_max_estimate(inputs.age, rule_set.hr_max_formula, inputs.hr_max_measured)
    zone = hrr_zone((low, high), inputs.resting_hr, hr_max.bpm)
    uncertainty = None
    if hr_max.uncertainty_bpm is not None:
        uncertainty = (
            round_bpm(low * hr_max.uncertainty_bpm),
            round_bpm(high * hr_max.uncertainty_bpm),
        )
        notes.append(
            f"HRmax {hr_max.bpm:g} bpm is age-predicted ({hr_max.description}): the zone may be"
            f" off by about ±{uncertainty[0]}-{uncertainty[1]} bpm; enter a measured HRmax"
            " to remove this."
        )
    return ExercisePrescription(
        **{k: v for k, v in values.items() if k != "notes"},
        intensity_hrr=(low, high),
        intensity_class=hrr_intensity_class((low, high)),
        zone_bpm=zone,
        zone_pct_hr_max=(
            round_bpm(100 * zone[0] / hr_max.bpm),
            round_bpm(100 * zone[1] / hr_max.bpm),
        ),
        zone_uncertainty_bpm=uncertainty,
        hr_max=round(hr_max.bpm, 1),
        hr_max_formula=hr_max.formula,
        hr_max_uncertainty_bpm=hr_max.uncertainty_bpm,
        resting_hr=float(inputs.resting_hr),
        notes=_unique(notes),
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _natural(cite: str) -> tuple[Any, ...]:
    """Sort "4.10" after "4.9": numeric parts compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in cite.split("."))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)  # numpy integers are not JSON-serialisable
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value
