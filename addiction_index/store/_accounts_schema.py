"""Tables of the web app's accounts and privacy: users, the append-only audit log, identities.

* ``users``: staff accounts (never residents): a username, one role, an argon2 password hash.
* ``audit_log``: every read of personal data and every decision, append-only (the store never
  updates or deletes a row). ``detail_json`` holds ids and codes, never personal data.
* ``resident_identities``: a resident's identifying details (name, birth date, ID number, ...)
  as one encrypted blob per subject, apart from everything else; only the clinician role may
  read it, and every read is audited. The key is not in the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = ["ROLES", "AuditRecord", "ResidentIdentityRecord", "UserRecord"]

#: The staff roles, least privilege each (see the web app's route table).
ROLES = ("clinician", "coach", "researcher", "case-manager", "admin")


class UserRecord(Base):
    """A staff account."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)), name="ck_users_role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditRecord(Base):
    """One audited action: who (user and role), what, on which record, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "read_identity", "prescribe"
    target_kind: Mapped[str | None] = mapped_column(String(32))  # subject, session, ...
    target_id: Mapped[str | None] = mapped_column(String(64))  # a pseudonymous code or an id
    detail_json: Mapped[dict[str, Any] | None]


class ResidentIdentityRecord(Base):
    """A resident's identifying details, encrypted (Fernet token), one row per subject."""

    __tablename__ = "resident_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))  # which key encrypted it (rotation)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
