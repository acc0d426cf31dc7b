"""The session store: subjects, sessions, markers, scores, block summaries and prescriptions.

Every write is its own committed transaction, so rows reach the database while a session runs: a
crash or a killed process loses only what the caller had not yet handed over, and the next start
finds the session still ``running`` and closes it with :meth:`SessionStore.close_interrupted`.
Methods take and return plain Python values; datetimes come back as ISO 8601 UTC strings.
Nothing personal is logged: only session ids and counts.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, sessionmaker

from addiction_index.errors import InputError, StorageError
from addiction_index.signals.streams import Marker
from addiction_index.store._database import (
    SessionNotFoundError,
    mask_url,
    storage_errors,
    utc_now,
)
from addiction_index.store._schema import (
    SUMMARY_KEYS,
    Base,
    BlockSummaryRecord,
    MarkerRecord,
    PrescriptionRecord,
    ScoreRecord,
    SessionRecord,
    StudyCodeRecord,
    Subject,
    block_summary_row,
    check_finish_args,
    check_session_args,
    check_subject_code,
    marker_row,
    score_row,
    session_dict,
    study_code_row,
)

__all__ = ["SessionStore"]

logger = logging.getLogger(__name__)

_MARKER_KEYS = ("t", "label", "block", "value")
_SCORE_KEYS = ("t", "kind", "value", "confidence", "usable")


class SessionStore:
    """Reads and writes sessions through one SQLAlchemy engine; :func:`open_store` makes one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = mask_url(engine.url)
        self._sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self._origins: dict[int, float] = {}  # clock_origin per session id (never changes)

    def __repr__(self) -> str:
        return f"SessionStore({self.url!r})"

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Session]:
        with storage_errors(self.url, action), self._sessionmaker.begin() as session:
            yield session

    def close(self) -> None:
        """Release every pooled connection; the store cannot be used afterwards."""
        self.engine.dispose()

    # -- subjects and sessions -------------------------------------------------------------

    def subject(self, code: str) -> int:
        """Return the id of the subject with pseudonymous ``code``, creating it if new.

        Raises :class:`InputError` (argument ``subject``) for anything but a code matching
        :data:`SUBJECT_CODE_PATTERN`, such as a name with a space.
        """
        code = check_subject_code(code)
        by_code = select(Subject.id).where(Subject.code == code)
        with storage_errors(self.url, "creating a subject"):
            try:
                with self._sessionmaker.begin() as session:
                    subject_id = session.scalar(by_code)
                    if subject_id is None:
                        record = Subject(code=code, created_at=utc_now())
                        session.add(record)
                        session.flush()
                        subject_id = record.id
                    return subject_id
            except IntegrityError:  # another process created the same code meanwhile
                with self._sessionmaker.begin() as session:
                    return session.scalars(by_code).one()

    def start_session(
        self,
        subject_code: str,
        *,
        protocol_name: str,
        protocol_version: str,
        clock_origin: float,
        model_name: str,
        model_version: str,
        feature_spec_hash: str,
        seed: int | None = None,
        simulated: bool = False,
        kind: str = "assessment",
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Record a new ``running`` session and return its id.

        ``clock_origin`` is the host monotonic time (s) of the session start: marker and score
        timestamps are stored relative to it. ``meta`` (devices, protocol durations) is stored as
        JSON and must hold no personal data; keys such as ``first_name`` are refused.
        """
        values = check_session_args(
            kind=kind,
            protocol_name=protocol_name,
            protocol_version=protocol_version,
            clock_origin=clock_origin,
            model_name=model_name,
            model_version=model_version,
            feature_spec_hash=feature_spec_hash,
            seed=seed,
            simulated=simulated,
            meta=meta,
        )
        subject_id = self.subject(subject_code)
        with self._transaction("starting a session") as session:
            record = SessionRecord(
                subject_id=subject_id, status="running", started_at=utc_now(), **values
            )
            session.add(record)
            session.flush()
            session_id = record.id
        self._origins[session_id] = values["clock_origin"]
        logger.info("session %d started", session_id)
        return session_id

    def _clock_origin(self, session_id: int) -> float:
        if isinstance(session_id, bool) or not isinstance(session_id, int):
            raise InputError("session_id", session_id, "an integer session id")
        if session_id not in self._origins:
            with self._transaction("reading a session") as session:
                origin = session.scalar(
                    select(SessionRecord.clock_origin).where(SessionRecord.id == session_id)
                )
            if origin is None:
                raise SessionNotFoundError(session_id, self.url)
            self._origins[session_id] = origin
        return self._origins[session_id]

    # -- incremental writes ----------------------------------------------------------------

    def _insert(self, table: type[Base], rows: list[dict[str, Any]], what: str) -> int:
        if rows:
            with self._transaction(f"writing {what}") as session:
                session.execute(insert(table), rows)
        return len(rows)

    def add_markers(self, session_id: int, markers: Iterable[Marker]) -> int:
        """Append protocol markers; ``t`` = ``marker.timestamp`` - the session's clock origin.

        Returns the number of rows written (one committed transaction).
        """
        origin = self._clock_origin(session_id)
        rows = [marker_row(session_id, origin, marker) for marker in markers]
        return self._insert(MarkerRecord, rows, "markers")

    def add_scores(
        self,
        session_id: int,
        rows: Iterable[tuple[float, str, float | None, float | None, bool]],
    ) -> int:
        """Append scores given as ``(host timestamp, kind, value, confidence, usable)`` tuples.

        NaN values are stored as NULL. Returns the number of rows written.
        """
        origin = self._clock_origin(session_id)
        records = [score_row(session_id, origin, row) for row in rows]
        return self._insert(ScoreRecord, records, "scores")

    def add_block_summaries(self, session_id: int, rows: Iterable[dict[str, Any]]) -> int:
        """Append per-block feature summaries: dicts with keys ``block``, ``feature``, ``mean``,
        ``sd``, ``n_hops``, ``n_usable``. Returns the number of rows written.
        """
        self._clock_origin(session_id)  # checks that the session exists
        records = [block_summary_row(session_id, row) for row in rows]
        return self._insert(BlockSummaryRecord, records, "block summaries")

    def add_study_codes(self, rows: Iterable[dict[str, Any]]) -> int:
        """Record an export's study codes: dicts with ``dataset``, ``subject``, ``study_code``,
        ``date_shift_days``, ``export_dir``. Returns the number of rows written."""
        records = [study_code_row(r) for r in rows]
        return self._insert(StudyCodeRecord, records, "study codes")

    def study_codes(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """The recorded study codes (of one dataset), oldest export first."""
        query = select(StudyCodeRecord).order_by(StudyCodeRecord.id)
        if dataset is not None:
            query = query.where(StudyCodeRecord.dataset == dataset)
        keys = ("dataset", "subject", "study_code", "date_shift_days", "export_dir", "exported_at")
        with self._transaction("reading study codes") as session:
            return [_plain(row, keys) for row in session.scalars(query).all()]

    def finish_session(
        self,
        session_id: int,
        *,
        status: str = "completed",
        index: dict[str, Any] | None = None,
        prescription: dict[str, Any] | None = None,
    ) -> None:
        """Close a running session with its final ``status`` and optional results.

        ``index`` needs at least ``status``, ``value`` and ``confidence``; ``prescription`` needs
        ``rule_set`` and ``version``. Both are stored whole as JSON. Raises
        :class:`SessionNotFoundError` for an unknown id and :class:`StorageError` for a session
        that is no longer running.
        """
        columns, prescription_row = check_finish_args(status, index, prescription)
        self._clock_origin(session_id)
        with self._transaction("finishing a session") as session:
            record = session.get(SessionRecord, session_id)
            if record is None:
                raise SessionNotFoundError(session_id, self.url)
            if record.status != "running":
                raise StorageError(
                    f"session {session_id} in {self.url} is already {record.status}; "
                    "only a running session can be finished"
                )
            record.ended_at = utc_now()
            for name, value in columns.items():
                setattr(record, name, value)
            if prescription_row is not None:
                session.add(
                    PrescriptionRecord(
                        session_id=session_id, created_at=record.ended_at, **prescription_row
                    )
                )
        logger.info("session %d finished: %s", session_id, columns["status"])

    def close_interrupted(self, *, stale_after: float | None = None) -> list[int]:
        """Mark sessions left ``running`` by a crash as ``interrupted``; return their ids.

        ``ended_at`` becomes the time of the session's last marker or score (or its start).
        With ``stale_after`` (s), only sessions idle for at least that long are closed, which
        spares sessions another process is still recording.
        """
        closed: list[int] = []
        with self._transaction("closing interrupted sessions") as session:
            running = session.scalars(
                select(SessionRecord).where(SessionRecord.status == "running")
            ).all()
            for record in running:
                last = [
                    session.scalar(select(func.max(table.t)).where(table.session_id == record.id))
                    for table in (MarkerRecord, ScoreRecord)
                ]
                last_t = max([0.0, *(t for t in last if t is not None)])
                ended_at = record.started_at + timedelta(seconds=last_t)
                idle = (utc_now() - ended_at).total_seconds()
                if stale_after is not None and idle < stale_after:
                    continue
                record.status, record.ended_at = "interrupted", ended_at
                closed.append(record.id)
        if closed:
            logger.warning("closed %d interrupted session(s): %s", len(closed), closed)
        return closed

    # -- reads -----------------------------------------------------------------------------

    def count_sessions(self) -> int:
        """The number of sessions in the store, whatever their status."""
        with self._transaction("counting sessions") as session:
            return session.scalar(select(func.count()).select_from(SessionRecord)) or 0

    def count_subjects(self) -> int:
        """The number of subjects (residents) in the store, with or without sessions."""
        with self._transaction("counting subjects") as session:
            return session.scalar(select(func.count()).select_from(Subject)) or 0

    def list_sessions(self, subject: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Summaries of the newest sessions first, optionally of one subject code only."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError("limit", limit, "an integer >= 1")
        query = select(SessionRecord).join(Subject).options(contains_eager(SessionRecord.subject))
        if subject is not None:
            query = query.where(Subject.code == check_subject_code(subject))
        query = query.order_by(SessionRecord.started_at.desc(), SessionRecord.id.desc())
        with self._transaction("listing sessions") as session:
            records = session.scalars(query.limit(limit)).all()
            return [session_dict(record, full=False) for record in records]

    def get_session(self, session_id: int) -> dict[str, Any]:
        """Everything a report needs about one session (see the package docs for the shape)."""
        self._clock_origin(session_id)
        with self._transaction("reading a session") as session:
            record = session.get(SessionRecord, session_id)
            if record is None:
                raise SessionNotFoundError(session_id, self.url)
            markers = [_plain(m, _MARKER_KEYS) | {"meta": m.meta or {}} for m in record.markers]
            prescriptions = record.prescriptions
            return {
                "session": session_dict(record, full=True),
                "markers": markers,
                "block_summaries": [_plain(row, SUMMARY_KEYS) for row in record.summaries],
                "index": record.index_json,
                "prescription": prescriptions[-1].prescription_json if prescriptions else None,
                "scores": summarise_scores(markers, record.scores),
            }

    def get_scores(self, session_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        """All scores of a session (optionally of one ``kind``) in time order, for plots."""
        self._clock_origin(session_id)
        query = select(ScoreRecord).where(ScoreRecord.session_id == session_id)
        if kind is not None:
            query = query.where(ScoreRecord.kind == kind)
        with self._transaction("reading scores") as session:
            rows = session.scalars(query.order_by(ScoreRecord.t, ScoreRecord.id)).all()
            return [_plain(row, _SCORE_KEYS) for row in rows]


def _plain(row: Base, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: getattr(row, key) for key in keys}


def summarise_scores(
    markers: list[dict[str, Any]], scores: Iterable[ScoreRecord]
) -> dict[str, Any]:
    """Score counts per kind and the craving mean per protocol block.

    A score belongs to the block of the latest marker with a block at or before its ``t``
    (``None`` before the first one). The mean is over usable scores with a value (0-100 scale).
    """
    block_markers = [(m["t"], m["block"]) for m in markers if m["block"] is not None]
    starts = [t for t, _ in block_markers]
    by_kind: dict[str, int] = {}
    blocks: dict[str | None, list[float]] = {}
    counts: dict[str | None, int] = {}
    for score in scores:
        by_kind[score.kind] = by_kind.get(score.kind, 0) + 1
        if score.kind != "craving":
            continue
        position = bisect_right(starts, score.t) - 1
        block = block_markers[position][1] if position >= 0 else None
        counts[block] = counts.get(block, 0) + 1
        values = blocks.setdefault(block, [])
        if score.usable and score.value is not None:
            values.append(score.value)
    craving = [
        {
            "block": block,
            "n": counts[block],
            "n_usable": len(values),
            "mean": sum(values) / len(values) if values else None,
        }
        for block, values in blocks.items()
    ]
    return {"count": sum(by_kind.values()), "by_kind": by_kind, "craving_by_block": craving}
