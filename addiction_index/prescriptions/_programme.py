"""The loop: programme status, when a re-assessment is due, and progress / hold / step back.

A resident's programme is read from what the store holds (:class:`ProgrammeHistory`: the
assessments with their index and post-cue craving, the exercise sessions with their completion,
time in zone and safety stops, the prescriptions issued). :func:`programme_status` says where the
resident is (weeks in the programme, sessions completed, adherence since the current
prescription, mean time in zone since the last assessment) and whether a re-assessment is due;
:func:`decide_response` compares the last two assessments and the sessions between them and
decides ``progress``, ``hold`` or ``step_back``, with every reason. The decision becomes the rule
engine's ``response`` input, and the rule set turns it into the next prescription.

Settings are data (``prescriptions/programme.yaml``), each number cited or marked a convention.
The weeks of the "incubation" window (EVIDENCE 6.3) count from the programme's start, a proxy for
weeks of abstinence in a centre where the programme starts at admission.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.resources import content_file

__all__ = [
    "Assessment",
    "ExerciseDone",
    "Prescribed",
    "ProgrammeHistory",
    "ProgrammeSettings",
    "ProgrammeStatus",
    "ResponseDecision",
    "decide_response",
    "load_programme_settings",
    "programme_status",
]

Decision = Literal["none", "progress", "hold", "step_back"]
WEEK_S = 7 * 86400.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reassessment(_Strict):
    weeks: list[float] = Field(min_length=1)
    cite: list[str] = Field(default_factory=list)
    sessions: int = Field(ge=1)


class ResponseRules(_Strict):
    change_points: float = Field(gt=0, le=100)
    adherence_progress: float = Field(gt=0, le=1)
    cite_adherence: list[str] = Field(default_factory=list)
    adherence_step_back: float = Field(ge=0, le=1)
    time_in_zone_progress: float = Field(gt=0, le=1)
    safety_stops_step_back: int = Field(ge=1)
    craving_latency_weeks: float = Field(ge=0)
    cite_latency: list[str] = Field(default_factory=list)
    incubation_weeks: tuple[float, float]
    cite_incubation: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> ResponseRules:
        if self.adherence_step_back >= self.adherence_progress:
            raise ValueError("adherence_step_back must be below adherence_progress")
        if self.incubation_weeks[0] >= self.incubation_weeks[1]:
            raise ValueError("incubation_weeks must be [first, last] with first < last")
        return self


class ProgrammeSettings(_Strict):
    """``prescriptions/programme.yaml``: re-assessment schedule and response thresholds."""

    name: str
    version: str
    citations: dict[str, str]
    reassessment: Reassessment
    session_counts_when_completed: float = Field(gt=0, le=1)
    progression_levels: int = Field(ge=0, le=50)
    response: ResponseRules

    @model_validator(mode="after")
    def _cited(self) -> ProgrammeSettings:
        r = self.response
        used = {*self.reassessment.cite, *r.cite_adherence, *r.cite_latency, *r.cite_incubation}
        unknown = used - set(self.citations)
        if unknown:
            raise ValueError(f"unknown citation ids: {', '.join(sorted(unknown))}")
        return self


def load_programme_settings(
    path: str | os.PathLike[str] | None = None, folder: str | os.PathLike[str] | None = None
) -> ProgrammeSettings:
    """Load ``programme.yaml`` from the prescriptions folder (or ``path``), validated."""
    target = path if path is not None else content_file("prescriptions", "programme.yaml", folder)
    return load_yaml(target, ProgrammeSettings)


@dataclass(frozen=True)
class Assessment:
    """A finished assessment: when, the index (0-100) and the post-cue craving rating."""

    when: datetime
    index: float | None
    craving: float | None
    session_id: int | None = None


@dataclass(frozen=True)
class ExerciseDone:
    """An exercise session: completed fraction of the planned minutes, time in zone (0-1)."""

    when: datetime
    completion: float
    time_in_zone: float | None
    stopped: str | None = None  # the safety alert that stopped it, if any


@dataclass(frozen=True)
class Prescribed:
    """A prescription issued: when and how many sessions a week it asks for."""

    when: datetime
    sessions_per_week: float
    prescription_id: int | None = None


@dataclass
class ProgrammeHistory:
    """Everything the loop reads about one resident, oldest first."""

    subject: str
    assessments: list[Assessment] = field(default_factory=list)
    sessions: list[ExerciseDone] = field(default_factory=list)
    prescriptions: list[Prescribed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.assessments.sort(key=lambda a: a.when)
        self.sessions.sort(key=lambda s: s.when)
        self.prescriptions.sort(key=lambda p: p.when)


@dataclass(frozen=True)
class ProgrammeStatus:
    """Where a resident stands in the programme at ``now``."""

    started: datetime | None
    weeks_in_programme: float
    sessions_completed: int
    adherence: float | None  # since the current prescription; None before a week has passed
    time_in_zone: float | None  # mean over sessions since the last assessment
    safety_stops: int  # sessions stopped by an alert since the last assessment
    reassessment_due: bool
    reassessment_reason: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started"] = self.started.isoformat() if self.started else None
        return out


@dataclass(frozen=True)
class ResponseDecision:
    """progress / hold / step_back (or none without two assessments), and why."""

    decision: Decision
    reasons: tuple[str, ...]
    index_change: float | None
    craving_change: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"reasons": list(self.reasons)}


def _weeks(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / WEEK_S)


def programme_status(
    history: ProgrammeHistory, settings: ProgrammeSettings, now: datetime
) -> ProgrammeStatus:
    """The resident's status at ``now`` and whether a re-assessment is due (and why).

    Only what happened up to ``now`` counts."""
    history = ProgrammeHistory(
        history.subject,
        [a for a in history.assessments if a.when <= now],
        [s for s in history.sessions if s.when <= now],
        [p for p in history.prescriptions if p.when <= now],
    )
    started = history.prescriptions[0].when if history.prescriptions else None
    weeks = _weeks(started, now) if started else 0.0
    done = settings.session_counts_when_completed
    completed = [s for s in history.sessions if s.completion >= done]
    last = history.assessments[-1].when if history.assessments else None
    since_last = [s for s in history.sessions if last is None or s.when > last]
    zone = [s.time_in_zone for s in since_last if s.time_in_zone is not None]
    adherence = None
    if history.prescriptions:
        current = history.prescriptions[-1]
        elapsed = _weeks(current.when, now)
        if elapsed >= 1.0:
            expected = current.sessions_per_week * elapsed
            count = sum(1 for s in completed if s.when >= current.when)
            adherence = min(1.0, count / expected) if expected > 0 else None
    due, reason = False, "no programme yet: the first assessment starts it"
    if started is not None:
        sessions_since = sum(1 for s in completed if last is None or s.when > last)
        weeks_at_last = _weeks(started, last) if last else -1.0
        passed = [w for w in settings.reassessment.weeks if weeks_at_last < w <= weeks]
        cite = ", ".join(settings.reassessment.cite)
        if passed:
            due = True
            reason = f"week {passed[-1]:g} of the programme (EVIDENCE {cite})"
        elif sessions_since >= settings.reassessment.sessions:
            due = True
            reason = f"{sessions_since} sessions completed since the last assessment"
        else:
            upcoming = [w for w in settings.reassessment.weeks if w > weeks]
            reason = (
                f"next at week {upcoming[0]:g} or after {settings.reassessment.sessions} sessions"
                if upcoming
                else f"after {settings.reassessment.sessions} sessions"
            )
    return ProgrammeStatus(
        started=started,
        weeks_in_programme=round(weeks, 3),
        sessions_completed=len(completed),
        adherence=None if adherence is None else round(adherence, 3),
        time_in_zone=round(sum(zone) / len(zone), 3) if zone else None,
        safety_stops=sum(1 for s in since_last if s.stopped),
        reassessment_due=due,
        reassessment_reason=reason,
    )


def _change(later: float | None, earlier: float | None) -> float | None:
    if later is None or earlier is None or not (math.isfinite(later) and math.isfinite(earlier)):
        return None
    return later - earlier


@dataclass(frozen=True)
class _Period:
    adherence: float | None
    time_in_zone: float | None
    safety_stops: int


def _period(history: ProgrammeHistory, start: datetime, end: datetime, done: float) -> _Period:
    """Adherence, time in zone and safety stops of the sessions between two assessments."""
    inside = [s for s in history.sessions if start < s.when <= end]
    zone = [s.time_in_zone for s in inside if s.time_in_zone is not None]
    in_force = [p for p in history.prescriptions if p.when <= end]
    adherence = None
    if in_force and _weeks(max(start, in_force[0].when), end) >= 1.0:
        expected = 0.0
        for i, p in enumerate(in_force):  # each prescription over the part of the period it ruled
            until = in_force[i + 1].when if i + 1 < len(in_force) else end
            expected += p.sessions_per_week * _weeks(max(start, p.when), min(until, end))
        completed = sum(1 for s in inside if s.completion >= done)
        adherence = min(1.0, completed / expected) if expected > 0 else None
    return _Period(
        None if adherence is None else round(adherence, 3),
        round(sum(zone) / len(zone), 3) if zone else None,
        sum(1 for s in inside if s.stopped),
    )


def decide_response(
    history: ProgrammeHistory, status: ProgrammeStatus, settings: ProgrammeSettings
) -> ResponseDecision:
    """Progress, hold or step back from the last two assessments and the sessions between them
    (adherence, time in zone and safety stops of that period).

    Order of the checks (the first that applies decides; every finding is kept as a reason):
    safety stops → step back; adherence below the step-back level → step back; index (or
    craving) worse by ``change_points`` → step back, except inside the incubation window where
    a rise is expected (hold); better by ``change_points`` with adherence and time in zone at
    their progress levels → progress; otherwise hold, saying what is missing.
    """
    r = settings.response
    if len(history.assessments) < 2:
        return ResponseDecision("none", ("fewer than two assessments: nothing to compare",),
                                None, None)  # fmt: skip
    before, after = history.assessments[-2], history.assessments[-1]
    period = _period(history, before.when, after.when, settings.session_counts_when_completed)
    d_index, d_craving = _change(after.index, before.index), _change(after.craving, before.craving)
    weeks = status.weeks_in_programme
    step = r.change_points
    reasons: list[str] = []
    if d_index is not None:
        reasons.append(f"index {before.index:.0f} → {after.index:.0f} ({d_index:+.0f} points)")
    if d_craving is not None:
        reasons.append(f"craving {before.craving:.0f} → {after.craving:.0f} ({d_craving:+.0f})")
    if period.adherence is not None:
        reasons.append(f"adherence {period.adherence:.0%}")
    if period.time_in_zone is not None:
        reasons.append(f"time in zone {period.time_in_zone:.0%}")

    def decided(decision: Decision, why: str) -> ResponseDecision:
        return ResponseDecision(decision, (why, *reasons), d_index, d_craving)

    if period.safety_stops >= r.safety_stops_step_back:
        return decided("step_back", f"{period.safety_stops} sessions stopped by a safety alert")
    if period.adherence is not None and period.adherence < r.adherence_step_back:
        return decided("step_back", f"adherence below {r.adherence_step_back:.0%}: make it easier")
    worse = (d_index is not None and d_index >= step) or (
        d_craving is not None and d_craving >= step and weeks >= r.craving_latency_weeks
    )
    low, high = r.incubation_weeks
    if worse and low <= weeks <= high:
        cite = ", ".join(r.cite_incubation)
        return decided("hold", f"worse, but cue craving is expected to rise in weeks "
                               f"{low:g}-{high:g} (EVIDENCE {cite}): hold")  # fmt: skip
    if worse:
        return decided("step_back", f"index or craving worse by {step:g} points or more")
    better = (d_index is not None and d_index <= -step) or (
        d_craving is not None and d_craving <= -step
    )
    adherent = period.adherence is None or period.adherence >= r.adherence_progress
    in_zone = period.time_in_zone is not None and period.time_in_zone >= r.time_in_zone_progress
    if better and adherent and in_zone:
        return decided("progress", f"better by {step:g} points or more, sessions done in the zone")
    missing = []
    if not better:
        note = ""
        if weeks < r.craving_latency_weeks:
            note = f" (craving falls after about {r.craving_latency_weeks:g} weeks, EVIDENCE "
            note += ", ".join(r.cite_latency) + ")"
        missing.append(f"no change of {step:g} points yet{note}")
    if not adherent:
        missing.append(f"adherence below {r.adherence_progress:.0%}")
    if not in_zone:
        missing.append(f"time in zone below {r.time_in_zone_progress:.0%}")
    return decided("hold", "hold: " + "; ".join(missing))
