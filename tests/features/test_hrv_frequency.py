"""hrv_frequency against NeuroKit2's hrv_frequency on real RR data, synthetic bands, short data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from addiction_index.features.hrv import InsufficientDataWarning
from addiction_index.features.hrv_frequency import (
    HRV_BANDS_HZ,
    HRV_FREQUENCY_KEYS,
    band_masks,
    hrv_frequency,
    rr_psd,
)

nk = pytest.importorskip("neurokit2")

# Relative agreement with NeuroKit2 (same interpolation, Welch parameters and band integration);
# measured: <= 4e-16 on both recordings, so 1e-9 leaves room only for library rounding changes.
RTOL = 1e-9


@pytest.mark.parametrize("which", ["rest", "polar"])
def test_matches_neurokit(load_rr, which):
    rr = load_rr(which)
    ours = hrv_frequency(rr, interpolation_rate=4.0)
    peaks = np.concatenate(([0.0], np.cumsum(rr))).astype(np.int64)  # 1000 Hz samples
    ref = nk.hrv_frequency(
        peaks, sampling_rate=1000, interpolation_rate=4, psd_method="welch", normalize=False
    ).iloc[0]
    for key in HRV_FREQUENCY_KEYS:
        assert ours[key] == pytest.approx(ref[key], rel=RTOL), key
    assert 0 < ours["HRV_LFn"] + ours["HRV_HFn"] <= 1


def synthetic_rr(freq_hz: float, seconds: float = 300.0) -> np.ndarray:
    """RR series (ms) whose beat-to-beat value follows 900 + 50 sin(2π f t) at the beat time."""
    rr, t = [], 0.0
    while t < seconds:
        value = 900.0 + 50.0 * np.sin(2 * np.pi * freq_hz * t)
        rr.append(value)
        t += value / 1000.0
    return np.asarray(rr)


@pytest.mark.parametrize(("freq_hz", "band", "other"), [(0.25, "HF", "LF"), (0.1, "LF", "HF")])
def test_sinusoid_power_lands_in_its_band(freq_hz, band, other):
    out = hrv_frequency(synthetic_rr(freq_hz))
    assert out[f"HRV_{band}"] > 20 * out[f"HRV_{other}"]
    # a 50 ms sine has variance 1250 ms²: nearly all of it in its band
    assert out[f"HRV_{band}"] == pytest.approx(1250.0, rel=0.1)
    assert out[f"HRV_{band}"] / out["HRV_TP"] > 0.9


def test_bands_half_open_no_bin_counted_twice(load_rr):
    rr = load_rr("rest")
    freqs, _ = rr_psd(rr, 4.0)
    edges = np.array([edge for band in HRV_BANDS_HZ.values() for edge in band])
    freqs = np.union1d(freqs, edges)  # include the edges themselves
    counts = np.sum(np.vstack(list(band_masks(freqs).values())), axis=0)
    assert counts.max() == 1
    assert HRV_BANDS_HZ["LF"] == (0.04, 0.15) and HRV_BANDS_HZ["HF"] == (0.15, 0.4)


def test_under_120_s_is_nan_with_warning():
    rr = synthetic_rr(0.25, seconds=100.0)
    with pytest.warns(InsufficientDataWarning, match="120 s"):
        out = hrv_frequency(rr)
    assert set(out) == set(HRV_FREQUENCY_KEYS)
    assert all(np.isnan(v) for v in out.values())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(hrv_frequency(synthetic_rr(0.25, seconds=125.0))["HRV_HF"])
