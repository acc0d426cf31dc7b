"""The exercise session log: writes and reads ``exercise_sessions`` and ``exercise_events``.

Like :class:`~addiction_index.store.SessionStore`, every write is its own committed transaction,
so what a running session has handed over survives a crash; :meth:`ExerciseLog.close_interrupted`
marks sessions a crash left ``running``. Events are written in batches together with the running
summary (time in zone so far, elapsed time), so the row always says how far the session got.
Values are plain Python; datetimes come back as ISO 8601 UTC strings. Nothing personal is logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from addiction_index.errors import InputError, StorageError
from addiction_index.store._database import finite_or_none, storage_errors, to_json, utc_now
from addiction_index.store._exercise_schema import (
    EXERCISE_STATUSES,
    ExerciseEventRecord,
    ExerciseSessionRecord,
)
from addiction_index.store._repository import SessionStore
from addiction_index.store._schema import (
    Base,
    Subject,
    check_subject_code,
)

__all__ = ["ExerciseLog", "check_exercise_ratings"]

logger = logging.getLogger(__name__)

_PROGRESS_KEYS = (
    "elapsed_s",
    "completion",
    "in_zone_s",
    "in_zone_fraction",
    "below_s",
    "above_s",
    "lost_s",
    "hr_mean_bpm",
    "hr_peak_bpm",
)
_ROW_KEYS = (
    "id",
    "status",
    "simulated",
    "seed",
    "device",
    "exercise_type",
    "zone_low_bpm",
    "zone_high_bpm",
    "ceiling_bpm",
    "zone_source",
    "prescription_session_id",
    "planned_s",
    *_PROGRESS_KEYS,
    "cues",
    "stopped_reason",
    "rpe",
    "post_craving",
)
_EVENT_KEYS = ("t", "kind", "severity", "hr_bpm")
_TABLES = [ExerciseSessionRecord.__table__, ExerciseEventRecord.__table__]


class ExerciseLog:
    """Exercise sessions and their events, in the database of an open :class:`SessionStore`."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.url = store.url
        self._sessionmaker = sessionmaker(store.engine, expire_on_commit=False)
        with (
            storage_errors(self.url, "creating the exercise tables"),
            store.engine.connect() as connection,
        ):
            if store.engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            Base.metadata.create_all(connection, tables=_TABLES)
            connection.commit()

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Session]:
        with storage_errors(self.url, action), self._sessionmaker.begin() as session:
            yield session

    # -- writes ----------------------------------------------------------------------------
    def start(
        self,
        subject: str,
        *,
        zone_bpm: tuple[float, float],
        ceiling_bpm: float,
        planned_s: float,
        zone_source: str,
        device: str,
        exercise_type: str | None = None,
        prescription: Mapping[str, Any] | None = None,
        prescription_session_id: int | None = None,
        settings: Mapping[str, Any] | None = None,
        simulated: bool = False,
        seed: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a new ``running`` exercise session and return its id.

        Zone and ceiling in bpm, ``planned_s`` in seconds; ``zone_source`` is ``prescription``,
        ``zone`` (typed in) or ``age`` (from age and resting HR).
        """
        low, high = (_number(f"zone_bpm[{i}]", v) for i, v in enumerate(zone_bpm))
        if not 0 < low <= high < _number("ceiling_bpm", ceiling_bpm):
            raise InputError("zone_bpm", zone_bpm, f"0 < low <= high < ceiling ({ceiling_bpm})")
        if not _number("planned_s", planned_s) > 0:
            raise InputError("planned_s", planned_s, "a planned duration > 0 s")
        subject_id = self.store.subject(subject)
        with self._transaction("starting an exercise session") as session:
            record = ExerciseSessionRecord(
                subject_id=subject_id,
                status="running",
                started_at=utc_now(),
                simulated=bool(simulated),
                seed=seed,
                device=str(device)[:128],
                exercise_type=None if exercise_type is None else str(exercise_type)[:64],
                zone_low_bpm=low,
                zone_high_bpm=high,
                ceiling_bpm=float(ceiling_bpm),
                zone_source=str(zone_source)[:32],
                prescription_session_id=prescription_session_id,
                prescription_json=to_json(dict(prescription), "prescription")
                if prescription is not None
                else None,
                planned_s=float(planned_s),
                settings_json=to_json(dict(settings or {}), "settings"),
                meta_json=to_json(dict(meta or {}), "meta"),
            )
            session.add(record)
            session.flush()
            session_id = record.id
        logger.info("exercise session %d started", session_id)
        return session_id

    def add_events(
        self,
        session_id: int,
        events: Iterable[Any],
        progress: Mapping[str, Any] | None = None,
    ) -> int:
        """Append events (objects or dicts with ``t``, ``kind``, ``severity``, ``hr_bpm``) and,
        with ``progress`` (a zone summary as a dict), update the running numbers, in one
        committed transaction. Returns the number of events written."""
        rows = [_event_row(session_id, e) for e in events]
        with self._transaction("writing exercise events") as session:
            record = self._running(session, session_id)
            if rows:
                session.execute(insert(ExerciseEventRecord), rows)
            if progress is not None:
                _apply_progress(record, progress)
        return len(rows)

    def finish(
        self,
        session_id: int,
        *,
        status: str,
        summary: Mapping[str, Any],
        rpe: int | None = None,
        post_craving: float | None = None,
        stopped_reason: str | None = None,
    ) -> None:
        """Close a running session: final ``status`` (``completed``, ``stopped`` or
        ``interrupted``), its summary, RPE (Borg 6-20) and post-session craving (0-100)."""
        if status not in EXERCISE_STATUSES[1:]:
            raise InputError("status", status, "one of " + ", ".join(EXERCISE_STATUSES[1:]))
        check_exercise_ratings(rpe, post_craving)
        with self._transaction("finishing an exercise session") as session:
            record = self._running(session, session_id)
            _apply_progress(record, summary)
            record.status = status
            record.ended_at = utc_now()
            record.rpe = rpe
            record.post_craving = None if post_craving is None else float(post_craving)
            record.stopped_reason = None if stopped_reason is None else str(stopped_reason)[:32]
            record.cues = int(summary.get("cues", record.cues) or 0)
            record.summary_json = to_json(
                {k: summary.get(k) for k in ("phases", "alerts") if k in summary}, "summary"
            )
        logger.info("exercise session %d finished: %s", session_id, status)

    def rate(self, session_id: int, *, rpe: int | None, post_craving: float | None) -> None:
        """Record the RPE (Borg 6-20) and post-session craving (0-100) of a session that has
        ended, as a coach logs them afterwards from a tablet. Ratings are given once: a session
        still running, or already rated, is refused."""
        check_exercise_ratings(rpe, post_craving)
        if rpe is None and post_craving is None:
            raise InputError("rpe", rpe, "an RPE or a post-session craving rating")
        with self._transaction("rating an exercise session") as session:
            record = session.get(ExerciseSessionRecord, session_id)
            if record is None:
                raise StorageError(f"exercise session {session_id} not found in {self.url}")
            if record.status == "running":
                raise InputError("exercise session", session_id, "a session that has ended")
            if record.rpe is not None or record.post_craving is not None:
                raise InputError("exercise session", session_id, "a session not yet rated")
            record.rpe = rpe
            record.post_craving = None if post_craving is None else float(post_craving)
        logger.info("exercise session %d rated", session_id)

    def close_interrupted(self, *, stale_after: float | None = None) -> list[int]:
        """Mark sessions left ``running`` by a crash as ``interrupted``; return their ids.

        ``ended_at`` becomes the start plus the last event's ``t`` or elapsed time; with
        ``stale_after`` (s) only sessions idle that long are closed.
        """
        closed = []
        with self._transaction("closing interrupted exercise sessions") as session:
            running = session.scalars(
                select(ExerciseSessionRecord).where(ExerciseSessionRecord.status == "running")
            ).all()
            for record in running:
                last_event = session.scalar(
                    select(func.max(ExerciseEventRecord.t)).where(
                        ExerciseEventRecord.exercise_session_id == record.id
                    )
                )
                last_t = max(last_event or 0.0, record.elapsed_s or 0.0)
                ended_at = record.started_at + timedelta(seconds=last_t)
                if stale_after is not None and (utc_now() - ended_at).total_seconds() < stale_after:
                    continue
                record.status, record.ended_at = "interrupted", ended_at
                closed.append(record.id)
        if closed:
            logger.warning("closed %d interrupted exercise session(s): %s", len(closed), closed)
        return closed

    # -- reads -----------------------------------------------------------------------------
    def list_for_subject(self, code: str, limit: int = 50) -> list[dict[str, Any]]:
        """The subject's exercise sessions, newest first (without their events)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError("limit", limit, "an integer >= 1")
        query = (
            select(ExerciseSessionRecord, Subject.code)
            .join(Subject, Subject.id == ExerciseSessionRecord.subject_id)
            .where(Subject.code == check_subject_code(code))
            .order_by(ExerciseSessionRecord.started_at.desc(), ExerciseSessionRecord.id.desc())
            .limit(limit)
        )
        with self._transaction("listing exercise sessions") as session:
            return [_row(record, subject) for record, subject in session.execute(query).all()]

    def get(self, session_id: int) -> dict[str, Any]:
        """One exercise session: its row, summary, settings, prescription and events."""
        with self._transaction("reading an exercise session") as session:
            record = session.get(ExerciseSessionRecord, session_id)
            if record is None:
                raise StorageError(f"exercise session {session_id} not found in {self.url}")
            subject = session.scalar(select(Subject.code).where(Subject.id == record.subject_id))
            events = session.scalars(
                select(ExerciseEventRecord)
                .where(ExerciseEventRecord.exercise_session_id == session_id)
                .order_by(ExerciseEventRecord.t, ExerciseEventRecord.id)
            ).all()
            return _row(record, subject) | {
                "summary": record.summary_json or {},
                "settings": record.settings_json or {},
                "prescription": record.prescription_json,
                "meta": record.meta_json or {},
                "events": [{k: getattr(e, k) for k in _EVENT_KEYS} for e in events],
            }

    def latest_prescription(self, code: str) -> dict[str, Any] | None:
        """The subject's newest prescription as in force (a clinician's override applied):
        ``{"session_id", "created_at", "prescription"}``, or None when there is none."""
        from addiction_index.store._programme_store import ProgrammeRecords

        rows = ProgrammeRecords(self.store).prescriptions(code)
        if not rows:
            return None
        row = rows[-1]
        return {
            "session_id": row["session_id"],
            "created_at": row["created_at"].isoformat(),
            "prescription": row["prescription"],
        }

    # -- helpers ---------------------------------------------------------------------------
    def _running(self, session: Session, session_id: int) -> ExerciseSessionRecord:
        if isinstance(session_id, bool) or not isinstance(session_id, int):
            raise InputError("session_id", session_id, "an integer exercise session id")
        record = session.get(ExerciseSessionRecord, session_id)
        if record is None:
            raise StorageError(f"exercise session {session_id} not found in {self.url}")
        if record.status != "running":
            raise StorageError(
                f"exercise session {session_id} in {self.url} is already {record.status}"
            )
        return record


def check_exercise_ratings(rpe: Any, craving: Any, craving_name: str = "post_craving") -> None:
    """Refuse an RPE that is not a whole number 6-20 (Borg) or a craving outside 0-100."""
    if rpe is not None and (
        isinstance(rpe, bool) or not isinstance(rpe, int) or not 6 <= rpe <= 20
    ):
        raise InputError("rpe", rpe, "a Borg rating, a whole number from 6 to 20")
    if craving is not None and not 0 <= _number(craving_name, craving) <= 100:
        raise InputError(craving_name, craving, "a craving rating from 0 to 100")


def _number(argument: str, value: Any) -> float:
    number = finite_or_none(value, argument)
    if number is None:
        raise InputError(argument, value, "a finite number")
    return number


def _event_row(session_id: int, event: Any) -> dict[str, Any]:
    get = event.get if isinstance(event, Mapping) else lambda k: getattr(event, k)
    t = _number("event.t", get("t"))
    return {
        "exercise_session_id": session_id,
        "t": t,
        "kind": str(get("kind"))[:32],
        "severity": str(get("severity"))[:16],
        "hr_bpm": finite_or_none(get("hr_bpm"), "event.hr_bpm"),
    }


def _apply_progress(record: ExerciseSessionRecord, progress: Mapping[str, Any]) -> None:
    for key in _PROGRESS_KEYS:
        if key in progress:
            value = finite_or_none(progress[key], key)
            if value is None and key in ("elapsed_s", "in_zone_s", "below_s", "above_s", "lost_s"):
                value = 0.0
            setattr(record, key, value)
    if "cues" in progress:
        record.cues = int(progress["cues"] or 0)


def _row(record: ExerciseSessionRecord, subject: str | None) -> dict[str, Any]:
    out = {k: getattr(record, k) for k in _ROW_KEYS}
    out["subject"] = subject
    out["started_at"] = record.started_at.isoformat()
    out["ended_at"] = None if record.ended_at is None else record.ended_at.isoformat()
    out["zone_bpm"] = [record.zone_low_bpm, record.zone_high_bpm]
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()
    }
