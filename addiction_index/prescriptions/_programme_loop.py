"""Closing the loop: from what the store holds to the next prescription, and why.

:func:`load_history` reads a resident's programme from the store (assessments, exercise
sessions, prescriptions in force); :func:`loop_state` turns a history, the intake facts and
``now`` into the rule engine's inputs (the latest assessment's index, craving and resting HR;
weeks in the programme, sessions completed, adherence, time in zone; the response decided at the
last re-assessment and the net progression level); :func:`prescribe_subject` runs the rule set
and stores the prescription with the assessment it answers.

The progression level replays every re-assessment of the history: each "progress" is one step
up the rule set's ``progression_step``, each "step_back" one down, bounded by
``progression_levels`` of ``programme.yaml``; so a resident who progressed twice gets two steps
above the dose the rules give for the current phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from addiction_index.errors import InputError
from addiction_index.prescriptions._engine import PrescriptionInputs, prescribe
from addiction_index.prescriptions._music import MusicLibrary, playlist
from addiction_index.prescriptions._programme import (
    Assessment,
    ExerciseDone,
    Prescribed,
    ProgrammeHistory,
    ProgrammeSettings,
    ProgrammeStatus,
    ResponseDecision,
    decide_response,
    programme_status,
)
from addiction_index.store._database import utc_now

if TYPE_CHECKING:
    from addiction_index.prescriptions._ruleset import RuleSet
    from addiction_index.store import SessionStore

__all__ = ["LoopState", "load_history", "loop_state", "prescribe_subject", "progression_level"]

#: Exercise sessions that count for the loop (a stopped session counts with its completion).
_COUNTED = ("completed", "stopped")


@dataclass(frozen=True)
class LoopState:
    """The engine's inputs and the programme facts they came from."""

    inputs: PrescriptionInputs
    status: ProgrammeStatus
    decision: ResponseDecision
    level: int
    assessment: Assessment

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.to_dict(),
            "response": self.decision.to_dict(),
            "progression_level": self.level,
            "assessment_session_id": self.assessment.session_id,
        }


def load_history(store: SessionStore, subject: str) -> ProgrammeHistory:
    """The resident's programme as stored: assessments, exercise sessions, prescriptions."""
    from addiction_index.store._exercise_log import ExerciseLog
    from addiction_index.store._programme_store import ProgrammeRecords

    records = ProgrammeRecords(store)
    assessments = [
        Assessment(r["when"], r["index"], r["craving"], r["session_id"])
        for r in records.assessments(subject)
    ]
    sessions = [
        ExerciseDone(
            datetime.fromisoformat(r["started_at"]),
            float(r["completion"] or 0.0),
            r["in_zone_fraction"],
            r["stopped_reason"] if r["status"] == "stopped" else None,
        )
        for r in ExerciseLog(store).list_for_subject(subject, limit=100_000)
        if r["status"] in _COUNTED
    ]
    prescriptions = [
        Prescribed(r["created_at"], float(_sessions_per_week(r["prescription"])), r["id"])
        for r in records.prescriptions(subject)
    ]
    return ProgrammeHistory(subject, assessments, sessions, prescriptions)


def _sessions_per_week(prescription: dict[str, Any]) -> float:
    exercise = prescription.get("exercise") or {}  # None when a contraindication vetoed it
    return float(exercise.get("sessions_per_week") or 0.0)


def progression_level(history: ProgrammeHistory, settings: ProgrammeSettings) -> int:
    """Net progression steps over every re-assessment so far (module docstring)."""
    level, bound = 0, settings.progression_levels
    for k in range(2, len(history.assessments) + 1):
        at = history.assessments[k - 1].when
        partial = ProgrammeHistory(
            history.subject,
            history.assessments[:k],
            [s for s in history.sessions if s.when <= at],
            [p for p in history.prescriptions if p.when <= at],
        )
        decision = decide_response(partial, programme_status(partial, settings, at), settings)
        step = {"progress": 1, "step_back": -1}.get(decision.decision, 0)
        level = max(-bound, min(bound, level + step))
    return level


def loop_state(
    history: ProgrammeHistory,
    intake: dict[str, Any],
    settings: ProgrammeSettings,
    *,
    resting_hr: float | None,
    index_confidence: float = 0.0,
    now: datetime | None = None,
) -> LoopState:
    """The engine's inputs for the latest assessment of ``history``.

    ``intake``: facts from :class:`~addiction_index.store._programme_store.IntakeFacts` (age is
    required); ``resting_hr``: the latest assessment's baseline heart rate (bpm).
    """
    if not history.assessments:
        raise InputError("subject", history.subject, "a resident with a completed assessment")
    if intake.get("age") is None:
        raise InputError("age", None, "the resident's age (give --age, or record it at intake)")
    if resting_hr is None:
        raise InputError(
            "resting_hr", None, "the resting heart rate of the assessment's baseline block"
        )
    now = now or utc_now()
    latest = history.assessments[-1]
    status = programme_status(history, settings, now)
    decision = decide_response(history, status, settings)
    level = progression_level(history, settings)
    inputs = PrescriptionInputs(
        age=float(intake["age"]),
        resting_hr=round(float(resting_hr), 1),
        index=latest.index,
        index_confidence=index_confidence,
        craving=latest.craving,
        sex=intake.get("sex") or "unknown",
        hr_max_measured=intake.get("hr_max_measured"),
        weeks_in_programme=status.weeks_in_programme,
        sessions_completed=status.sessions_completed,
        adherence=status.adherence,
        time_in_zone=status.time_in_zone,
        response=decision.decision,
        index_change=decision.index_change,
        craving_change=decision.craving_change,
        contraindications=tuple(intake.get("contraindications") or ()),
        mood=intake.get("mood"),
        energy=intake.get("energy"),
        progression_level=level,
    )
    return LoopState(inputs, status, decision, level, latest)


def prescribe_subject(
    store: SessionStore,
    subject: str,
    rule_set: RuleSet,
    settings: ProgrammeSettings,
    *,
    now: datetime | None = None,
    library: MusicLibrary | None = None,
    new_facts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Prescribe from the latest assessment, intake facts and the programme; store it with the
    assessment session. Returns the prescription (``programme``: status, response and level;
    ``playlist`` from ``library`` matched to the music prescription and the exercise's cadence;
    ``prescription_id``). ``new_facts`` (intake facts just entered) count for this decision and
    are recorded only once it is made: a refused prescription records nothing."""
    from addiction_index.store._programme_store import ProgrammeRecords, check_intake_facts

    records = ProgrammeRecords(store)
    checked = check_intake_facts(new_facts or {})
    history = load_history(store, subject)
    rows = records.assessments(subject)
    latest = rows[-1] if rows else {}
    state = loop_state(
        history,
        records.intake(subject) | checked,
        settings,
        resting_hr=latest.get("resting_hr"),
        index_confidence=latest.get("index_confidence") or 0.0,
        now=now,
    )
    decided = prescribe(rule_set, state.inputs)
    prescription = decided.to_dict() | {"programme": state.to_dict()}
    if library is not None:
        chosen = playlist(decided.music, library, cadence=decided.music.cadence)
        prescription["playlist"] = chosen.to_dict() | {"library": Path(library.source).name}
    if checked:
        records.record_intake(subject, checked)
    prescription_id = records.add_prescription(int(latest["session_id"]), prescription)
    return prescription | {"prescription_id": prescription_id}
