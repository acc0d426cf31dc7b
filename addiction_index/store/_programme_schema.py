"""Tables of the prescription loop: intake facts a prescription reads, clinicians' overrides.

* ``intake_facts``: what a prescription needs to know about a resident beyond the assessment
  (age, sex, a measured HRmax, contraindications, mood and energy at intake), one row per
  entry, newest wins. Facts, not identity: JSON keys naming personal details are refused
  (:func:`~addiction_index.store._database.to_json`).
* ``prescription_overrides``: a clinician's change to a prescription, with the original, the
  new one, the reason and who made it; the original prescription row is never modified.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = ["IntakeFactsRecord", "PrescriptionOverrideRecord"]


class IntakeFactsRecord(Base):
    """Intake facts of one resident as entered at ``recorded_at`` (newest row wins per key)."""

    __tablename__ = "intake_facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="RESTRICT"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    facts_json: Mapped[dict[str, Any]]


class PrescriptionOverrideRecord(Base):
    """A clinician's override of a prescription: original, replacement, reason, who, when."""

    __tablename__ = "prescription_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    original_json: Mapped[dict[str, Any]]
    override_json: Mapped[dict[str, Any]]
