"""Evaluating a rule set into a prescription with its reasons.

The inputs (:data:`INPUTS`, :class:`PrescriptionInputs`, :func:`check_inputs`) are in
:mod:`._inputs` and re-exported here; the progression steps in :mod:`._progression`.

Every rule whose ``when`` holds fires. Fired rules are applied from the lowest to the highest
priority onto the rule set's defaults (equal priorities: the later rule in the file is applied
later), so for each field the highest-priority rule that sets it wins; ``notes`` add up instead.
A rule that sets ``type`` also brings that type's typical intensity, RPE and minutes (from
``exercise-types.yaml``) unless it sets them itself. Veto rules (contraindications) are applied
after all others: when one fires there is no exercise prescription, only the veto with its
action ("refer to a physician") and the rules that vetoed.

Then the programme's last decision (``response``) moves the dose one step of the rule set's
``progression_step`` ("progress" up, "step_back" down), the intensity cap is applied, and the
zone is computed in bpm from heart-rate reserve (Karvonen; EVIDENCE 4.9-4.11). The result
records which rules fired, what they set, what was overridden and the input values each rule
read, with the rule-set name and version, so a decision can be audited later.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.errors import ConfigError
from addiction_index.prescriptions._heart_rate import (
    hr_max_estimate,
    hrr_intensity_class,
    hrr_zone,
    round_bpm,
)
from addiction_index.prescriptions._inputs import (
    ENUMERATIONS,
    INPUTS,
    InputSpec,
    PrescriptionInputs,
    check_inputs,
)
from addiction_index.prescriptions._progression import apply_progression

if TYPE_CHECKING:
    from addiction_index.prescriptions._ruleset import Rule, RuleSet

__all__ = [
    "ENUMERATIONS",
    "INPUTS",
    "ExercisePrescription",
    "FiredRule",
    "InputSpec",
    "MusicPrescription",
    "Prescription",
    "PrescriptionInputs",
    "Veto",
    "check_inputs",
    "prescribe",
]

_SECTIONS = ("exercise", "music")


@dataclass(frozen=True)
class ExercisePrescription:
    """FITT-VP exercise prescription. Heart rates in bpm, intensities as HRR fractions.

    Frequency ``sessions_per_week``; intensity ``intensity_hrr`` / ``zone_bpm`` / ``rpe``;
    time ``minutes`` per session; type ``type`` (``category``); volume ``volume_min_per_week``
    and ``met_min_per_week`` (when the type has METs); progression ``progression`` (text),
    ``progression_step`` (the rule) and ``progression_applied`` (what the last response did).
    """

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
    category: str = "aerobic"  # aerobic | resistance | mind-body | group
    type_intensity_hrr: tuple[float, float] | None = None  # the type's typical range
    mets: float | None = None
    cadence: tuple[int, int] | None = None  # per minute, when the type is rhythmic
    cadence_unit: str | None = None  # steps/min, rev/min, beats/min
    volume_min_per_week: tuple[int, int] = (0, 0)
    met_min_per_week: tuple[int, int] | None = None
    progression_step: dict[str, Any] | None = None
    progression_applied: str | None = None
    type_cite: dict[str, Any] = field(default_factory=dict)

    def fitt_vp(self) -> dict[str, Any]:
        """The prescription as the six FITT-VP headings, for display."""
        return {
            "frequency": f"{self.sessions_per_week} sessions/week for {self.weeks} weeks",
            "intensity": (
                f"{self.zone_bpm[0]}-{self.zone_bpm[1]} bpm "
                f"({self.intensity_hrr[0]:.0%}-{self.intensity_hrr[1]:.0%} HRR, "
                f"{self.intensity_class}), RPE {self.rpe[0]}-{self.rpe[1]}"
            ),
            "time": f"{self.minutes[0]}-{self.minutes[1]} min per session",
            "type": f"{self.type} ({self.category})"
            + (f", cadence {self.cadence[0]}-{self.cadence[1]} {self.cadence_unit}"
               if self.cadence else ""),
            "volume": f"{self.volume_min_per_week[0]}-{self.volume_min_per_week[1]} min/week"
            + (f", {self.met_min_per_week[0]}-{self.met_min_per_week[1]} MET·min/week"
               if self.met_min_per_week else ""),
            "progression": " ".join(p for p in (self.progression, self.progression_applied) if p),
        }  # fmt: skip


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
    cadence: tuple[int, int] | None = None  # the exercise cadence to match (synchronise, during)


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
    veto: str | None = None  # the veto's action, for a contraindication rule


@dataclass(frozen=True)
class Veto:
    """No exercise: the rules that vetoed it and what to do instead."""

    rules: tuple[str, ...]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Prescription:
    """The decision: exercise (None when vetoed), music, the rules that fired, rule set, inputs."""

    exercise: ExercisePrescription | None
    music: MusicPrescription
    rules_fired: tuple[FiredRule, ...]  # highest priority first
    rule_set: str
    version: str
    inputs: PrescriptionInputs
    citations: dict[str, str]  # id -> source, for the defaults and every fired rule
    veto: Veto | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (tuples become lists) for storage and ``--json``."""
        data = _jsonable(dataclasses.asdict(self))
        if self.exercise is not None:
            data["exercise"]["fitt_vp"] = self.exercise.fitt_vp()
        data["disclaimer"] = NOT_A_DIAGNOSIS
        return data


def prescribe(rule_set: RuleSet, inputs: PrescriptionInputs) -> Prescription:
    """Evaluate ``rule_set`` for ``inputs`` into a :class:`Prescription`.

    Raises :class:`~addiction_index.errors.InputError` naming the bad input (age 12-100 years,
    resting_hr 30-130 bpm, index and craving 0-100 or None, index_confidence 0-1,
    hr_max_measured 100-230 bpm and above resting_hr, or None; the programme inputs as in
    :data:`INPUTS`; contraindications from the rule set's vocabulary).
    """
    check_inputs(inputs, tuple(rule_set.contraindications))
    names = inputs.names()
    fired = [(n, r) for n, r in enumerate(rule_set.rules) if _holds(rule_set, n, r, names)]
    # application order: by priority, then file order; veto rules last (a veto always wins)
    fired.sort(key=lambda item: (item[1].veto is not None, item[1].priority, item[0]))
    values = {s: getattr(rule_set.defaults, s).model_dump(exclude={"notes"}) for s in _SECTIONS}
    owner: dict[str, str] = {}
    for _, rule in fired:
        changes = _changes(rule)
        for section, name, value in changes:
            if name != "notes":
                values[section][name] = value
                owner[f"{section}.{name}"] = rule.id
        if rule.set.exercise.type is not None:  # the type brings its typical dose
            kind = rule_set.exercise_types.types[rule.set.exercise.type]
            for name in ("intensity_hrr", "rpe", "minutes"):
                if getattr(rule.set.exercise, name) is None:
                    values["exercise"][name] = tuple(getattr(kind, name))
                    owner[f"exercise.{name}"] = rule.id
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
                      fields, overridden, read, rule.veto)
        )  # fmt: skip
    for section in _SECTIONS:
        notes[section] += getattr(rule_set.defaults, section).notes
    vetoes = [r for r in records if r.veto is not None]
    veto = Veto(tuple(r.id for r in vetoes), tuple(r.veto for r in vetoes)) if vetoes else None
    exercise = None
    if veto is None:
        exercise = _exercise(rule_set, inputs, values["exercise"], owner, notes["exercise"])
    music_values = values["music"]
    if veto is not None and music_values["timing"] == "during":
        music_values["timing"] = "standalone"
        notes["music"].insert(0, "Exercise is vetoed: music is prescribed on its own.")
    if music_values["purpose"] == "synchronise" and music_values["timing"] == "during":
        music_values["cadence"] = exercise.cadence if exercise is not None else None
    music = MusicPrescription(**music_values, notes=_unique(notes["music"]))
    cited = [*rule_set.defaults.cite, *(c for r in records for c in r.cite)]
    return Prescription(
        exercise=exercise,
        music=music,
        rules_fired=tuple(records),
        rule_set=rule_set.name,
        version=rule_set.version,
        inputs=inputs,
        citations={c: rule_set.citations[c] for c in sorted(set(cited), key=_natural)},
        veto=veto,
    )


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
        for name, value in part.model_dump(exclude_none=True, exclude={"notes"}).items():
            out.append((section, name, value))
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
    kind = rule_set.exercise_types.types[values["type"]]
    step = values.pop("progression_step")
    minutes, (low, high), applied = apply_progression(
        inputs.response,
        step,
        tuple(values.pop("minutes")),
        tuple(values.pop("intensity_hrr")),
        inputs.progression_level,
    )
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
    sessions = values["sessions_per_week"]
    volume = (sessions * minutes[0], sessions * minutes[1])
    met_minutes = None
    if kind.mets is not None:
        met_minutes = (round(kind.mets * volume[0]), round(kind.mets * volume[1]))
    return ExercisePrescription(
        **{k: v for k, v in values.items() if k != "notes"},
        minutes=minutes,
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
        category=kind.category,
        type_intensity_hrr=tuple(kind.intensity_hrr),
        mets=kind.mets,
        cadence=tuple(kind.cadence.per_min) if kind.cadence else None,
        cadence_unit=kind.cadence.unit if kind.cadence else None,
        volume_min_per_week=volume,
        met_min_per_week=met_minutes,
        progression_step=step,
        progression_applied=applied,
        type_cite=dict(kind.cite),
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
