"""HrvStream vs batch hrv_time / hrv_frequency and NeuroKit2; drift, batch paths, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features.hrv_frequency import HRV_FREQUENCY_KEYS, hrv_frequency
from addiction_index.features.hrv_stream import HRV_STREAM_KEYS, HrvStream, hrv_per_beat
from addiction_index.features.hrv_time import HRV_TIME_KEYS, hrv_time

# Stated tolerances (relative). Measured: time domain <= ~1e-13 (pNN50 exact), frequency domain
# <= ~3e-15 on both recordings; 1e-9 leaves room for rounding differences only.
RTOL_TIME = 1e-9
RTOL_FREQ = 1e-9
N_BEATS = 300


def batch(func, window):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(window)


def assert_close(ours: dict, ref: dict, keys, rtol: float, where: str) -> None:
    for key in keys:
        if np.isnan(ref[key]):
            assert np.isnan(ours[key]), f"{key} at {where}"
        else:
            assert ours[key] == pytest.approx(ref[key], rel=rtol, abs=0), f"{key} at {where}"


@pytest.mark.parametrize("which", ["rest", "polar"])
def test_streaming_equals_batch_on_every_window(load_rr, which):
    rr = load_rr(which)
    stream = HrvStream(N_BEATS)
    for k, value in enumerate(rr):
        stream.push(value)
        window = rr[max(0, k + 1 - N_BEATS) : k + 1]
        assert_close(stream.time_domain(), batch(hrv_time, window), HRV_TIME_KEYS, RTOL_TIME, k)
        if k % 25 == 0:
            ref = batch(hrv_frequency, window)
            assert_close(stream.frequency_domain(), ref, HRV_FREQUENCY_KEYS, RTOL_FREQ, k)


@pytest.mark.parametrize("which", ["rest", "polar"])
def test_spot_check_against_neurokit(load_rr, which):
    nk = pytest.importorskip("neurokit2")
    rr = load_rr(which)
    stream = HrvStream(N_BEATS)
    stream.update(rr[: N_BEATS + 57])
    window = rr[57 : N_BEATS + 57]
    peaks = np.concatenate(([0.0], np.cumsum(window))).astype(np.int64)  # 1000 Hz samples
    ref_t = nk.hrv_time(peaks, sampling_rate=1000).iloc[0]
    ours_t = stream.time_domain()
    for key in ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD"):
        assert ours_t[key] == pytest.approx(ref_t[key], rel=RTOL_TIME), key
    ref_f = nk.hrv_frequency(
        peaks, sampling_rate=1000, interpolation_rate=4, psd_method="welch", normalize=False
    ).iloc[0]
    ours_f = stream.frequency_domain()
    for key in HRV_FREQUENCY_KEYS:
        assert ours_f[key] == pytest.approx(ref_f[key], rel=RTOL_FREQ), key


def test_long_run_drift():
    rng = np.random.default_rng(20240511)  # seed 20240511: 20,000 beats, non-integer RR
    rr = 900.0 + 60.0 * rng.standard_normal(20_000) + 40.0 * np.sin(np.arange(20_000) / 7.0)
    stream = HrvStream(N_BEATS)
    for start in range(0, rr.size, 977):
        stream.update(rr[start : start + 977])
        k = min(start + 977, rr.size)
        ref = batch(hrv_time, rr[k - N_BEATS : k])
        assert_close(stream.time_domain(), ref, HRV_TIME_KEYS, RTOL_TIME, k)
    ref = batch(hrv_frequency, rr[-N_BEATS:])
    assert_close(stream.frequency_domain(), ref, HRV_FREQUENCY_KEYS, RTOL_FREQ, "end")


def test_per_beat_equals_pushes_bit_for_bit(load_rr):
    rr = load_rr("rest")
    table = hrv_per_beat(rr, N_BEATS)
    assert set(table) == set(HRV_STREAM_KEYS)
    stream = HrvStream(N_BEATS)
    for k, value in enumerate(rr):
        stream.push(value)
        row = stream.time_domain() | stream.frequency_domain()
        for key in HRV_STREAM_KEYS:
            np.testing.assert_array_equal(table[key][k], row[key], err_msg=f"{key} at {k}")
    assert np.isfinite(table["HRV_LF"][-1]) and np.isnan(table["HRV_LF"][50])


def test_random_batch_sizes_give_identical_state():
    seed = 7
    rng = np.random.default_rng(seed)
    rr = 800.0 + 100.0 * rng.random(2_000)
    one, many = HrvStream(120), HrvStream(120)
    for value in rr:
        one.push(value)
    start = 0
    while start < rr.size:
        size = int(rng.integers(1, 40))
        many.update(rr[start : start + size])
        start += size
    np.testing.assert_array_equal(one.time_array(), many.time_array(), err_msg=f"seed {seed}")
    np.testing.assert_array_equal(
        one.frequency_array(), many.frequency_array(), err_msg=f"seed {seed}"
    )


def test_short_data_is_nan_without_warning():
    stream = HrvStream(N_BEATS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(np.isnan(v) for v in stream.time_domain().values())
        assert all(np.isnan(v) for v in stream.frequency_domain().values())
        stream.update(np.full(30, 900.0))  # 27 s
        assert all(np.isnan(v) for v in stream.time_domain().values())
        stream.update(np.full(10, 900.0))  # 36 s: time domain only
        assert np.isfinite(stream.time_domain()["HRV_MeanNN"])
        assert all(np.isnan(v) for v in stream.frequency_domain().values())
        stream.update(900.0 + 50.0 * np.sin(np.arange(100) / 2.0))  # 126 s
        assert np.isfinite(stream.frequency_domain()["HRV_HF"])


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf"), "x"])
def test_bad_rr_raises(bad):
    stream = HrvStream()
    with pytest.raises(InputError, match="rr_ms"):
        stream.push(bad)
    if isinstance(bad, float):
        with pytest.raises(InputError, match="rr_ms"):
            stream.update(np.array([900.0, bad]))
    assert stream.n_held == 0


def test_bad_arguments_raise():
    with pytest.raises(InputError, match="rr_ms"):
        HrvStream().update([900.0, 900.0])
    with pytest.raises(InputError, match="n_beats"):
        HrvStream(2)
    with pytest.raises(InputError, match="interpolation_rate"):
        HrvStream(300, 0.5)


def test_slow_heart_grows_buffers():
    rr = 1900.0 + 80.0 * np.sin(np.arange(400) / 3.0)  # 31.6 bpm: longer than preallocated
    stream = HrvStream(N_BEATS)
    stream.update(rr)
    ref = batch(hrv_frequency, rr[-N_BEATS:])
    assert_close(stream.frequency_domain(), ref, HRV_FREQUENCY_KEYS, RTOL_FREQ, "slow")
