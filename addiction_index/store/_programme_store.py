"""Reading and writing the prescription loop: intake facts, prescriptions, overrides, history.

:class:`ProgrammeRecords` works on an open :class:`~addiction_index.store.SessionStore` (same
engine, same transactions). :meth:`ProgrammeRecords.history` assembles what the loop decides
from (:class:`~addiction_index.prescriptions._programme.ProgrammeHistory`): completed
assessments with their index and post-cue craving rating, exercise sessions, and the
prescriptions in force (an override replaces its prescription from the time it was made).
"""

from __future__ import annotations

import getpass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from addiction_index.errors import InputError
from addiction_index.store._database import to_json, utc_now
from addiction_index.store._programme_schema import IntakeFactsRecord, PrescriptionOverrideRecord
from addiction_index.store._repository import SessionStore
from addiction_index.store._schema import (
    MarkerRecord,
    PrescriptionRecord,
    SessionRecord,
    Subject,
    check_subject_code,
)

__all__ = ["IntakeFacts", "ProgrammeRecords", "check_intake_facts"]


class IntakeFacts(BaseModel):
    """What a prescription needs from intake; every field optional (newest entry wins)."""

    model_config = ConfigDict(extra="forbid")

    age: float | None = Field(default=None, ge=12, le=100, description="years")
    sex: Literal["male", "female", "unknown"] | None = None
    hr_max_measured: float | None = Field(default=None, ge=100, le=230, description="bpm")
    contraindications: list[str] | None = None
    mood: Literal["low", "normal"] | None = None
    energy: Literal["low", "normal"] | None = None


def check_intake_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` checked against :class:`IntakeFacts` (None values dropped), or InputError."""
    try:
        return IntakeFacts.model_validate(facts).model_dump(exclude_none=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "facts"
        raise InputError(field, first.get("input"), first["msg"]) from None


class ProgrammeRecords:
    """The loop's records in one store."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    # -- intake ----------------------------------------------------------------------------
    def record_intake(self, subject: str, facts: dict[str, Any]) -> dict[str, Any]:
        """Add an intake entry (checked); return the merged facts now in force."""
        checked = check_intake_facts(facts)
        if checked:
            subject_id = self.store.subject(subject)
            with self.store._transaction("recording intake facts") as session:
                facts_json = to_json(checked, "intake facts")
                record = IntakeFactsRecord(subject_id=subject_id, facts_json=facts_json)
                session.add(record)
        return self.intake(subject)

    def intake(self, subject: str) -> dict[str, Any]:
        """The resident's intake facts: every entry merged, newest last."""
        query = (
            select(IntakeFactsRecord.facts_json)
            .join(Subject, Subject.id == IntakeFactsRecord.subject_id)
            .where(Subject.code == check_subject_code(subject))
            .order_by(IntakeFactsRecord.recorded_at, IntakeFactsRecord.id)
        )
        merged: dict[str, Any] = {}
        with self.store._transaction("reading intake facts") as session:
            for facts in session.scalars(query):
                merged.update(facts)
        return merged

    # -- prescriptions -----------------------------------------------------------------------
    def add_prescription(self, session_id: int, prescription: dict[str, Any]) -> int:
        """Store a prescription decided for an assessment session (kept whole as JSON)."""
        data = to_json(dict(prescription), "prescription")
        with self.store._transaction("writing a prescription") as session:
            if session.get(SessionRecord, session_id) is None:
                raise InputError("session_id", session_id, "an existing assessment session")
            record = PrescriptionRecord(
                session_id=session_id,
                rule_set=str(prescription.get("rule_set", "")),
                rule_set_version=str(prescription.get("version", "")),
                created_at=utc_now(),
                prescription_json=data,
            )
            session.add(record)
            session.flush()
            return record.id

    def override(
        self,
        prescription_id: int,
        changes: dict[str, Any],
        reason: str,
        by: str | None = None,
    ) -> dict[str, Any]:
        """A clinician's override: ``changes`` (``{"exercise": {"type": ...}}``) applied over the
        prescription in force; the original, the result, the reason and who are kept."""
        if not reason or not reason.strip():
            raise InputError("reason", reason, "the reason for the override")
        who = by or getpass.getuser()
        with self.store._transaction("overriding a prescription") as session:
            record = session.get(PrescriptionRecord, prescription_id)
            if record is None:
                raise InputError("prescription_id", prescription_id, "an existing prescription")
            latest = session.scalars(
                select(PrescriptionOverrideRecord)
                .where(PrescriptionOverrideRecord.prescription_id == prescription_id)
                .order_by(PrescriptionOverrideRecord.id.desc())
            ).first()
            original = latest.override_json if latest else record.prescription_json
            result = _merge(original, changes)
            result["overridden"] = {"by": who, "reason": reason.strip()}
            session.add(
                PrescriptionOverrideRecord(
                    prescription_id=prescription_id, created_at=utc_now(), by=who[:64],
                    reason=reason.strip()[:1000], original_json=original,
                    override_json=to_json(result, "override"),
                )
            )  # fmt: skip
        return result

    def prescriptions(self, subject: str) -> list[dict[str, Any]]:
        """The resident's prescriptions, oldest first, each as in force (override applied)."""
        query = (
            select(PrescriptionRecord, SessionRecord.started_at)
            .join(SessionRecord, SessionRecord.id == PrescriptionRecord.session_id)
            .join(Subject, Subject.id == SessionRecord.subject_id)
            .where(Subject.code == check_subject_code(subject))
            .order_by(PrescriptionRecord.created_at, PrescriptionRecord.id)
        )
        out = []
        with self.store._transaction("reading prescriptions") as session:
            for record, _ in session.execute(query):
                latest = session.scalars(
                    select(PrescriptionOverrideRecord)
                    .where(PrescriptionOverrideRecord.prescription_id == record.id)
                    .order_by(PrescriptionOverrideRecord.id.desc())
                ).first()
                in_force = latest.override_json if latest else record.prescription_json
                out.append(
                    {
                        "id": record.id,
                        "session_id": record.session_id,
                        "created_at": record.created_at,
                        "prescription": in_force,
                        "overridden": latest is not None,
                    }
                )
        return out

    # -- assessments -------------------------------------------------------------------------
    def assessments(self, subject: str) -> list[dict[str, Any]]:
        """Completed assessments, oldest first: id, when, index, confidence, post-cue craving."""
        query = (
            select(SessionRecord)
            .join(Subject, Subject.id == SessionRecord.subject_id)
            .where(Subject.code == check_subject_code(subject))
            .where(SessionRecord.kind == "assessment", SessionRecord.status == "completed")
            .order_by(SessionRecord.started_at, SessionRecord.id)
        )
        out = []
        with self.store._transaction("reading assessments") as session:
            for record in session.scalars(query):
                ratings = session.scalars(
                    select(MarkerRecord)
                    .where(MarkerRecord.session_id == record.id, MarkerRecord.label == "rating")
                    .order_by(MarkerRecord.t)
                ).all()
                post = [m.value for m in ratings if (m.meta or {}).get("moment") == "post_cue"]
                index = record.index_json or {}
                out.append(
                    {
                        "session_id": record.id,
                        "when": record.started_at,
                        "index": record.index_value,
                        "index_confidence": record.index_confidence or 0.0,
                        "craving": post[-1] if post else None,
                        "resting_hr": index.get("resting_hr_bpm"),
                        "model": index.get("model"),
                    }
                )
        return out


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
