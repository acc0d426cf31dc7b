"""Release and follow-up records: who was released when to which station, and each contact since.

:class:`FollowupRecords` works on an open :class:`~addiction_index.store.SessionStore`. A contact
belongs to the resident's latest release on or before its date. Values are checked here
(:func:`check_contact`), so the CLI, the CSV import and the web app share one set of rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from addiction_index.aftercare._intake_store import subject_id_in, who
from addiction_index.errors import InputError
from addiction_index.store import SessionStore
from addiction_index.store._aftercare_schema import (
    CONTACT_MODES,
    CONTACT_STATUSES,
    TEST_RESULTS,
    FollowupContactRecord,
    ReleaseRecord,
)
from addiction_index.store._database import utc_now
from addiction_index.store._schema import Subject, check_subject_code

__all__ = ["Contact", "FollowupRecords", "Release", "check_contact"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    """A release to be recorded (checked by :meth:`check`)."""

    subject: str
    release_date: date
    station: str
    consent: bool = False
    consent_date: date | None = None
    consent_recorded_by: str | None = None

    def check(self) -> Release:
        """This release, or InputError naming the bad argument."""
        check_subject_code(self.subject)
        if not isinstance(self.release_date, date):
            raise InputError("release_date", self.release_date, "a date")
        if not self.station.strip() or len(self.station.strip()) > 128:
            raise InputError("station", self.station, "the receiving station, 1-128 characters")
        if self.consent_date is not None and not self.consent:
            raise InputError("consent_date", self.consent_date, "no consent date without consent")
        return self


@dataclass(frozen=True)
class Contact:
    """A follow-up contact to be recorded (checked by :func:`check_contact`)."""

    subject: str
    contact_date: date
    mode: str
    status: str
    test: str = "not_done"


def check_contact(contact: Contact) -> Contact:
    """``contact`` with its vocabulary checked, or InputError naming the bad argument."""
    check_subject_code(contact.subject)
    for argument, value, allowed in (
        ("mode", contact.mode, CONTACT_MODES),
        ("status", contact.status, CONTACT_STATUSES),
        ("test", contact.test, TEST_RESULTS),
    ):
        if value not in allowed:
            raise InputError(argument, value, "one of " + ", ".join(allowed))
    return contact


class FollowupRecords:
    """Releases and follow-up contacts in one store."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    # -- writing -----------------------------------------------------------------------------
    def add_release(
        self, release: Release, *, by: str | None = None, source: str = "cli"
    ) -> dict[str, Any]:
        """Record ``release``; InputError if the resident already has a release that day."""
        release.check()
        with self.store._transaction("recording a release") as session:
            record = write_release(session, release, who(by), source)
            out = _release_dict(record, release.subject)
        logger.info("release recorded (id %d)", out["id"])
        return out

    def add_contact(
        self, contact: Contact, *, by: str | None = None, source: str = "cli"
    ) -> dict[str, Any]:
        """Record ``contact`` against the resident's latest release on or before its date."""
        check_contact(contact)
        with self.store._transaction("recording a follow-up contact") as session:
            record = write_contact(session, contact, who(by), source)
            out = _contact_dict(record)
        logger.info("follow-up contact recorded (id %d)", out["id"])
        return out

    # -- reading -----------------------------------------------------------------------------
    def releases(self, subject: str | None = None) -> list[dict[str, Any]]:
        """Releases (of ``subject``, or all), by resident then date, each with its contacts."""
        query = (
            select(ReleaseRecord, Subject.code)
            .join(Subject, Subject.id == ReleaseRecord.subject_id)
            .order_by(Subject.code, ReleaseRecord.release_date)
        )
        if subject is not None:
            query = query.where(Subject.code == check_subject_code(subject))
        with self.store._transaction("reading releases") as session:
            rows = session.execute(query).all()
            contacts: dict[int, list[dict[str, Any]]] = {}
            ids = [r.id for r, _ in rows]
            if ids:
                found = session.scalars(
                    select(FollowupContactRecord)
                    .where(FollowupContactRecord.release_id.in_(ids))
                    .order_by(FollowupContactRecord.contact_date, FollowupContactRecord.id)
                )
                for c in found:
                    contacts.setdefault(c.release_id, []).append(_contact_dict(c))
            return [
                _release_dict(r, code) | {"contacts": contacts.get(r.id, [])} for r, code in rows
            ]


def find_release(session: Session, subject_id: int, on: date) -> ReleaseRecord | None:
    """The subject's latest release on or before ``on``."""
    return session.scalars(
        select(ReleaseRecord)
        .where(ReleaseRecord.subject_id == subject_id, ReleaseRecord.release_date <= on)
        .order_by(ReleaseRecord.release_date.desc())
    ).first()


def write_release(session: Session, release: Release, by: str, source: str) -> ReleaseRecord:
    """Add ``release`` inside ``session``'s transaction (InputError if one exists that day)."""
    subject_id = subject_id_in(session, release.subject)
    exists = session.scalar(
        select(ReleaseRecord.id).where(
            ReleaseRecord.subject_id == subject_id,
            ReleaseRecord.release_date == release.release_date,
        )
    )
    if exists is not None:
        raise InputError(
            "release_date", release.release_date.isoformat(),
            f"a date without a release of {release.subject} (one is already recorded)",
        )  # fmt: skip
    record = ReleaseRecord(
        subject_id=subject_id,
        release_date=release.release_date,
        station=release.station.strip(),
        consent=release.consent,
        consent_date=release.consent_date,
        consent_recorded_by=(by if release.consent else None)
        if release.consent_recorded_by is None
        else release.consent_recorded_by[:64],
        recorded_at=utc_now(),
        recorded_by=by,
        source=source[:64],
    )
    session.add(record)
    session.flush()
    return record


def write_contact(
    session: Session,
    contact: Contact,
    by: str,
    source: str,
    *,
    release: ReleaseRecord | None = None,
) -> FollowupContactRecord:
    """Add ``contact`` inside ``session``'s transaction, to ``release`` or else to the latest
    release on or before its date (InputError when there is none)."""
    if release is None:
        subject_id = subject_id_in(session, contact.subject)
        release = find_release(session, subject_id, contact.contact_date)
    if release is None:
        raise InputError(
            "date", contact.contact_date.isoformat(),
            f"a date on or after a recorded release of {contact.subject}",
        )  # fmt: skip
    record = FollowupContactRecord(
        release_id=release.id,
        contact_date=contact.contact_date,
        mode=contact.mode,
        status=contact.status,
        test=contact.test,
        recorded_at=utc_now(),
        recorded_by=by,
        source=source[:64],
    )
    session.add(record)
    session.flush()
    return record


def _release_dict(record: ReleaseRecord, code: str) -> dict[str, Any]:
    return {
        "id": record.id,
        "subject": code,
        "release_date": record.release_date.isoformat(),
        "station": record.station,
        "consent": record.consent,
        "consent_date": record.consent_date.isoformat() if record.consent_date else None,
        "consent_recorded_by": record.consent_recorded_by,
        "recorded_by": record.recorded_by,
        "source": record.source,
    }


def _contact_dict(record: FollowupContactRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "release_id": record.release_id,
        "date": record.contact_date.isoformat(),
        "mode": record.mode,
        "status": record.status,
        "test": record.test,
        "recorded_by": record.recorded_by,
        "source": record.source,
    }
