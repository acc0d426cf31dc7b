"""The inputs of a prescription, and evaluating a rule set into a prescription with its reasons.

:data:`INPUTS` lists the names a rule's ``when`` may read, each with its unit;
:class:`PrescriptionInputs` holds their values for one resident and :func:`check_inputs` checks
their ranges (and the contraindication terms against the rule set's vocabulary).

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
import math
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

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


def _progress(
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


def _exercise(
    rule_set: RuleSet,
    inputs: PrescriptionInputs,
    values: dict[str, Any],
    owner: dict[str, str],
    notes: list[str],
) -> ExercisePrescription:
    kind = rule_set.exercise_types.types[values["type"]]
    step = values.pop("progression_step")
    minutes, (low, high), applied = _progress(
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
