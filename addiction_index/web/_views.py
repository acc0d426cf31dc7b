"""What each page shows, as plain data, cut to the role (shared by the HTML and JSON routes).

Least privilege is applied here: a coach's or case manager's view of a resident has the
prescription's exercise and music only (no index, craving, drug history or rules); a
researcher's report is pseudonymised (a study code instead of the centre's code, the day
instead of times, no free text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import select

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.store import SessionStore
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.store._programme_store import ProgrammeRecords
from addiction_index.store._schema import SessionRecord, Subject

__all__ = [
    "clinical_report",
    "prescription_card",
    "pseudonymised_report",
    "research_code",
    "resident_codes",
    "resident_view",
    "residents_view",
    "today_cards",
]

_EXERCISE_KEYS = ("type", "sessions_per_week", "minutes", "weeks", "zone_bpm", "rpe",
                  "intensity_class")  # fmt: skip
_MUSIC_KEYS = ("purpose", "timing", "tempo_bpm", "minutes")
_EXERCISE_LOG_KEYS = ("id", "status", "exercise_type", "zone_bpm", "planned_s", "elapsed_s",
                      "completion", "in_zone_fraction", "hr_mean_bpm", "hr_peak_bpm",
                      "stopped_reason")  # fmt: skip


def resident_codes(store: SessionStore) -> list[str]:
    """Every resident's pseudonymous code, sorted."""
    with store._transaction("listing residents") as session:
        return list(session.scalars(select(Subject.code).order_by(Subject.code)))


def resident_exists(store: SessionStore, code: str) -> bool:
    """Whether resident ``code`` exists."""
    with store._transaction("finding a resident") as session:
        return session.scalar(select(Subject.id).where(Subject.code == code)) is not None


def _last_assessment(store: SessionStore, code: str) -> dict[str, Any] | None:
    query = (
        select(SessionRecord)
        .join(Subject, Subject.id == SessionRecord.subject_id)
        .where(Subject.code == code, SessionRecord.kind == "assessment")
        .where(SessionRecord.status == "completed")
        .order_by(SessionRecord.started_at.desc(), SessionRecord.id.desc())
    )
    with store._transaction("reading the last assessment") as session:
        record = session.scalars(query).first()
        if record is None:
            return None
        return {
            "session_id": record.id,
            "day": record.started_at.date().isoformat(),
            "index": record.index_value,
            "confidence": record.index_confidence,
            "status": record.index_status,
        }


def prescription_card(prescription: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a coach needs of a prescription: exercise and music, nothing about why."""
    if prescription is None:
        return None
    ex = prescription.get("exercise")
    mu = prescription.get("music") or {}
    return {
        "exercise": None if ex is None else {k: ex.get(k) for k in _EXERCISE_KEYS},
        "no_exercise": ex is None,
        "music": {k: mu.get(k) for k in _MUSIC_KEYS},
        "overridden": bool(prescription.get("overridden")),
    }


def _latest_prescription(store: SessionStore, code: str) -> dict[str, Any] | None:
    rows = ProgrammeRecords(store).prescriptions(code)
    if not rows:
        return None
    row = rows[-1]
    return {
        "id": row["id"],
        "session_id": row["session_id"],
        "day": row["created_at"].date().isoformat(),
        "prescription": row["prescription"],
    }


def residents_view(store: SessionStore, role: str) -> list[dict[str, Any]]:
    """The residents list: clinicians get the last index, care staff the prescription card."""
    out = []
    for code in resident_codes(store):
        row: dict[str, Any] = {"code": code}
        if role == "clinician":
            row["last_assessment"] = _last_assessment(store, code)
        else:
            latest = _latest_prescription(store, code)
            row["prescription"] = prescription_card(latest and latest["prescription"])
        out.append(row)
    return out


def resident_view(store: SessionStore, exercise: ExerciseLog, code: str, role: str) -> dict:
    """One resident: clinicians get the assessments (index history) and prescriptions in
    full; coaches and case managers the current prescription card and the exercise log."""
    latest = _latest_prescription(store, code)
    log = [
        {k: row.get(k) for k in _EXERCISE_LOG_KEYS} | {"day": row["started_at"][:10]}
        for row in exercise.list_for_subject(code, limit=50)
    ]
    view: dict[str, Any] = {
        "code": code,
        "prescription": prescription_card(latest and latest["prescription"]),
        "exercise_log": log,
    }
    if role == "clinician":
        records = ProgrammeRecords(store)
        view["assessments"] = [
            {
                "session_id": a["session_id"],
                "day": a["when"].date().isoformat(),
                "index": a["index"],
                "confidence": a["index_confidence"],
                "craving": a["craving"],
            }
            for a in records.assessments(code)
        ]
        view["prescriptions"] = [
            {"id": p["id"], "session_id": p["session_id"], "overridden": p["overridden"],
             "day": p["created_at"].date().isoformat()}
            for p in records.prescriptions(code)
        ]  # fmt: skip
        view["statement"] = NOT_A_DIAGNOSIS
    return view


def awaiting_ratings(exercise: ExerciseLog, codes: list[str], days: int = 2) -> list[dict]:
    """Exercise sessions of the last ``days`` days that have ended without the resident's RPE
    and post-session craving: what a coach still has to log from the tablet."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    out = []
    for code in codes:
        for row in exercise.list_for_subject(code, limit=10):
            ended = row["status"] != "running" and row["started_at"] >= since
            if ended and row["rpe"] is None and row["post_craving"] is None:
                minutes = (row["elapsed_s"] or 0) / 60
                out.append({"id": row["id"], "code": code, "day": row["started_at"][:10],
                            "status": row["status"], "minutes": minutes})  # fmt: skip
    return sorted(out, key=lambda r: r["id"], reverse=True)


def today_cards(store: SessionStore) -> list[dict[str, Any]]:
    """One card per resident with a prescription in force: code and the coach's card."""
    cards = []
    for code in resident_codes(store):
        latest = _latest_prescription(store, code)
        if latest is not None:
            cards.append({"code": code} | prescription_card(latest["prescription"]))  # type: ignore[operator]
    return cards


def clinical_report(data: dict[str, Any]) -> dict[str, Any]:
    """The assessment report of ``SessionStore.get_session`` output, for clinicians."""
    index = data.get("index") or {}
    s = data["session"]
    return {
        "session": {k: s.get(k) for k in (
            "id", "subject", "kind", "protocol", "protocol_version", "status", "started_at",
            "ended_at", "simulated", "model", "model_version", "duration_s")},
        "blocks": (s.get("meta") or {}).get("blocks", []),
        "craving_by_block": data["scores"]["craving_by_block"],
        "signal_quality": index.get("signal_quality") or [],
        "index": {k: index.get(k) for k in (
            "status", "value", "confidence", "interval", "base_value", "contributions",
            "excluded", "reason", "model", "model_version", "validated", "resting_hr_bpm")},
        "ratings": [
            {"moment": (m.get("meta") or {}).get("moment"), "value": m["value"]}
            for m in data["markers"] if m["label"] == "rating"
        ],
        "prescription": data.get("prescription"),
        "statement": NOT_A_DIAGNOSIS,
    }  # fmt: skip


def research_code(secret: bytes, code: str) -> str:
    """A stable study code for a centre code (HMAC-SHA256 with a key the researcher lacks)."""
    return "S-" + hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()[:10]


def pseudonymised_report(data: dict[str, Any], secret: bytes) -> dict[str, Any]:
    """The researcher's variant: a study code, the day only, numbers and ids, no free text."""
    full = clinical_report(data)
    s, index, p = full["session"], full["index"], full["prescription"] or {}
    ex, mu = p.get("exercise"), p.get("music") or {}
    return {
        "session": {
            "id": s["id"],
            "study_code": research_code(secret, s["subject"]),
            "day": (s["started_at"] or "")[:10],
            "kind": s["kind"],
            "protocol": s["protocol"],
            "protocol_version": s["protocol_version"],
            "status": s["status"],
            "simulated": s["simulated"],
            "model": s["model"],
            "model_version": s["model_version"],
        },
        "blocks": full["blocks"],
        "craving_by_block": full["craving_by_block"],
        "signal_quality": full["signal_quality"],
        "index": {
            "status": index["status"],
            "value": index["value"],
            "confidence": index["confidence"],
            "interval": index["interval"],
            "validated": index["validated"],
            "contributions": [
                {k: c.get(k) for k in ("feature", "change", "change_pct", "points", "weight")}
                for c in index.get("contributions") or []
            ],
        },
        "ratings": full["ratings"],
        "prescription": None if not p else {
            "exercise": None if ex is None else {k: ex.get(k) for k in _EXERCISE_KEYS},
            "music": {k: mu.get(k) for k in _MUSIC_KEYS},
            "rules_fired": [r.get("id") for r in p.get("rules_fired") or []],
            "rule_set": p.get("rule_set"),
            "version": p.get("version"),
        },
        "statement": NOT_A_DIAGNOSIS,
    }  # fmt: skip
