"""The zone monitor on scripted heart-rate traces: cues, hysteresis, stops, time integration."""

from __future__ import annotations

import math

import pytest

from addiction_index.errors import InputError
from addiction_index.prescriptions._zone_monitor import (
    ZoneEventKind,
    ZoneMonitor,
    ZoneMonitorSettings,
    safety_ceiling_bpm,
)

K = ZoneEventKind
ZONE = (120, 140)
CEILING = 160
NO_PHASES = ZoneMonitorSettings(warmup_s=0, cooldown_s=0)
IN, BELOW, ABOVE, OVER = 130.0, 110.0, 150.0, 165.0


def run(monitor: ZoneMonitor, trace: list[tuple[float, float | None]]) -> list:
    events = []
    for t, hr in trace:
        events.extend(monitor.update(t, hr))
    return events


def seconds(t0: int, t1: int, hr: float | None) -> list[tuple[float, float | None]]:
    """One update a second at t0..t1 (inclusive)."""
    return [(float(t), hr) for t in range(t0, t1 + 1)]


def times(events: list, kind: ZoneEventKind) -> list[float]:
    return [e.t for e in events if e.kind is kind]


def test_in_zone_only_reports_reaching_it_and_counts_all_time() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES, planned_s=240)
    events = run(monitor, seconds(1, 120, IN))
    assert [(e.t, e.kind) for e in events] == [(1.0, K.IN_ZONE)]
    s = monitor.summary()
    assert s.in_zone_s == pytest.approx(120.0)
    assert s.in_zone_fraction == pytest.approx(1.0)
    assert s.below_s == s.above_s == s.lost_s == 0.0
    assert s.completion == pytest.approx(0.5)
    assert s.hr_mean_bpm == pytest.approx(IN)
    assert s.stopped_reason is None and s.alerts == []


def test_drift_below_cues_speed_up_after_cue_after_s_and_not_before() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    run(monitor, seconds(1, 60, IN))
    early = run(monitor, seconds(61, 75, BELOW))  # below since 61: 14 s at t = 75
    assert times(early, K.SPEED_UP) == []
    assert monitor.cue is None
    late = run(monitor, seconds(76, 80, BELOW))
    assert times(late, K.SPEED_UP) == [76.0]
    assert monitor.cue == "speed_up"
    back = run(monitor, seconds(81, 90, IN))
    assert times(back, K.IN_ZONE) == [81.0]
    assert monitor.cue is None


def test_speed_up_hysteresis_and_reminder() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    events = run(monitor, seconds(1, 10, IN) + seconds(11, 26, BELOW))
    assert times(events, K.SPEED_UP) == [26.0]
    # back in the zone for 5 s (< rearm_after_s = 10): no new cue on the next dip...
    events = run(monitor, seconds(27, 31, IN) + seconds(32, 60, BELOW))
    assert times(events, K.SPEED_UP) == []
    # ...until the reminder, repeat_cue_s = 60 s after the first cue
    events = run(monitor, seconds(61, 90, BELOW))
    assert times(events, K.SPEED_UP) == [86.0]
    # in the zone for 10 s re-arms: the next spell cues after cue_after_s again
    events = run(monitor, seconds(91, 101, IN) + seconds(102, 120, BELOW))
    assert times(events, K.IN_ZONE) == [91.0]
    assert times(events, K.SPEED_UP) == [117.0]
    assert monitor.cues == 3


def test_drift_above_cues_ease_off_then_in_zone() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    events = run(monitor, seconds(1, 30, IN) + seconds(31, 50, ABOVE) + seconds(51, 55, IN))
    assert times(events, K.EASE_OFF) == [46.0]  # above since 31, cue_after_s = 15
    assert times(events, K.IN_ZONE) == [1.0, 51.0]
    assert monitor.summary().above_s == pytest.approx(20.0)


def test_spike_over_ceiling_stops_after_the_hold() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    run(monitor, seconds(1, 199, IN))
    events = run(monitor, seconds(200, 210, OVER))
    assert times(events, K.OVER_CEILING) == [200.0]
    assert times(events, K.STOP_CEILING) == [203.0]  # ceiling_hold_s = 3
    assert monitor.stopped is not None and monitor.stopped.stops
    assert run(monitor, seconds(211, 220, IN)) == []  # frozen after a stop
    s = monitor.summary()
    assert s.stopped_reason == "stop_ceiling"
    assert s.elapsed_s == 203.0
    assert [a["kind"] for a in s.alerts] == ["over_ceiling", "stop_ceiling"]
    assert s.hr_peak_bpm == OVER


def test_a_short_excursion_over_the_ceiling_does_not_stop() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    events = run(monitor, seconds(1, 9, IN) + seconds(10, 12, OVER) + seconds(13, 30, IN))
    assert times(events, K.OVER_CEILING) == [10.0]
    assert monitor.stopped is None


def test_sensor_lost_warns_at_5_s_and_stops_at_15_s() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    run(monitor, seconds(1, 100, IN))  # last heart rate at 100
    events = run(monitor, seconds(101, 120, None))
    assert times(events, K.SENSOR_LOST) == [105.0]
    assert times(events, K.STOP_SENSOR_LOST) == [115.0]
    s = monitor.summary()
    assert s.stopped_reason == "stop_sensor_lost"
    assert s.lost_s == pytest.approx(15.0)
    assert s.in_zone_s == pytest.approx(100.0)


def test_sensor_back_before_the_stop_resumes() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    events = run(monitor, seconds(1, 100, IN) + seconds(101, 112, None) + seconds(113, 200, IN))
    assert times(events, K.SENSOR_LOST) == [105.0]
    assert times(events, K.SENSOR_BACK) == [113.0]
    assert times(events, K.STOP_SENSOR_LOST) == []
    assert monitor.stopped is None
    assert monitor.summary().lost_s == pytest.approx(12.0)


def test_time_is_integrated_over_irregular_updates() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    trace = [(0.3, IN), (1.0, BELOW), (1.7, BELOW), (2.9, ABOVE), (3.0, None), (4.5, IN)]
    run(monitor, trace)
    s = monitor.summary()
    assert s.in_zone_s == pytest.approx(0.3 + 1.5)
    assert s.below_s == pytest.approx(0.7 + 0.7)
    assert s.above_s == pytest.approx(1.2)
    assert s.lost_s == pytest.approx(0.1)
    assert s.in_zone_s + s.below_s + s.above_s + s.lost_s == pytest.approx(4.5)
    # time-weighted mean over measured time only
    weighted = 130 * 1.8 + 110 * 1.4 + 150 * 1.2
    assert s.hr_mean_bpm == pytest.approx(weighted / 4.4)


def test_a_gap_longer_than_max_interval_counts_as_lost() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=NO_PHASES)
    run(monitor, [(1.0, IN), (6.0, IN)])  # 5 s without an update
    s = monitor.summary()
    assert s.in_zone_s == pytest.approx(1.0 + 2.0)  # max_interval_s = 2
    assert s.lost_s == pytest.approx(3.0)


def test_warm_up_has_no_speed_up_and_phases_split_time() -> None:
    settings = ZoneMonitorSettings(warmup_s=60, cooldown_s=60)
    monitor = ZoneMonitor(ZONE, CEILING, settings=settings, planned_s=300)
    events = run(monitor, seconds(1, 100, BELOW))
    assert times(events, K.MAIN_PART) == [60.0]
    assert times(events, K.SPEED_UP) == [75.0]  # counted from the main part's start
    events = run(monitor, seconds(101, 110, IN) + seconds(111, 300, BELOW))
    assert times(events, K.COOL_DOWN) == [240.0]
    assert all(t < 240 for t in times(events, K.SPEED_UP))
    s = monitor.summary()
    assert s.phases["warm_up"]["below"] == pytest.approx(60.0)
    assert s.phases["cool_down"]["below"] == pytest.approx(60.0)
    assert s.in_zone_s + s.below_s == pytest.approx(180.0)  # the main part only
    assert s.completion == pytest.approx(1.0)
    assert sum(sum(p.values()) for p in s.phases.values()) == pytest.approx(300.0)


def test_ease_off_is_given_during_the_warm_up() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, settings=ZoneMonitorSettings(warmup_s=120))
    events = run(monitor, seconds(1, 30, ABOVE))
    assert times(events, K.EASE_OFF) == [16.0]


def test_short_sessions_keep_a_main_part() -> None:
    monitor = ZoneMonitor(ZONE, CEILING, planned_s=400)  # default 5-min warm-up and cool-down
    assert monitor.main_start_s == 100 and monitor.cooldown_start_s == 300


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lost_warn_s": 10, "lost_stop_s": 5},
        {"cue_after_s": -1},
        {"max_interval_s": 0},
        {"ceiling_hold_s": math.nan},
    ],
)
def test_settings_are_checked(kwargs: dict) -> None:
    with pytest.raises(InputError):
        ZoneMonitorSettings(**kwargs)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InputError):
        ZoneMonitor((140, 120), CEILING)
    with pytest.raises(InputError):
        ZoneMonitor(ZONE, 135)
    monitor = ZoneMonitor(ZONE, CEILING)
    monitor.update(10.0, IN)
    with pytest.raises(InputError):
        monitor.update(9.0, IN)


def test_safety_ceiling() -> None:
    # moderate zone, age 30 (HRmax 187): 85 % HRmax = 158.95 -> 159 (EVIDENCE 4.13)
    assert safety_ceiling_bpm((117, 139), 187.0) == 159
    # a vigorous zone reaching 169 bpm: zone top + 5
    assert safety_ceiling_bpm((143, 169), 187.0) == 174
    # no HRmax: zone top + 15
    assert safety_ceiling_bpm((120, 140), None) == 155
    with pytest.raises(InputError):
        safety_ceiling_bpm((120, 190), 187.0)
