"""Aftercare: intake instrument responses and risk factors, releases and follow-up contacts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Written out by hand from ``alembic revision --autogenerate`` against a database at 0002 (see
``addiction_index/store/_aftercare_schema.py``). Instrument answers and risk factors (drug
history) have tables of their own, apart from releases and contacts.

A database made by ``create_all`` with this version's models already has these tables when it
is adopted (stamped at 0001, see the migrations package): each table is then kept if its columns
are the expected ones, and the migration fails (nothing changed) if they are not.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from addiction_index.errors import StorageError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

COLUMNS = {
    "instrument_responses": frozenset(
        {"id", "subject_id", "instrument", "instrument_version", "language", "answers_json",
         "score", "band", "subscales_json", "entered_at", "entered_by"}
    ),
    "intake_risk_factors": frozenset(
        {"id", "subject_id", "factors_json", "definitions_version", "entered_at", "entered_by"}
    ),
    "releases": frozenset(
        {"id", "subject_id", "release_date", "station", "consent", "consent_date",
         "consent_recorded_by", "recorded_at", "recorded_by", "source"}
    ),
    "followup_contacts": frozenset(
        {"id", "release_id", "contact_date", "mode", "status", "test", "recorded_at",
         "recorded_by", "source"}
    ),
}  # fmt: skip


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _existing_columns(table: str) -> frozenset[str] | None:
    """The columns of an existing ``table``, or None (none, or offline ``--sql``)."""
    if context.is_offline_mode():
        return None
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(table):
        return None
    return frozenset(c["name"] for c in inspector.get_columns(table))


def _instrument_responses() -> None:
    op.create_table(
        "instrument_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("instrument_version", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answers_json", sa.JSON(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=False),
        sa.Column("subscales_json", sa.JSON(), nullable=True),
        sa.Column("entered_at", _utc(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_instrument_responses_subject",
        "instrument_responses",
        ["subject_id", "instrument"],
        unique=False,
    )


def _intake_risk_factors() -> None:
    op.create_table(
        "intake_risk_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("factors_json", sa.JSON(), nullable=False),
        sa.Column("definitions_version", sa.String(length=32), nullable=False),
        sa.Column("entered_at", _utc(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_intake_risk_factors_subject_id", "intake_risk_factors", ["subject_id"], unique=False
    )


def _releases() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("station", sa.String(length=128), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("consent_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id", "release_date", name="uq_releases_subject_date"),
    )
    op.create_index("ix_releases_release_date", "releases", ["release_date"], unique=False)
    op.create_index("ix_releases_subject_id", "releases", ["subject_id"], unique=False)


def _followup_contacts() -> None:
    op.create_table(
        "followup_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("contact_date", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("test", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "mode IN ('phone', 'visit', 'station', 'message', 'other')",
            name="ck_followup_contacts_mode",
        ),
        sa.CheckConstraint(
            "status IN ('abstinent', 'relapsed', 'lost', 'refused')",
            name="ck_followup_contacts_status",
        ),
        sa.CheckConstraint(
            "test IN ('negative', 'positive', 'not_done')", name="ck_followup_contacts_test"
        ),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_followup_contacts_release_date",
        "followup_contacts",
        ["release_id", "contact_date"],
        unique=False,
    )


TABLES: dict[str, Callable[[], None]] = {
    "instrument_responses": _instrument_responses,
    "intake_risk_factors": _intake_risk_factors,
    "releases": _releases,
    "followup_contacts": _followup_contacts,
}


def upgrade() -> None:
    """Create the four aftercare tables (keep those ``create_all`` made, if they match)."""
    for table, create in TABLES.items():
        existing = _existing_columns(table)
        if existing is None:
            create()
        elif existing != COLUMNS[table]:
            raise StorageError(
                f"table {table} exists but has the columns {sorted(existing)}, "
                f"not {sorted(COLUMNS[table])}"
            )


def downgrade() -> None:
    """Drop the aftercare tables (contacts before releases; their indexes go with them)."""
    for table in reversed(TABLES):
        op.drop_table(table)
