"""Initial schema: every table of the session store, the exercise log, the prescription loop
and the web app (accounts, audit log, identities, login sessions), as ``create_all`` made them.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out by hand from ``alembic revision --autogenerate`` against empty SQLite and PostgreSQL
databases (both gave the same operations). Datetimes are ``DateTime(timezone=True)`` (the
``UTCDateTime`` decorator's type: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, text on SQLite),
JSON columns ``JSON`` on both. Each table is created by its own function, with its indexes, so
that a database made by ``create_all`` from an older version, which may lack the newer tables,
can be completed before it is stamped (``upgrade(skip=...)``, see the migrations package).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _subjects() -> None:
    op.create_table(
        "subjects",
        _id(),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def _sessions() -> None:
    op.create_table(
        "sessions",
        _id(),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("protocol_name", sa.String(length=128), nullable=False),
        sa.Column("protocol_version", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("clock_origin", sa.Double(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("feature_spec_hash", sa.String(length=128), nullable=False),
        sa.Column("index_value", sa.Double(), nullable=True),
        sa.Column("index_confidence", sa.Double(), nullable=True),
        sa.Column("index_status", sa.String(length=32), nullable=True),
        sa.Column("index_json", sa.JSON(), nullable=True),
        sa.Column("meta_json", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'interrupted', 'failed')",
            name="ck_sessions_status",
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sessions_started_at", "sessions", ["started_at"], unique=False)
    op.create_index("ix_sessions_status", "sessions", ["status"], unique=False)
    op.create_index("ix_sessions_subject_id", "sessions", ["subject_id"], unique=False)


def _markers() -> None:
    op.create_table(
        "markers",
        _id(),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.Double(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("block", sa.String(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_markers_session_t", "markers", ["session_id", "t"], unique=False)


def _scores() -> None:
    op.create_table(
        "scores",
        _id(),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scores_session_t", "scores", ["session_id", "t"], unique=False)


def _block_summaries() -> None:
    op.create_table(
        "block_summaries",
        _id(),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("block", sa.String(), nullable=False),
        sa.Column("feature", sa.String(), nullable=False),
        sa.Column("mean", sa.Double(), nullable=True),
        sa.Column("sd", sa.Double(), nullable=True),
        sa.Column("n_hops", sa.Integer(), nullable=False),
        sa.Column("n_usable", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "block", "feature"),
    )
    op.create_index(
        "ix_block_summaries_session_id", "block_summaries", ["session_id"], unique=False
    )


def _prescriptions() -> None:
    op.create_table(
        "prescriptions",
        _id(),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rule_set", sa.String(length=128), nullable=False),
        sa.Column("rule_set_version", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("prescription_json", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_prescriptions_session_id", "prescriptions", ["session_id"], unique=False)


def _study_codes() -> None:
    op.create_table(
        "study_codes",
        _id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("study_code", sa.String(length=64), nullable=False),
        sa.Column("date_shift_days", sa.Integer(), nullable=False),
        sa.Column("export_dir", sa.String(), nullable=False),
        sa.Column("exported_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_study_codes_dataset", "study_codes", ["dataset"], unique=False)


def _intake_facts() -> None:
    op.create_table(
        "intake_facts",
        _id(),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("facts_json", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intake_facts_subject_id", "intake_facts", ["subject_id"], unique=False)


def _prescription_overrides() -> None:
    op.create_table(
        "prescription_overrides",
        _id(),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("original_json", sa.JSON(), nullable=False),
        sa.Column("override_json", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["prescription_id"], ["prescriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_prescription_overrides_prescription_id",
        "prescription_overrides",
        ["prescription_id"],
        unique=False,
    )


def _exercise_sessions() -> None:
    op.create_table(
        "exercise_sessions",
        _id(),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=False),
        sa.Column("exercise_type", sa.String(length=64), nullable=True),
        sa.Column("zone_low_bpm", sa.Double(), nullable=False),
        sa.Column("zone_high_bpm", sa.Double(), nullable=False),
        sa.Column("ceiling_bpm", sa.Double(), nullable=False),
        sa.Column("zone_source", sa.String(length=32), nullable=False),
        sa.Column("prescription_session_id", sa.Integer(), nullable=True),
        sa.Column("prescription_json", sa.JSON(), nullable=True),
        sa.Column("planned_s", sa.Double(), nullable=False),
        sa.Column("elapsed_s", sa.Double(), nullable=False),
        sa.Column("completion", sa.Double(), nullable=True),
        sa.Column("in_zone_s", sa.Double(), nullable=False),
        sa.Column("in_zone_fraction", sa.Double(), nullable=True),
        sa.Column("below_s", sa.Double(), nullable=False),
        sa.Column("above_s", sa.Double(), nullable=False),
        sa.Column("lost_s", sa.Double(), nullable=False),
        sa.Column("hr_mean_bpm", sa.Double(), nullable=True),
        sa.Column("hr_peak_bpm", sa.Double(), nullable=True),
        sa.Column("cues", sa.Integer(), nullable=False),
        sa.Column("stopped_reason", sa.String(length=32), nullable=True),
        sa.Column("rpe", sa.Integer(), nullable=True),
        sa.Column("post_craving", sa.Double(), nullable=True),
        sa.Column("settings_json", sa.JSON(), nullable=True),
        sa.Column("summary_json", sa.JSON(), nullable=True),
        sa.Column("meta_json", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'stopped', 'interrupted')",
            name="ck_exercise_sessions_status",
        ),
        sa.CheckConstraint(
            "post_craving IS NULL OR (post_craving >= 0 AND post_craving <= 100)",
            name="ck_exercise_post_craving",
        ),
        sa.CheckConstraint("rpe IS NULL OR (rpe >= 6 AND rpe <= 20)", name="ck_exercise_rpe"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_exercise_sessions_subject_started",
        "exercise_sessions",
        ["subject_id", "started_at"],
        unique=False,
    )


def _exercise_events() -> None:
    op.create_table(
        "exercise_events",
        _id(),
        sa.Column("exercise_session_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("hr_bpm", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exercise_session_id"], ["exercise_sessions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_exercise_events_session_t",
        "exercise_events",
        ["exercise_session_id", "t"],
        unique=False,
    )


def _users() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "role IN ('clinician', 'coach', 'researcher', 'case-manager', 'admin')",
            name="ck_users_role",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )


def _audit_log() -> None:
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("detail_json", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)


def _resident_identities() -> None:
    op.create_table(
        "resident_identities",
        _id(),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id"),
    )


def _web_sessions() -> None:
    op.create_table(
        "web_sessions",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"], unique=False)


#: Every table of this revision, in an order that creates referenced tables first.
TABLES: dict[str, Callable[[], None]] = {
    "subjects": _subjects,
    "sessions": _sessions,
    "markers": _markers,
    "scores": _scores,
    "block_summaries": _block_summaries,
    "prescriptions": _prescriptions,
    "study_codes": _study_codes,
    "intake_facts": _intake_facts,
    "prescription_overrides": _prescription_overrides,
    "exercise_sessions": _exercise_sessions,
    "exercise_events": _exercise_events,
    "users": _users,
    "audit_log": _audit_log,
    "resident_identities": _resident_identities,
    "web_sessions": _web_sessions,
}


def upgrade(skip: Collection[str] = ()) -> None:
    """Create every table and its indexes, except those named in ``skip`` (already there)."""
    for name, create in TABLES.items():
        if name not in skip:
            create()


def downgrade() -> None:
    """Drop every table (indexes go with them), referencing tables first."""
    for name in reversed(TABLES):
        op.drop_table(name)
