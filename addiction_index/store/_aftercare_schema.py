"""Tables of aftercare: intake instruments and risk factors, releases and follow-up contacts.

Drug history is sensitive, so the intake answers and risk factors have tables of their own
(``instrument_responses``, ``intake_risk_factors``) that the web app shows only to clinicians and
case managers; ``releases`` and ``followup_contacts`` hold what a case manager and a community
station share. Rows keep who entered them and when (:func:`utc_now`); nothing is free text
about a person: a station is an organisation, statuses and modes are fixed vocabularies.

* ``instrument_responses``: one completed instrument (answers, score, band, subscales), with the
  instrument's id and version and the language it was given in.
* ``intake_risk_factors``: one entry of factual risk factors (JSON; newest value per factor wins).
* ``releases``: a release from the centre to a community station, with the resident's consent
  to the hand-over (date and who recorded it).
* ``followup_contacts``: one contact after a release: date, mode, status and test result.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = [
    "CONTACT_MODES",
    "CONTACT_STATUSES",
    "TEST_RESULTS",
    "FollowupContactRecord",
    "InstrumentResponseRecord",
    "IntakeRiskFactorsRecord",
    "ReleaseRecord",
]

CONTACT_MODES = ("phone", "visit", "station", "message", "other")
CONTACT_STATUSES = ("abstinent", "relapsed", "lost", "refused")
"""``lost``: lost to contact; ``refused``: reached but refused the follow-up."""
TEST_RESULTS = ("negative", "positive", "not_done")


def _in(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def _subject_fk() -> Any:
    return ForeignKey("subjects.id", ondelete="RESTRICT")


class InstrumentResponseRecord(Base):
    """One completed instrument: answers (item id → value), score, band, who and when."""

    __tablename__ = "instrument_responses"
    __table_args__ = (Index("ix_instrument_responses_subject", "subject_id", "instrument"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(_subject_fk())
    instrument: Mapped[str] = mapped_column(String(32))
    instrument_version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    answers_json: Mapped[dict[str, Any]]
    score: Mapped[float]
    band: Mapped[str] = mapped_column(String(32))
    subscales_json: Mapped[dict[str, Any] | None]
    entered_at: Mapped[datetime] = mapped_column(default=utc_now)
    entered_by: Mapped[str] = mapped_column(String(64))


class IntakeRiskFactorsRecord(Base):
    """One entry of intake risk factors (factor id → value); the newest value per factor wins."""

    __tablename__ = "intake_risk_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(_subject_fk(), index=True)
    factors_json: Mapped[dict[str, Any]]
    definitions_version: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(default=utc_now)
    entered_by: Mapped[str] = mapped_column(String(64))


class ReleaseRecord(Base):
    """A release to a community station, with the consent to the hand-over."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("subject_id", "release_date", name="uq_releases_subject_date"),
        Index("ix_releases_release_date", "release_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(_subject_fk(), index=True)
    release_date: Mapped[date]
    station: Mapped[str] = mapped_column(String(128))
    consent: Mapped[bool] = mapped_column(default=False)
    consent_date: Mapped[date | None]
    consent_recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    recorded_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))  # "cli", "import", "web"


class FollowupContactRecord(Base):
    """One follow-up contact after a release."""

    __tablename__ = "followup_contacts"
    __table_args__ = (
        _in("mode", CONTACT_MODES, "ck_followup_contacts_mode"),
        _in("status", CONTACT_STATUSES, "ck_followup_contacts_status"),
        _in("test", TEST_RESULTS, "ck_followup_contacts_test"),
        Index("ix_followup_contacts_release_date", "release_id", "contact_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="RESTRICT"))
    contact_date: Mapped[date]
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    test: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    recorded_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
