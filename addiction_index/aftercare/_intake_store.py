"""Intake records: completed instruments and factual risk factors of each resident.

:class:`IntakeRecords` works on an open :class:`~addiction_index.store.SessionStore` (same
engine). Answers and factors are checked before they reach it (:func:`check_form`,
:func:`check_factors`); :meth:`IntakeRecords.record_intake` writes one intake (factors and any
number of instruments) in one transaction, so an intake is stored whole or not at all.
Nothing personal is logged: only counts and instrument ids.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from addiction_index.aftercare._instruments import LANGUAGES
from addiction_index.aftercare._scoring import InstrumentScore
from addiction_index.errors import InputError
from addiction_index.store import SessionStore
from addiction_index.store._aftercare_schema import (
    InstrumentResponseRecord,
    IntakeRiskFactorsRecord,
)
from addiction_index.store._database import to_json, utc_now
from addiction_index.store._schema import Subject, check_subject_code

__all__ = ["IntakeRecords", "who"]

logger = logging.getLogger(__name__)


def who(by: str | None) -> str:
    """The person recording: ``by``, else the operating-system user (at most 64 characters)."""
    name = (by or "").strip() or getpass.getuser()
    return name[:64]


def subject_id_in(session: Session, code: str) -> int:
    """The id of subject ``code`` inside ``session``'s transaction, creating it if new."""
    code = check_subject_code(code)
    found = session.scalar(select(Subject.id).where(Subject.code == code))
    if found is not None:
        return found
    record = Subject(code=code, created_at=utc_now())
    session.add(record)
    session.flush()
    return record.id


class IntakeRecords:
    """Instrument responses and risk factors in one store."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def record_intake(
        self,
        subject: str,
        *,
        factors: Mapping[str, Any] | None = None,
        factors_version: str = "",
        scores: Iterable[InstrumentScore] = (),
        language: str = "en",
        by: str | None = None,
    ) -> dict[str, Any]:
        """Store checked ``factors`` and instrument ``scores`` in one transaction.

        Returns ``{"response_ids": [...], "factors": merged factors now in force}``.
        """
        if language not in LANGUAGES:
            raise InputError("language", language, "one of " + ", ".join(LANGUAGES))
        person = who(by)
        scores = list(scores)
        ids: list[int] = []
        with self.store._transaction("recording an intake") as session:
            subject_id = subject_id_in(session, subject)
            if factors:
                session.add(
                    IntakeRiskFactorsRecord(
                        subject_id=subject_id,
                        factors_json=to_json(dict(factors), "risk factors"),
                        definitions_version=factors_version[:32],
                        entered_at=utc_now(),
                        entered_by=person,
                    )
                )
            for result in scores:
                record = InstrumentResponseRecord(
                    subject_id=subject_id,
                    instrument=result.instrument,
                    instrument_version=result.version[:32],
                    language=language,
                    answers_json=to_json(result.answers, "answers"),
                    score=float(result.score),
                    band=result.band,
                    subscales_json=to_json(result.subscales, "subscales") or None,
                    entered_at=utc_now(),
                    entered_by=person,
                )
                session.add(record)
                session.flush()
                ids.append(record.id)
        logger.info("intake stored: %d instrument(s), factors %s", len(ids), bool(factors))
        return {"response_ids": ids, "factors": self.risk_factors(subject)}

    def risk_factors(self, subject: str) -> dict[str, Any]:
        """The resident's risk factors: every entry merged, the newest value per factor."""
        query = (
            select(IntakeRiskFactorsRecord.factors_json)
            .join(Subject, Subject.id == IntakeRiskFactorsRecord.subject_id)
            .where(Subject.code == check_subject_code(subject))
            .order_by(IntakeRiskFactorsRecord.entered_at, IntakeRiskFactorsRecord.id)
        )
        merged: dict[str, Any] = {}
        with self.store._transaction("reading risk factors") as session:
            for factors in session.scalars(query):
                merged.update(factors)
        return merged

    def responses(self, subject: str, instrument: str | None = None) -> list[dict[str, Any]]:
        """The resident's completed instruments, oldest first (answers included)."""
        query = (
            select(InstrumentResponseRecord)
            .join(Subject, Subject.id == InstrumentResponseRecord.subject_id)
            .where(Subject.code == check_subject_code(subject))
            .order_by(InstrumentResponseRecord.entered_at, InstrumentResponseRecord.id)
        )
        if instrument is not None:
            query = query.where(InstrumentResponseRecord.instrument == instrument)
        with self.store._transaction("reading instrument responses") as session:
            return [_response_dict(r) for r in session.scalars(query)]

    def latest_scores(self, subject: str) -> dict[str, dict[str, Any]]:
        """Instrument id → the newest response (score, band, when...)."""
        return {r["instrument"]: r for r in self.responses(subject)}


def _response_dict(record: InstrumentResponseRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "instrument": record.instrument,
        "version": record.instrument_version,
        "language": record.language,
        "score": record.score,
        "band": record.band,
        "subscales": record.subscales_json or {},
        "answers": record.answers_json,
        "entered_at": record.entered_at.isoformat(),
        "entered_by": record.entered_by,
    }
