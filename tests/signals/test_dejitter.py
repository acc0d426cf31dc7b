"""Dejittered timestamps follow each crystal: EEG and heart stay aligned over 30 minutes."""

from __future__ import annotations

import numpy as np
import pytest

from addiction_index.signals.dejitter import StreamClock

SESSION_S = 30 * 60


def _ble_latency(rng: np.random.Generator, n: int) -> np.ndarray:
    """Bluetooth delivery delay (s): 7.5 ms connection events, a long tail, rare 100 ms stalls."""
    base = 0.0075 * rng.integers(1, 4, n) + rng.exponential(0.004, n)
    stalls = rng.random(n) < 0.01
    return base + stalls * rng.uniform(0.05, 0.15, n)


def _eeg_errors(seed: int, ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """Muse-like stream, 12 samples per packet at 256 Hz on a crystal ``ppm`` off; errors (s)."""
    rng = np.random.default_rng(seed)
    period_true = (1 / 256) * (1 + ppm * 1e-6)
    n_packets = int(SESSION_S * 256 / 12)
    last_index = np.arange(1, n_packets + 1) * 12 - 1
    true_time = 100.0 + last_index * period_true
    arrival = true_time + _ble_latency(rng, n_packets)
    clock = StreamClock(1 / 256)
    errors = np.empty(n_packets)
    for i in range(n_packets):
        clock.update(last_index[i], arrival[i])
        errors[i] = clock.time_of(last_index[i]) - true_time[i]
    return true_time, errors


def _rr_errors(seed: int, ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """HR strap: one notification a second holding the RR of the beats since the last one."""
    rng = np.random.default_rng(seed)
    rr = rng.normal(0.8, 0.05, int(SESSION_S / 0.8) + 10)
    beat_true = 100.0 + np.cumsum(rr)
    rr_measured = rr * (1 - ppm * 1e-6)  # the strap's crystal measures the intervals
    position = np.cumsum(rr_measured)  # cumulative RR seconds on the strap's clock
    notes = np.arange(101.0, 100.0 + SESSION_S, 1.0)
    clock = StreamClock(1.0)
    times, errors = [], []
    done = 0
    for t_note in notes:
        upto = int(np.searchsorted(beat_true, t_note, side="right"))
        if upto == done:
            continue
        arrival = t_note + _ble_latency(rng, 1)[0]
        clock.update(position[upto - 1], arrival)
        stamped = clock.time_of(position[done:upto])
        times.extend(beat_true[done:upto])
        errors.extend(stamped - beat_true[done:upto])
        done = upto
    return np.array(times), np.array(errors)


def _misalignment(eeg_t, eeg_err, rr_t, rr_err) -> tuple[np.ndarray, np.ndarray]:
    """EEG minus heart timestamp error at the beats, after 5 minutes of convergence (s)."""
    keep = rr_t > rr_t[0] + 300
    at = rr_t[keep]
    return at, np.interp(at, eeg_t, eeg_err) - rr_err[keep]


def test_eeg_and_heart_do_not_drift_apart_over_thirty_minutes() -> None:
    eeg_t, eeg_err = _eeg_errors(1, ppm=+40.0)
    rr_t, rr_err = _rr_errors(2, ppm=-30.0)
    at, mis = _misalignment(eeg_t, eeg_err, rr_t, rr_err)
    trend = np.polyfit(at - at[0], mis, 1)[0] * (at[-1] - at[0])  # s over the session
    print(
        f"30 min, crystals +40/-30 ppm: drift {abs(trend) * 1e3:.1f} ms, misalignment "
        f"{np.abs(mis).mean() * 1e3:.1f} ms mean, {np.abs(mis).max() * 1e3:.1f} ms max; "
        f"EEG residual jitter sd {eeg_err[eeg_t > eeg_t[0] + 300].std() * 1e3:.2f} ms"
    )
    assert abs(trend) < 0.010
    # The strap sends beats once a second, so beats are anchored a few tens of ms late (bias).
    assert np.abs(mis).max() < 0.060
    # Arrival times of EEG packets scatter by tens of ms; the dejittered times do not.
    assert eeg_err[eeg_t > eeg_t[0] + 300].std() < 0.002


def test_without_the_fitted_rate_the_streams_would_drift() -> None:
    """The check above can fail: nominal rates alone drift 70 ppm × 30 min ≈ 0.13 s apart."""
    clock = StreamClock(1 / 256)
    clock.update(11, 100.0)
    assert abs(clock.period - 1 / 256) < 1e-15  # nominal until a hull exists
    eeg_t, _ = _eeg_errors(1, ppm=+40.0)
    nominal_drift = (eeg_t[-1] - eeg_t[0]) * 70e-6
    assert nominal_drift > 0.1


def test_a_skipped_counter_keeps_time_and_a_resync_re_anchors() -> None:
    clock = StreamClock(1 / 256)
    for k in range(200):
        clock.update(k * 12 + 11, 10.0 + (k * 12 + 11) / 256 + 0.01)
    # Ten packets lost: the counter (position) jumps, the timestamps do not shift.
    x = 210 * 12 + 11
    clock.update(x, 10.0 + x / 256 + 0.01)
    assert clock.time_of(x) == pytest.approx(10.0 + x / 256 + 0.01, abs=1e-3)
    # A reconnection 5.3 s later restarts the counter: the arrival time gives the position.
    arrival = 10.0 + x / 256 + 0.01 + 5.3
    first = clock.resync(arrival, 12)
    assert first + 11 == pytest.approx(x + 5.3 * 256, abs=1.0)
