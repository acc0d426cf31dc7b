"""Tables of the session store (SQLAlchemy 2 declarative mapping) and the checks on their rows.

The schema holds pseudonymous codes and measurements only: ``subjects`` has no name, birth date
or any other identifying field (identifying details live apart; see DESIGN "Privacy and roles"),
and JSON columns refuse keys that name personal details (see :func:`to_json`).
Datetimes are UTC. Times inside a session (``t``) are seconds since the session start, i.e. host
monotonic seconds minus ``sessions.clock_origin``.

Tables are created and changed by the Alembic migrations in ``addiction_index/store/migrations``;
a model change needs a new revision there (a test compares the two).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from addiction_index.errors import InputError
from addiction_index.signals.streams import Marker
from addiction_index.store._database import UTCDateTime, finite_or_none, to_json, utc_now

SUBJECT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
"""A pseudonymous subject code: 2-32 letters, digits, ``_`` or ``-``; no spaces, so no names."""

SESSION_STATUSES = ("running", "completed", "interrupted", "failed")
FINAL_STATUSES = SESSION_STATUSES[1:]

_SUBJECT_CODE_RE = re.compile(SUBJECT_CODE_PATTERN)
_TEXT_LIMITS = {  # maximum length of each text column of ``sessions``
    "kind": 32,
    "protocol_name": 128,
    "protocol_version": 32,
    "model_name": 128,
    "model_version": 32,
    "feature_spec_hash": 128,
}
SUMMARY_KEYS = ("block", "feature", "mean", "sd", "n_hops", "n_usable")


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Subject(Base):
    """A resident, known only by a pseudonymous code."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class SessionRecord(Base):
    """One recorded session (an assessment, an exercise session...) and its index result."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in SESSION_STATUSES)),
            name="ck_sessions_status",
        ),
        Index("ix_sessions_started_at", "started_at"),
        Index("ix_sessions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    protocol_name: Mapped[str] = mapped_column(String(128))
    protocol_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    clock_origin: Mapped[float]  # host monotonic seconds at the session start
    seed: Mapped[int | None] = mapped_column(BigInteger)
    simulated: Mapped[bool] = mapped_column(default=False)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    feature_spec_hash: Mapped[str] = mapped_column(String(128))
    index_value: Mapped[float | None]
    index_confidence: Mapped[float | None]
    index_status: Mapped[str | None] = mapped_column(String(32))
    index_json: Mapped[dict[str, Any] | None]  # the full index result
    meta_json: Mapped[dict[str, Any] | None]  # devices, protocol durations; never personal data

    # read-only views (rows are inserted in bulk by the store), each in time or insertion order
    subject: Mapped[Subject] = relationship(lazy="joined", innerjoin=True, viewonly=True)
    markers: Mapped[list[MarkerRecord]] = relationship(
        order_by="[MarkerRecord.t, MarkerRecord.id]", viewonly=True
    )
    scores: Mapped[list[ScoreRecord]] = relationship(
        order_by="[ScoreRecord.t, ScoreRecord.id]", viewonly=True
    )
    summaries: Mapped[list[BlockSummaryRecord]] = relationship(
        order_by="BlockSummaryRecord.id", viewonly=True
    )
    prescriptions: Mapped[list[PrescriptionRecord]] = relationship(
        order_by="PrescriptionRecord.id", viewonly=True
    )


def _session_fk() -> Any:
    return ForeignKey("sessions.id", ondelete="CASCADE")


class MarkerRecord(Base):
    """A protocol event at ``t`` seconds since the session start."""

    __tablename__ = "markers"
    __table_args__ = (Index("ix_markers_session_t", "session_id", "t"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_session_fk())
    t: Mapped[float]
    label: Mapped[str] = mapped_column(String)
    block: Mapped[str | None] = mapped_column(String)
    value: Mapped[float | None]
    meta: Mapped[dict[str, Any] | None]


class ScoreRecord(Base):
    """A live score (e.g. ``craving``, 0-100) at ``t`` seconds since the session start."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_session_t", "session_id", "t"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_session_fk())
    t: Mapped[float]
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None]
    confidence: Mapped[float | None]
    usable: Mapped[bool]


class BlockSummaryRecord(Base):
    """Mean and SD of one feature over one protocol block, with its hop counts."""

    __tablename__ = "block_summaries"
    __table_args__ = (UniqueConstraint("session_id", "block", "feature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_session_fk(), index=True)
    block: Mapped[str] = mapped_column(String)
    feature: Mapped[str] = mapped_column(String)
    mean: Mapped[float | None]
    sd: Mapped[float | None]
    n_hops: Mapped[int]
    n_usable: Mapped[int]


class PrescriptionRecord(Base):
    """A prescription decided for a session, with the rule set that produced it."""

    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_session_fk(), index=True)
    rule_set: Mapped[str] = mapped_column(String(128))
    rule_set_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    prescription_json: Mapped[dict[str, Any]]  # the full decision, including the rules fired


class StudyCodeRecord(Base):
    """A pseudonymised export's study code for one subject: the only link back to the person.

    Kept only here, in the centre's database, never in the export (issue 7)."""

    __tablename__ = "study_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    study_code: Mapped[str] = mapped_column(String(64))
    date_shift_days: Mapped[int]
    export_dir: Mapped[str] = mapped_column(String)
    exported_at: Mapped[datetime] = mapped_column(default=utc_now)


# -- checks on incoming values ---------------------------------------------------------------


def study_code_row(r: dict[str, Any]) -> dict[str, Any]:
    """A checked :class:`StudyCodeRecord` row from an export's mapping entry."""
    return {
        "dataset": _text("dataset", r["dataset"], 64),
        "subject": check_subject_code(r["subject"]),
        "study_code": _text("study_code", r["study_code"], 64),
        "date_shift_days": int(r["date_shift_days"]),
        "export_dir": _text("export_dir", r["export_dir"]),
    }


def check_subject_code(code: object) -> str:
    """Return ``code`` if it is a valid pseudonymous code, else raise :class:`InputError`."""
    if not isinstance(code, str) or not _SUBJECT_CODE_RE.fullmatch(code):
        raise InputError(
            "subject", code, f"a pseudonymous code matching {SUBJECT_CODE_PATTERN} (not a name)"
        )
    return code


def _text(argument: str, value: object, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > (max_len or len(value)):
        limit = f" of at most {max_len} characters" if max_len else ""
        raise InputError(argument, value, f"a non-empty string{limit}")
    return value


def _count(argument: str, value: object) -> int:
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = -1
    if isinstance(value, bool) or number < 0:
        raise InputError(argument, value, "an integer >= 0")
    return number


def _required(argument: str, value: object, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or any(key not in value for key in keys):
        found = sorted(map(str, value)) if isinstance(value, Mapping) else value
        raise InputError(argument, found, f"a dict with keys {', '.join(keys)}")
    return value


def check_session_args(**args: Any) -> dict[str, Any]:
    """Checked column values of a new session from :meth:`SessionStore.start_session` args."""
    origin = finite_or_none(args["clock_origin"], "clock_origin")
    if origin is None:
        raise InputError("clock_origin", args["clock_origin"], "finite host monotonic seconds")
    seed = args["seed"]
    if seed is not None and (
        isinstance(seed, bool) or not hasattr(seed, "__index__") or not 0 <= seed < 2**63
    ):
        raise InputError("seed", seed, "None or an integer in [0, 2**63)")
    if args["simulated"] not in (True, False):
        raise InputError("simulated", args["simulated"], "True or False")
    meta = to_json(args["meta"] or {}, "meta")
    if not isinstance(meta, dict):
        raise InputError("meta", args["meta"], "a dict or None")
    values = {name: _text(name, args[name], limit) for name, limit in _TEXT_LIMITS.items()}
    return values | {
        "clock_origin": origin,
        "seed": None if seed is None else operator.index(seed),
        "simulated": bool(args["simulated"]),
        "meta_json": meta,
    }


def check_finish_args(
    status: object, index: object, prescription: object
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Checked session columns and prescription row for :meth:`SessionStore.finish_session`."""
    if status not in FINAL_STATUSES:
        raise InputError("status", status, f"one of {', '.join(FINAL_STATUSES)}")
    columns: dict[str, Any] = {"status": status}
    if index is not None:
        index = _required("index", index, ("status", "value", "confidence"))
        columns.update(
            index_value=finite_or_none(index["value"], "index['value']"),
            index_confidence=finite_or_none(index["confidence"], "index['confidence']"),
            index_status=_text("index['status']", to_json(index["status"], "index"), 32),
            index_json=to_json(dict(index), "index"),
        )
    row = None
    if prescription is not None:
        prescription = _required("prescription", prescription, ("rule_set", "version"))
        version = to_json(prescription["version"], "prescription")
        row = {
            "rule_set": _text("prescription['rule_set']", prescription["rule_set"], 128),
            "rule_set_version": _text("prescription['version']", str(version), 32),
            "prescription_json": to_json(dict(prescription), "prescription"),
        }
    return columns, row


def marker_row(session_id: int, origin: float, marker: object) -> dict[str, Any]:
    """A ``markers`` row: ``t`` = host ``timestamp`` - the session's ``clock_origin`` (s)."""
    if not isinstance(marker, Marker):
        raise InputError("markers", marker, "Marker instances")
    timestamp = finite_or_none(marker.timestamp, "markers")
    if timestamp is None:
        raise InputError("markers", marker.timestamp, "finite host timestamps (s)")
    if marker.block is not None:
        _text("markers", marker.block)
    return {
        "session_id": session_id,
        "t": timestamp - origin,
        "label": _text("markers", marker.label),
        "block": marker.block,
        "value": finite_or_none(marker.value, "markers"),
        "meta": to_json(dict(marker.meta), "markers") or None,
    }


def score_row(session_id: int, origin: float, row: object) -> dict[str, Any]:
    """A ``scores`` row from a ``(host timestamp, kind, value, confidence, usable)`` tuple."""
    try:
        timestamp, kind, value, confidence, usable = row  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InputError(
            "rows", row, "(timestamp, kind, value, confidence, usable) tuples"
        ) from None
    host_time = finite_or_none(timestamp, "rows")
    if host_time is None or usable not in (True, False):
        raise InputError("rows", row, "a finite host timestamp (s) and a boolean usable flag")
    return {
        "session_id": session_id,
        "t": host_time - origin,
        "kind": _text("rows", kind, 32),
        "value": finite_or_none(value, "rows"),
        "confidence": finite_or_none(confidence, "rows"),
        "usable": bool(usable),
    }


def block_summary_row(session_id: int, row: object) -> dict[str, Any]:
    """A ``block_summaries`` row from a dict with the keys of :data:`SUMMARY_KEYS`."""
    row = _required("rows", row, SUMMARY_KEYS)
    n_hops, n_usable = _count("n_hops", row["n_hops"]), _count("n_usable", row["n_usable"])
    if n_usable > n_hops:
        raise InputError("n_usable", n_usable, f"at most n_hops ({n_hops})")
    return {
        "session_id": session_id,
        "block": _text("block", row["block"]),
        "feature": _text("feature", row["feature"]),
        "mean": finite_or_none(row["mean"], "mean"),
        "sd": finite_or_none(row["sd"], "sd"),
        "n_hops": n_hops,
        "n_usable": n_usable,
    }


# -- rows read back as plain values ----------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def session_dict(record: SessionRecord, *, full: bool) -> dict[str, Any]:
    """A session row as plain values: the listing fields, plus everything else when ``full``."""
    out: dict[str, Any] = {
        "id": record.id,
        "subject": record.subject.code,
        "kind": record.kind,
        "protocol": record.protocol_name,
        "protocol_version": record.protocol_version,
        "status": record.status,
        "started_at": _iso(record.started_at),
        "ended_at": _iso(record.ended_at),
        "simulated": record.simulated,
        "index_value": record.index_value,
        "index_confidence": record.index_confidence,
        "index_status": record.index_status,
    }
    if full:
        ended = record.ended_at
        out.update(
            duration_s=None if ended is None else (ended - record.started_at).total_seconds(),
            clock_origin=record.clock_origin,
            seed=record.seed,
            model=record.model_name,
            model_version=record.model_version,
            feature_spec_hash=record.feature_spec_hash,
            meta=record.meta_json or {},
        )
    return out
