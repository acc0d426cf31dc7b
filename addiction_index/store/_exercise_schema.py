"""Tables of the exercise session log (same declarative ``Base`` as the session store).

``exercise_sessions`` holds one row per exercise session: who (pseudonymous subject), the zone and
ceiling it ran against and where they came from, the plan, and what happened (time in zone,
completion, why it stopped, the resident's RPE and post-session craving). Its running numbers are
updated while the session runs, so a crash keeps what happened so far. ``exercise_events`` holds
the monitor's cues and alerts at ``t`` seconds since the session start.

Importing this module registers the tables on ``Base.metadata``; :class:`ExerciseLog` also creates
them on an existing database (``create_all`` only adds missing tables).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = ["EXERCISE_STATUSES", "ExerciseEventRecord", "ExerciseSessionRecord"]

EXERCISE_STATUSES = ("running", "completed", "stopped", "interrupted")
"""``completed``: ran its planned minutes; ``stopped``: a stop alert or a manual stop ended it
early (``stopped_reason`` says which); ``interrupted``: the program ended without finishing it."""


class ExerciseSessionRecord(Base):
    """One exercise session of a resident, with its zone, plan and outcome."""

    __tablename__ = "exercise_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in EXERCISE_STATUSES)),
            name="ck_exercise_sessions_status",
        ),
        CheckConstraint("rpe IS NULL OR (rpe >= 6 AND rpe <= 20)", name="ck_exercise_rpe"),
        CheckConstraint(
            "post_craving IS NULL OR (post_craving >= 0 AND post_craving <= 100)",
            name="ck_exercise_post_craving",
        ),
        Index("ix_exercise_sessions_subject_started", "subject_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    simulated: Mapped[bool] = mapped_column(default=False)
    seed: Mapped[int | None] = mapped_column(BigInteger)  # 64-bit seeds, as sessions.seed
    device: Mapped[str] = mapped_column(String(128))
    exercise_type: Mapped[str | None] = mapped_column(String(64))
    zone_low_bpm: Mapped[float]
    zone_high_bpm: Mapped[float]
    ceiling_bpm: Mapped[float]
    zone_source: Mapped[str] = mapped_column(String(32))  # prescription | zone | age
    prescription_session_id: Mapped[int | None]  # the assessment whose prescription was used
    prescription_json: Mapped[dict[str, Any] | None]  # the exercise part of that prescription
    planned_s: Mapped[float]
    elapsed_s: Mapped[float] = mapped_column(default=0.0)
    completion: Mapped[float | None]
    in_zone_s: Mapped[float] = mapped_column(default=0.0)
    in_zone_fraction: Mapped[float | None]
    below_s: Mapped[float] = mapped_column(default=0.0)
    above_s: Mapped[float] = mapped_column(default=0.0)
    lost_s: Mapped[float] = mapped_column(default=0.0)
    hr_mean_bpm: Mapped[float | None]
    hr_peak_bpm: Mapped[float | None]
    cues: Mapped[int] = mapped_column(default=0)
    stopped_reason: Mapped[str | None] = mapped_column(String(32))
    rpe: Mapped[int | None]  # Borg 6-20
    post_craving: Mapped[float | None]  # VAS 0-100
    settings_json: Mapped[dict[str, Any] | None]  # the monitor's settings
    summary_json: Mapped[dict[str, Any] | None]  # phases, alerts
    meta_json: Mapped[dict[str, Any] | None]  # e.g. a simulation's script; never personal data


class ExerciseEventRecord(Base):
    """A cue, warning, alert or phase change at ``t`` seconds since the session start."""

    __tablename__ = "exercise_events"
    __table_args__ = (Index("ix_exercise_events_session_t", "exercise_session_id", "t"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_session_id: Mapped[int] = mapped_column(
        ForeignKey("exercise_sessions.id", ondelete="CASCADE")
    )
    t: Mapped[float]
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    hr_bpm: Mapped[float | None]
