"""EEG band powers (numba Welch) against scipy.signal.welch, and per-channel quality flags."""

from __future__ import annotations

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features import (
    QualityFlag,
    WelchPlan,
    eeg_bandpower,
    eeg_quality,
    reference,
    welch_plan,
)
from addiction_index.features.spec import load_feature_spec

SEED = 20240611
MUSE_SSVEP = ("muse_eeg_notebooks", "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv")

SPEC = load_feature_spec()
PLAN = WelchPlan.from_spec(SPEC)
BAND_NAMES = [b.name for b in SPEC.bands]


def scipy_bandpower(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference: scipy Welch PSD + the same half-open band sums × df."""
    return reference.scipy_bandpower(windows, SPEC)


def max_rel_error(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(ours - ref) / np.abs(ref)))


@pytest.mark.parametrize(
    ("freq_hz", "band"), [(2, "delta"), (6, "theta"), (10, "alpha"), (20, "beta"), (38, "gamma")]
)
def test_sine_power_lands_in_its_band(freq_hz: float, band: str) -> None:
    amplitude = 20.0  # µV; power of a sine = A²/2 = 200 µV²
    t = np.arange(SPEC.eeg_window_samples) / SPEC.fs
    x = amplitude * np.sin(2 * np.pi * freq_hz * t + 0.3) + 5.0
    windows = np.ascontiguousarray(np.broadcast_to(x, (1, 4, x.size)))
    abs_power, total = eeg_bandpower(windows, PLAN)
    index = BAND_NAMES.index(band)
    assert abs_power[0, :, index] == pytest.approx(200.0, rel=0.05)
    others = np.delete(abs_power[0], index, axis=1)
    assert np.all(others < 1e-6 * 200.0)
    assert total[0] == pytest.approx(abs_power[0].sum(axis=1), rel=1e-12)


def test_agrees_with_scipy_welch_on_pink_noise(pink) -> None:
    rng = np.random.default_rng(SEED)
    windows = pink(rng, (16, 4, SPEC.eeg_window_samples))
    abs_power, total = eeg_bandpower(windows, PLAN)
    ref_abs, ref_total = scipy_bandpower(windows)
    err = max(max_rel_error(abs_power, ref_abs), max_rel_error(total, ref_total))
    print(f"seed={SEED} max relative error vs scipy.signal.welch: {err:.2e}")
    assert err < 1e-9, f"seed={SEED}: {err:.2e}"


def test_band_bins_are_disjoint_and_cover_the_total_range() -> None:
    lo, hi = SPEC.content.eeg.total_hz
    assert np.array_equal(PLAN.freqs, np.arange(129) * 1.0)  # 0, 1, ..., 128 Hz
    first, stop = PLAN.total_bins
    assert np.array_equal(PLAN.freqs[first:stop], np.arange(lo, hi, PLAN.df))  # 1, ..., 44 Hz
    owners = np.zeros(PLAN.freqs.size, dtype=int)
    for (a, b), band in zip(PLAN.band_bins, SPEC.bands, strict=True):
        owners[a:b] += 1
        f = PLAN.freqs[a:b]
        assert f.min() == band.lo_hz and f.max() < band.hi_hz  # half-open [lo, hi)
    assert np.all(owners[first:stop] == 1) and owners.sum() == stop - first  # each bin once


def test_overlapping_bands_are_refused() -> None:
    with pytest.raises(InputError, match="count twice"):
        welch_plan(256.0, 256, 128, [(1.0, 5.0), (4.0, 8.0)], (1.0, 45.0))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((1, 4, 512), dtype=np.float32),
        np.zeros((4, 512)),
        np.zeros((1, 4, 100)),
        np.zeros((1, 4, 500)),  # not nperseg + a whole number of steps
    ],
)
def test_bad_windows_raise_input_error(bad: np.ndarray) -> None:
    with pytest.raises(InputError):
        eeg_bandpower(bad, PLAN)


def test_quality_flags_flat_railing_and_artefact(pink) -> None:
    rng = np.random.default_rng(SEED)
    windows = pink(rng, (1, 5, SPEC.eeg_window_samples), scale_uv=20.0)
    windows[0, 1] = 12.0 + rng.normal(0.0, 0.1, SPEC.eeg_window_samples)  # flat: std 0.1 µV
    windows[0, 2] = 960.0 + rng.normal(0.0, 10.0, SPEC.eeg_window_samples)  # at the +1000 rail
    windows[0, 3, 100:110] = 300.0  # a 600 µV peak-to-peak artefact
    windows[0, 3, 300:310] = -300.0
    windows[0, 4, 50] = np.nan  # a missing sample counts as out of range
    flags = eeg_quality(windows)
    assert flags.tolist() == [
        [0, QualityFlag.FLAT, QualityFlag.RAILING, QualityFlag.AMPLITUDE, QualityFlag.RAILING]
    ]


def test_agrees_with_scipy_on_a_real_muse_recording(shared_file) -> None:
    # Columns: timestamps, TP9, AF7, AF8, TP10, Right AUX, Marker0 (µV at 256 Hz; README).
    signal = np.loadtxt(shared_file(*MUSE_SSVEP), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    n = SPEC.eeg_window_samples
    starts = np.linspace(0, signal.shape[0] - n, 24).astype(int)
    windows = np.ascontiguousarray(np.stack([signal[s : s + n].T for s in starts]))
    abs_power, total = eeg_bandpower(windows, PLAN)
    ref_abs, ref_total = scipy_bandpower(windows)
    err = max(max_rel_error(abs_power, ref_abs), max_rel_error(total, ref_total))
    print(f"real Muse SSVEP file, {len(starts)} windows: max relative error {err:.2e}")
    assert err < 0.01  # the requirement
    assert err < 1e-9  # what a correct Welch gives (rounding only)
