"""Login throttle: failed logins per (hashed) username, shared by every server worker.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Written out by hand from ``alembic revision --autogenerate`` against a database at 0001 (SQLite
and PostgreSQL gave the same operations). ``login_throttle`` is keyed by the SHA-256 of the
case-folded username (see ``addiction_index/store/_login_throttle_schema.py``).

A database made by ``create_all`` with this version's models already has the table when it is
adopted (stamped at 0001, see the migrations package): the table is then kept if its columns are
the expected ones, and the migration fails (nothing changed) if they are not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from addiction_index.errors import StorageError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

TABLE = "login_throttle"
COLUMNS = frozenset({"name_hash", "failures", "locked_until", "last_failure_at"})


def _existing_columns() -> frozenset[str] | None:
    """The columns of an existing ``login_throttle`` table, or None (none, or offline ``--sql``)."""
    if context.is_offline_mode():
        return None
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(TABLE):
        return None
    return frozenset(c["name"] for c in inspector.get_columns(TABLE))


def upgrade() -> None:
    """Create ``login_throttle`` and its index (keep one ``create_all`` made, if it matches)."""
    existing = _existing_columns()
    if existing is not None:
        if existing != COLUMNS:
            raise StorageError(
                f"table {TABLE} exists but has the columns {sorted(existing)}, "
                f"not {sorted(COLUMNS)}"
            )
        return
    op.create_table(
        TABLE,
        sa.Column("name_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name_hash"),
    )
    op.create_index("ix_login_throttle_last_failure_at", TABLE, ["last_failure_at"], unique=False)


def downgrade() -> None:
    """Drop ``login_throttle`` (its index goes with it)."""
    op.drop_table(TABLE)
