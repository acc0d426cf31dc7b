"""The exercise log's reads and writes on SQLite and PostgreSQL (``store_url``, conftest).

The simulated sessions end to end are in ``tests/sessions/test_exercise.py`` (SQLite); these
cover every method of :class:`ExerciseLog` on both databases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from addiction_index.errors import StorageError
from addiction_index.store import open_store
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.store._programme_store import ProgrammeRecords


@pytest.fixture
def log(store_url: str):
    with open_store(store_url) as store:
        yield ExerciseLog(store)


def _start(log: ExerciseLog, subject: str = "EX-001", **overrides: object) -> int:
    args: dict[str, object] = {
        "zone_bpm": (117.0, 139.0),
        "ceiling_bpm": 159.0,
        "planned_s": 1200.0,
        "zone_source": "age",
        "device": "sim-polar-h10",
        "exercise_type": "cycling",
        "settings": {"warn_after_s": 30},
        "simulated": True,
        "seed": 3,
        "meta": {"script": "400-520:drift_low"},
    }
    args.update(overrides)
    return log.start(subject, **args)  # type: ignore[arg-type]


def test_a_session_written_and_read_back(log: ExerciseLog) -> None:
    session_id = _start(log)
    events = [
        {"t": 12.5, "kind": "speed_up", "severity": "cue", "hr_bpm": 110.0},
        {"t": 30.0, "kind": "warning", "severity": "warn", "hr_bpm": float("nan")},
    ]
    assert log.add_events(session_id, events, {"elapsed_s": 30.0, "in_zone_s": 10.0}) == 2
    log.finish(
        session_id,
        status="completed",
        summary={"elapsed_s": 1200.0, "completion": 1.0, "in_zone_s": 900.0, "cues": 4,
                 "phases": [{"name": "main", "s": 1200}], "alerts": []},
        rpe=13,
        post_craving=22.5,
    )  # fmt: skip
    stored = log.get(session_id)
    assert (stored["status"], stored["subject"], stored["simulated"]) == (
        "completed",
        "EX-001",
        True,
    )
    assert stored["zone_bpm"] == [117.0, 139.0] and stored["seed"] == 3
    assert (stored["rpe"], stored["post_craving"], stored["cues"]) == (13, 22.5, 4)
    assert stored["in_zone_s"] == 900.0 and stored["completion"] == 1.0
    assert stored["summary"] == {"phases": [{"name": "main", "s": 1200}], "alerts": []}
    assert stored["settings"] == {"warn_after_s": 30}
    assert stored["meta"] == {"script": "400-520:drift_low"}
    assert [(e["t"], e["kind"], e["hr_bpm"]) for e in stored["events"]] == [
        (12.5, "speed_up", 110.0),
        (30.0, "warning", None),
    ]
    started = datetime.fromisoformat(stored["started_at"])
    assert started.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(stored["ended_at"]) >= started
    with pytest.raises(StorageError, match="already completed"):
        log.add_events(session_id, [])


def test_listing_newest_first_and_closing_interrupted(log: ExerciseLog) -> None:
    first = _start(log)
    second = _start(log)
    _start(log, "EX-002")
    log.add_events(second, [{"t": 42.0, "kind": "phase", "severity": "info", "hr_bpm": None}])
    assert [r["id"] for r in log.list_for_subject("EX-001")] == [second, first]
    assert [r["id"] for r in log.list_for_subject("EX-001", limit=1)] == [second]
    assert log.close_interrupted(stale_after=3600.0) == []
    assert sorted(log.close_interrupted()) == sorted([first, second, second + 1])
    stored = log.get(second)
    started, ended = (datetime.fromisoformat(stored[k]) for k in ("started_at", "ended_at"))
    assert stored["status"] == "interrupted"
    assert ended - started == timedelta(seconds=42.0)


def test_the_latest_prescription_in_force(log: ExerciseLog) -> None:
    assert log.latest_prescription("EX-001") is None
    store = log.store
    session_id = store.start_session(
        "EX-001", protocol_name="demo", protocol_version="1", clock_origin=0.0,
        model_name="m", model_version="1", feature_spec_hash="h",
    )  # fmt: skip
    store.finish_session(session_id)
    records = ProgrammeRecords(store)
    prescription_id = records.add_prescription(
        session_id, {"rule_set": "default", "version": "1", "exercise": {"type": "cycling"}}
    )
    records.override(prescription_id, {"exercise": {"type": "Tai Chi"}}, "knee", by="dr-li")
    latest = log.latest_prescription("EX-001")
    assert latest is not None and latest["session_id"] == session_id
    assert latest["prescription"]["exercise"]["type"] == "Tai Chi"
    assert datetime.fromisoformat(latest["created_at"]).utcoffset() == timedelta(0)
