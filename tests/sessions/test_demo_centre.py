"""``demo-centre`` on a real SQLite file: a small centre (2 residents, 1 month) through the CLI,
checked against what the store holds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.cli import app
from addiction_index.errors import InputError
from addiction_index.sessions._demo_centre import (
    DAYS_PER_MONTH,
    demo_window,
    fill_demo_centre,
    plan_residents,
)
from addiction_index.store import open_store
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.store._programme_store import ProgrammeRecords

pytestmark = pytest.mark.slow
runner = CliRunner()
MONTHS = 1


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The database and the ``--json`` summary of one small simulated centre."""
    db = tmp_path_factory.mktemp("demo") / "centre.sqlite"
    args = ["demo-centre", "--residents", "2", "--months", str(MONTHS), "--json", "--db", str(db)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


def _stored(db: Path) -> dict[str, Any]:
    """Everything the store holds about the residents, read through its own APIs."""
    with open_store(db) as store:
        records, log = ProgrammeRecords(store), ExerciseLog(store)
        codes = sorted({s["subject"] for s in store.list_sessions(limit=10_000)})
        return {
            "residents": store.count_subjects(),
            "codes": codes,
            "sessions": [store.get_session(s["id"]) for s in store.list_sessions(limit=10_000)],
            "prescriptions": [p for c in codes for p in records.prescriptions(c)],
            "exercise": [
                log.get(r["id"]) | {"started_at": r["started_at"]}
                for c in codes
                for r in log.list_for_subject(c, limit=10_000)
            ],
        }


def test_summary_matches_the_database(centre: tuple[Path, dict[str, Any]]) -> None:
    db, summary = centre
    stored = _stored(db)
    assert summary["statement"] == NOT_A_DIAGNOSIS and summary["simulated"] is True
    assert summary["residents"] == stored["residents"] == 2
    assert stored["codes"] == ["R-0001", "R-0002"]
    assert summary["assessments"] == len(stored["sessions"]) >= 2
    assert summary["prescriptions"] == len(stored["prescriptions"]) >= 2
    assert summary["exercise_sessions"] == len(stored["exercise"]) >= 4
    assert all(s["session"]["simulated"] for s in stored["sessions"])
    assert all(s["session"]["status"] == "completed" for s in stored["sessions"])
    assert all(e["simulated"] for e in stored["exercise"])


def test_dates_span_the_months_in_the_past(centre: tuple[Path, dict[str, Any]]) -> None:
    db, summary = centre
    stored = _stored(db)
    starts = [datetime.fromisoformat(s["session"]["started_at"]) for s in stored["sessions"]]
    starts += [datetime.fromisoformat(e["started_at"]) for e in stored["exercise"]]
    ends = [datetime.fromisoformat(s["session"]["ended_at"]) for s in stored["sessions"]]
    now = datetime.now(UTC)
    window = timedelta(days=MONTHS * DAYS_PER_MONTH)
    assert now - window - timedelta(days=1) <= min(starts) <= now - window + timedelta(days=4)
    assert now - timedelta(days=10) <= max(starts) and max(ends) <= now
    first = datetime.fromisoformat(summary["first"])  # the first session's scheduled start
    assert first <= min(starts) < first + timedelta(seconds=1)
    assert max(ends) <= datetime.fromisoformat(summary["last"]) <= now
    for s in stored["sessions"]:  # the demo protocol lasts 8 simulated minutes
        assert 8 * 60 <= s["session"]["duration_s"] <= 10 * 60


def test_prescriptions_follow_their_assessments(centre: tuple[Path, dict[str, Any]]) -> None:
    db, _ = centre
    stored = _stored(db)
    ended = {s["session"]["id"]: s["session"]["ended_at"] for s in stored["sessions"]}
    for prescription in stored["prescriptions"]:
        assessed = datetime.fromisoformat(ended[prescription["session_id"]])
        assert assessed < prescription["created_at"]
        assert prescription["prescription"]["exercise"]["zone_bpm"]


def test_exercise_logs_are_rated_and_some_alert(centre: tuple[Path, dict[str, Any]]) -> None:
    db, summary = centre
    exercise = _stored(db)["exercise"]
    assert all(6 <= e["rpe"] <= 20 and 0 <= e["post_craving"] <= 100 for e in exercise)
    assert all(e["zone_source"] == "prescription" for e in exercise)
    alerted = [
        e for e in exercise if any(v["severity"] in ("warning", "alert") for v in e["events"])
    ]
    assert len(alerted) == summary["exercise_with_alerts"] >= 1
    first = min(datetime.fromisoformat(e["started_at"]) for e in exercise)
    assert min(p["created_at"] for p in _stored(db)["prescriptions"]) < first


def test_a_database_with_residents_is_refused(centre: tuple[Path, dict[str, Any]]) -> None:
    db, _ = centre
    result = runner.invoke(app, ["demo-centre", "--residents", "1", "--db", str(db)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert str(db) in message and "already holds 2 resident(s)" in message
    assert "never mix with real ones" in message
    with pytest.raises(InputError, match="already holds 2"):
        fill_demo_centre(str(db), residents=1, months=1)


def test_plan_and_window() -> None:
    today = date(2026, 3, 1)
    days = demo_window(6, today=today)
    assert days[-1] == today and len(days) == round(6 * DAYS_PER_MONTH)
    assert demo_window(2, date(2026, 2, 20), today=today)[-1] == today
    with pytest.raises(InputError, match="start"):
        demo_window(1, today + timedelta(days=1), today=today)
    plan = plan_residents(40, days, seed=0, latency_weeks=6)
    assert [r.code for r in plan[:2]] == ["R-0001", "R-0002"]
    assert plan == plan_residents(40, days, seed=0, latency_weeks=6)
    assert all(days[0] <= r.admitted <= days[-1] - timedelta(days=27) for r in plan)
    assert any(not r.responder for r in plan) and sum(r.responder for r in plan) > 30
    for r in plan:  # craving falls only after the latency, and towards the floor
        assert r.latent_craving(r.admitted + timedelta(weeks=6)) == r.intake_craving
        later = r.latent_craving(r.admitted + timedelta(weeks=20))
        assert r.floor_craving <= later <= r.intake_craving


@pytest.mark.parametrize("size", [{"residents": 0}, {"months": 25}, {"seed": -1}])
def test_bad_sizes_are_refused_before_anything_is_written(tmp_path: Path, size: dict) -> None:
    with pytest.raises(InputError):
        fill_demo_centre(str(tmp_path / "x.sqlite"), **size)
    assert not (tmp_path / "x.sqlite").exists()
