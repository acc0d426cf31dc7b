"""Sliding-window mean HR and RMSSD against hand arithmetic, NumPy and NeuroKit2."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features import InsufficientDataWarning, hrv_window

SEED = 7321


def beat_times(rr_ms: np.ndarray, start_s: float = 100.0) -> np.ndarray:
    """Time (s) of the beat closing each RR interval."""
    return start_s + np.cumsum(rr_ms) / 1000.0


def numpy_reference(rr_times, rr_ms, t_ends, window_s, min_s):
    hr, rmssd, n = [], [], []
    for t_end in t_ends:
        rr = rr_ms[(rr_times > t_end - window_s) & (rr_times <= t_end)]
        n.append(rr.size)
        ok = rr.size >= 2 and rr.sum() / 1000.0 >= min_s
        hr.append(60000.0 / rr.mean() if ok else np.nan)
        rmssd.append(np.sqrt(np.mean(np.diff(rr) ** 2)) if ok else np.nan)
    return np.array(hr), np.array(rmssd), np.array(n)


def test_rmssd_and_mean_hr_by_hand() -> None:
    rr = np.array([800.0, 810.0, 790.0, 805.0, 795.0])
    times = beat_times(rr)
    hr, rmssd, n = hrv_window(times, rr, times[-1:], 120.0, 0.0)
    # diffs 10, -20, 15, -10 -> squares 100 + 400 + 225 + 100 = 825 over 4 diffs
    assert rmssd[0] == pytest.approx(math.sqrt(825 / 4), rel=1e-12)  # 14.3614 ms
    # mean RR = (800 + 810 + 790 + 805 + 795) / 5 = 4000 / 5 = 800 ms -> 60000 / 800 = 75 bpm
    assert hr[0] == pytest.approx(75.0, rel=1e-12)
    assert n.tolist() == [5]


def test_thirty_two_seconds_of_beats_pass_the_spec_minimum() -> None:
    rr = np.tile([800.0, 810.0, 790.0, 805.0, 795.0], 8)  # 40 beats, 32 s
    times = beat_times(rr)
    hr, rmssd, n = hrv_window(times, rr, times[-1:], 120.0, 30.0)
    # 8 × (100 + 400 + 225 + 100) within the pattern + 7 × (800 - 795)² between = 6775, 39 diffs
    assert rmssd[0] == pytest.approx(math.sqrt(6775 / 39), rel=1e-12)  # 13.1802 ms
    assert hr[0] == pytest.approx(75.0, rel=1e-12)
    assert n.tolist() == [40]


def test_under_thirty_seconds_gives_nan_and_a_named_warning() -> None:
    rr = np.tile([800.0, 810.0, 790.0, 805.0, 795.0], 7)  # 35 beats, 28 s < 30 s
    times = beat_times(rr)
    with pytest.warns(InsufficientDataWarning, match="less than 30 s"):
        hr, rmssd, n = hrv_window(times, rr, times[-1:], 120.0, 30.0)
    assert math.isnan(hr[0]) and math.isnan(rmssd[0])
    assert n.tolist() == [35]  # the count is still reported


def test_window_is_half_open() -> None:
    rr = np.full(200, 1000.0)
    times = np.arange(1.0, 201.0)  # beats at 1, 2, ..., 200 s
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, n = hrv_window(times, rr, np.array([150.0, 150.5]), 120.0, 30.0)
    # (30, 150] holds 31..150 = 120 beats; (30.5, 150.5] holds 31..150 too
    assert n.tolist() == [120, 120]


def test_agrees_with_numpy_over_random_chunks() -> None:
    rng = np.random.default_rng(SEED)
    rr = rng.normal(850.0, 60.0, 600).clip(400.0, 1500.0)
    times = beat_times(rr, start_s=0.0)
    t_ends = np.sort(rng.uniform(0.0, times[-1] + 5.0, 400))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        whole = hrv_window(times, rr, t_ends, 120.0, 30.0)
        cuts = np.sort(rng.choice(np.arange(1, t_ends.size), 20, replace=False))
        chunks = [hrv_window(times, rr, part, 120.0, 30.0) for part in np.split(t_ends, cuts)]
    reference = numpy_reference(times, rr, t_ends, 120.0, 30.0)
    for ours, chunked, ref in zip(whole, zip(*chunks, strict=True), reference, strict=True):
        assert np.array_equal(ours, np.concatenate(chunked), equal_nan=True), f"seed={SEED}"
        np.testing.assert_allclose(ours, ref, rtol=1e-12, err_msg=f"seed={SEED}")
    assert np.isnan(whole[1]).any() and np.isfinite(whole[1]).any()


def test_agrees_with_neurokit2_hrv_time() -> None:
    nk = pytest.importorskip("neurokit2")
    rng = np.random.default_rng(SEED)
    rr = np.round(rng.normal(850.0, 50.0, 140))  # whole ms, so peaks at 1000 Hz are exact
    times = beat_times(rr)
    hr, rmssd, _ = hrv_window(times, rr, times[-1:], 1e6, 30.0)
    peaks = np.concatenate([[0], np.cumsum(rr)]).astype(int)
    ref = nk.hrv_time(peaks, sampling_rate=1000)
    assert rmssd[0] == pytest.approx(ref["HRV_RMSSD"].iloc[0], rel=1e-9)
    assert hr[0] == pytest.approx(60000.0 / ref["HRV_MeanNN"].iloc[0], rel=1e-9)


@pytest.mark.parametrize(
    ("times", "rr", "argument"),
    [
        (np.array([2.0, 1.0]), np.array([800.0, 800.0]), "rr_times"),
        (np.array([1.0, 2.0]), np.array([800.0]), "rr_ms.shape"),
        (np.array([1.0, 2.0]), np.array([800.0, -5.0]), "rr_ms"),
        (np.array([1, 2]), np.array([800.0, 800.0]), "rr_times"),
    ],
)
def test_bad_input_names_the_argument(times, rr, argument) -> None:
    with pytest.raises(InputError) as caught:
        hrv_window(times, rr, np.array([2.0]), 120.0, 30.0)
    assert caught.value.argument == argument
