"""Exercise sessions end to end: simulated strap, zone monitor, exercise log in SQLite, CLI."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from addiction_index._cli_exercise import exercise_command
from addiction_index.devices._exercise_sim import Deviation, parse_script
from addiction_index.devices._source import SourceState
from addiction_index.errors import InputError
from addiction_index.prescriptions._zone_monitor import ZoneMonitorSettings
from addiction_index.sessions._exercise import (
    FixedRatings,
    exercise_target,
    run_exercise_session,
    run_simulated_exercise,
)
from addiction_index.signals import HostClock
from addiction_index.signals.streams import Chunk, StreamInfo, StreamKind
from addiction_index.store import open_store
from addiction_index.store._exercise_log import ExerciseLog

SUBJECT = "EX-001"
# drift below and above the zone, a 10 s sensor loss (warned, resumed), then a sprint over the
# ceiling that stops the session
SCRIPT = "400-520:drift_low,600-700:drift_high,800-810:sensor_off,900-960:spike_above_ceiling"


@pytest.fixture
def log(db_path: Path):
    store = open_store(db_path)
    try:
        yield ExerciseLog(store)
    finally:
        store.close()


def _target(log: ExerciseLog, minutes: float = 20):
    # age 30, rest 70: HRmax 187 (Tanaka), zone 117-139 bpm (40-59 % HRR), ceiling 159
    return exercise_target(log, SUBJECT, age=30, resting_hr=70, minutes=minutes)


def _simulate(log: ExerciseLog, script, minutes: float = 20, **kwargs):
    sources, events = [], []
    result = asyncio.run(
        run_simulated_exercise(
            SUBJECT,
            _target(log, minutes),
            log,
            seed=3,
            script=script,
            rater=kwargs.pop("rater", FixedRatings(13, 25)),
            on_event=events.append,
            on_source=sources.append,
            **kwargs,
        )
    )
    return result, events, sources[0].hr_trace


def _first(events, kind: str) -> float:
    found = [e.t for e in events if str(e.kind) == kind]
    assert found, f"no {kind} event"
    return found[0]


def _run_before(trace, t_end: float, test) -> float:
    """Start of the run of consecutive 1-s notifications up to ``t_end`` that satisfy ``test``."""
    by_t = dict(trace)
    t = t_end
    while t - 1 in by_t and test(by_t[t - 1]):
        t -= 1
    return t


def test_simulated_session_cues_and_alerts_at_the_right_times(log: ExerciseLog) -> None:
    result, events, trace = _simulate(log, SCRIPT)
    low, high = result.target.zone_bpm
    ceiling = result.target.ceiling_bpm
    assert (low, high, ceiling) == (117, 139, 159)
    kinds = [str(e.kind) for e in events]

    # below the zone: speed_up once the heart rate has been below for cue_after_s (15 s)
    t_speed = next(e.t for e in events if str(e.kind) == "speed_up" and e.t >= 400)
    assert 400 < t_speed < 520 + 60
    start = _run_before(trace, t_speed, lambda hr: hr < low)
    assert t_speed - start == pytest.approx(15.0, abs=1.0)
    # above the zone: ease_off, likewise
    t_ease = _first(events, "ease_off")
    assert 600 < t_ease < 700 + 60
    start = _run_before(trace, t_ease, lambda hr: hr > high)
    assert t_ease - start == pytest.approx(15.0, abs=1.0)
    assert any(str(e.kind) == "in_zone" and t_speed < e.t < t_ease for e in events)

    # the 10-s sensor loss: a warning 5 s after the last heart rate, then back, no stop
    last_valid = max(t for t, hr in trace if t < 801 and math.isfinite(hr))
    assert _first(events, "sensor_lost") == pytest.approx(last_valid + 5.0, abs=1.0)
    assert _first(events, "sensor_back") == pytest.approx(810.0, abs=1.0)
    assert "stop_sensor_lost" not in kinds

    # the sprint: over_ceiling when the heart rate first reaches 159, stop 3 s later
    t_over = _first(events, "over_ceiling")
    first_at_ceiling = min(t for t, hr in trace if t >= 900 and hr >= ceiling)
    assert t_over == pytest.approx(first_at_ceiling, abs=1.0)
    t_stop = _first(events, "stop_ceiling")
    assert t_stop - t_over == pytest.approx(3.0, abs=1.0)
    assert all(hr >= ceiling for t, hr in trace if t_over <= t <= t_stop)
    assert kinds[-1] == "stop_ceiling"

    # the result and its summary
    s = result.summary
    assert result.status == "stopped" and result.stopped_reason == "stop_ceiling"
    assert s.elapsed_s == t_stop
    assert s.completion == pytest.approx(t_stop / 1200.0)
    total = sum(sum(phase.values()) for phase in s.phases.values())
    assert total == pytest.approx(s.elapsed_s)
    assert s.in_zone_s + s.below_s + s.above_s + s.lost_s == pytest.approx(
        sum(s.phases["main"].values())
    )
    assert 0.3 < s.in_zone_fraction < 0.9
    assert s.lost_s == pytest.approx(810 - last_valid, abs=1.0)
    assert s.hr_peak_bpm >= ceiling
    assert (result.rpe, result.post_craving) == (13, 25.0)

    # everything is in the SQLite file
    stored = log.get(result.session_id)
    assert stored["status"] == "stopped" and stored["stopped_reason"] == "stop_ceiling"
    assert stored["subject"] == SUBJECT and stored["zone_bpm"] == [117.0, 139.0]
    assert stored["in_zone_s"] == pytest.approx(s.in_zone_s)
    assert stored["completion"] == pytest.approx(s.completion)
    assert stored["rpe"] == 13 and stored["post_craving"] == 25.0
    assert stored["zone_source"] == "age"
    assert [(e["t"], e["kind"]) for e in stored["events"][:-1]] == [
        (e.t, str(e.kind)) for e in events
    ]
    assert stored["events"][-1]["kind"] == "stopped"
    assert stored["meta"]["script"][0] == {"start_s": 400.0, "end_s": 520.0, "kind": "drift_low"}
    assert stored["settings"]["lost_stop_s"] == 15.0
    assert [r["id"] for r in log.list_for_subject(SUBJECT)] == [result.session_id]


def test_a_lost_sensor_stops_the_session(log: ExerciseLog) -> None:
    result, events, trace = _simulate(log, [Deviation(600, 700, "sensor_off")])
    last_valid = max(t for t, hr in trace if t < 601 and math.isfinite(hr))
    assert _first(events, "sensor_lost") == pytest.approx(last_valid + 5.0, abs=1.0)
    assert _first(events, "stop_sensor_lost") == pytest.approx(last_valid + 15.0, abs=1.0)
    assert result.status == "stopped"
    assert log.get(result.session_id)["stopped_reason"] == "stop_sensor_lost"


def test_a_plain_session_completes_and_is_deterministic(log: ExerciseLog) -> None:
    first, events, _ = _simulate(log, (), minutes=10)
    again, events_again, _ = _simulate(log, (), minutes=10)
    assert first.status == "completed" and first.stopped_reason is None
    assert first.summary.completion == 1.0
    assert first.summary.elapsed_s == 600.0
    assert not any(e.stops for e in events)
    assert first.summary.in_zone_fraction > 0.8
    assert [(e.t, e.kind) for e in events] == [(e.t, e.kind) for e in events_again]
    assert first.summary.in_zone_s == again.summary.in_zone_s
    rows = log.list_for_subject(SUBJECT)
    assert [r["status"] for r in rows] == ["completed", "completed"]
    assert log.get(first.session_id)["events"][-1]["kind"] == "completed"


def test_a_manual_stop_is_recorded(log: ExerciseLog) -> None:
    stop = asyncio.Event()

    def on_update(t, hr, monitor) -> None:
        if t >= 200:
            stop.set()

    result, _, _ = _simulate(log, (), stop=stop, on_update=on_update)
    assert result.status == "stopped" and result.stopped_reason == "manual_stop"
    assert result.summary.elapsed_s == pytest.approx(200.0, abs=1.0)


def test_a_crash_keeps_what_happened(log: ExerciseLog) -> None:
    def on_update(t, hr, monitor) -> None:
        if t >= 500:
            raise RuntimeError("the coach's laptop fell")

    with pytest.raises(RuntimeError):
        _simulate(log, "400-520:drift_low", on_update=on_update)
    (row,) = log.list_for_subject(SUBJECT)
    stored = log.get(row["id"])
    assert stored["status"] == "interrupted"
    assert stored["elapsed_s"] == pytest.approx(500.0)
    assert "speed_up" in [e["kind"] for e in stored["events"]]


def test_the_zone_comes_from_the_latest_prescription(log: ExerciseLog) -> None:
    store = log.store
    prescription = {
        "rule_set": "default",
        "version": "1",
        "exercise": {
            "type": "aerobic cycling",
            "zone_bpm": [121, 142],
            "minutes": [35, 45],
            "hr_max": 184.0,
            "resting_hr": 74.0,
            "rpe": [12, 13],
        },
    }
    session_id = store.start_session(
        SUBJECT,
        protocol_name="demo",
        protocol_version="1",
        clock_origin=0.0,
        model_name="m",
        model_version="1",
        feature_spec_hash="h",
    )
    store.finish_session(session_id, status="completed", prescription=prescription)
    target = exercise_target(log, SUBJECT, age=50, resting_hr=60)
    assert target.zone_source == "prescription"
    assert target.zone_bpm == (121, 142) and target.minutes == 35
    assert target.ceiling_bpm == 156  # 85 % of 184 = 156.4
    assert target.prescription_session_id == session_id
    assert "prescription of session" in target.describe()
    explicit = exercise_target(log, SUBJECT, zone=(100, 120))
    assert explicit.zone_source == "zone" and explicit.ceiling_bpm == 135
    with pytest.raises(InputError):
        exercise_target(log, "NOBODY-1")


def test_script_parsing() -> None:
    assert parse_script("10-20:drift_low; 5-8:sensor_off") == (
        Deviation(5, 8, "sensor_off"),
        Deviation(10, 20, "drift_low"),
    )
    for bad in ("10-20:dance", "20-10:drift_low", "10:drift_low"):
        with pytest.raises(InputError):
            parse_script(bad)


class _SilentStrap:
    """A real-time strap that sends two heart rates and then nothing (a dropped link)."""

    name = "silent"
    streams = (StreamInfo("silent/hr", StreamKind.HR, ("hr",), ("bpm",), 0.0, "silent"),)
    state = SourceState.IDLE

    async def chunks(self) -> AsyncIterator[Chunk]:
        clock = HostClock()
        for _ in range(2):
            await asyncio.sleep(0.05)
            yield Chunk(self.streams[0], np.array([clock.now()]), np.array([[130.0]]))
        await asyncio.sleep(3600)


def test_real_time_notices_a_silent_source(log: ExerciseLog) -> None:
    settings = ZoneMonitorSettings(
        lost_warn_s=0.3, lost_stop_s=0.8, max_interval_s=0.2, warmup_s=0, cooldown_s=0
    )
    events = []
    result = asyncio.run(
        run_exercise_session(
            SUBJECT,
            _target(log),
            _SilentStrap(),
            HostClock(),
            log,
            settings=settings,
            on_event=events.append,
        )
    )
    assert result.stopped_reason == "stop_sensor_lost"
    assert [str(e.kind) for e in events][-2:] == ["sensor_lost", "stop_sensor_lost"]
    assert result.summary.elapsed_s < 3.0


def test_cli_simulated_json(db_path: Path) -> None:
    app = typer.Typer()
    app.command("exercise")(exercise_command)
    app.callback()(lambda: None)
    args = ["exercise", SUBJECT, "--hr", "sim", "--speed", "1000", "--json", "--db", str(db_path)]
    args += ["--age", "30", "--resting-hr", "70", "--minutes", "10", "--rpe", "12"]
    args += ["--script", "300-330:sensor_off"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "stopped" and data["stopped_reason"] == "stop_sensor_lost"
    assert data["target"]["zone_source"] == "age"
    assert data["rpe"] == 12 and data["post_craving"] is None
    assert "age and resting heart rate" in data["zone_from"]
    store = open_store(db_path)
    try:
        stored = ExerciseLog(store).get(data["exercise_session_id"])
    finally:
        store.close()
    assert stored["stopped_reason"] == "stop_sensor_lost"

    missing = CliRunner().invoke(app, ["exercise", "NEW-1", "--hr", "sim", "--json", "--db",
                                       str(db_path)])  # fmt: skip
    assert missing.exit_code == 2
    assert "--zone" in missing.output
