"""R peaks vs NeuroKit2 on real ECG, Polar H10 strap RR, PVCs as ectopic, streaming, bad input."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from addiction_index.errors import InputError
from addiction_index.features.ecg_peaks import (
    EcgPeakStream,
    ecg_clean,
    ecg_peaks,
    rr_intervals_ms,
)
from addiction_index.features.rr_artifacts import rr_artifacts

TOL = 2  # samples, ours vs NeuroKit2 (measured: identical indices on all three recordings)


def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|distance| (samples) from each of ``a`` to the nearest of ``b``."""
    i = np.clip(np.searchsorted(b, a), 1, b.size - 1)
    return np.minimum(np.abs(a - b[i - 1]), np.abs(a - b[i]))


def load(shared_file, name: str) -> tuple[np.ndarray, float]:
    if name == "polar":
        df = pd.read_csv(shared_file("polar_h10_ecg_detectpvc", "polar_h10_ecg_130hz.csv"))
        return df["ecg_mV"].to_numpy(np.float64), 130.0  # README: use ecg_mV at 130 Hz
    if name == "ecg1000":
        df = pd.read_csv(shared_file("neurokit_biosignals", "ecg_1000hz.csv"))
        return df["ECG"].to_numpy(np.float64), 1000.0
    df = pd.read_csv(shared_file("neurokit_biosignals", "bio_resting_5min_100hz.csv"))
    return df["ECG"].to_numpy(np.float64), 100.0


@pytest.mark.parametrize("name", ["polar", "ecg1000", "rest100"])
def test_matches_neurokit_beat_by_beat(shared_file, name):
    x, fs = load(shared_file, name)
    clean = nk.ecg_clean(x, sampling_rate=fs)
    ref = np.asarray(nk.ecg_peaks(clean, sampling_rate=fs)[1]["ECG_R_Peaks"], np.int64)
    ours = ecg_peaks(x, fs)
    assert ours.dtype == np.int64 and np.all(np.diff(ours) > 0)
    np.testing.assert_allclose(ecg_clean(x, fs), clean, rtol=0, atol=1e-12)
    worst = max(nearest(ref, ours).max(), nearest(ours, ref).max())
    assert worst <= TOL, f"{name}: worst offset {worst} samples ({ours.size} vs {ref.size})"
    assert ours.size == ref.size, f"{name}: {ours.size} ours vs {ref.size} NeuroKit2"
    np.testing.assert_array_equal(ecg_peaks(clean, fs, clean=False), ref)


def polar_strap(shared_file):
    df = pd.read_csv(shared_file("polar_h10_ecg_detectpvc", "polar_h10_ecg_130hz.csv"))
    fs_measured = 1e9 / np.median(np.diff(df["time_ns"].to_numpy()))  # 130.16 Hz
    return df, fs_measured


def test_polar_rr_matches_strap(shared_file):
    """>= 95 % of the strap's RR values have an ECG RR (same beat) within 2 samples (15.4 ms).

    Beats are aligned by cumulative time: strap beat ``i`` ends at ``cumsum(rr)[i] + offset``;
    the offset starts from the strap's 3rd beat = the first R peak and follows each match
    (100 ms search radius). Measured: 98.4 % within 15.4 ms, 98.0 % within 7.7 ms; the misses
    are the first 3 strap values (beats before the recording) and ~10 PVCs the strap merged.
    """
    df, fs_m = polar_strap(shared_file)
    peaks = ecg_peaks(df["ecg_mV"].to_numpy(np.float64), 130.0)
    beat_ms = peaks * (1000.0 / fs_m)
    rr_ecg = rr_intervals_ms(peaks, fs_m)
    strap = df["rr_ms"].dropna().to_numpy(np.float64)
    ends = np.cumsum(strap)
    offset = beat_ms[0] - ends[2]
    diffs = np.full(strap.size, np.inf)
    for i, end in enumerate(ends):
        j = int(np.argmin(np.abs(beat_ms - (end + offset))))
        if abs(beat_ms[j] - end - offset) < 100.0 and j >= 1:
            diffs[i] = abs(rr_ecg[j - 1] - strap[i])
            offset = beat_ms[j] - end
    within = np.mean(diffs <= 2 * 1000.0 / fs_m)
    assert within >= 0.95, f"{within:.3f} of {strap.size} strap RR within 2 samples"


def test_polar_pvcs_flagged_ectopic(shared_file):
    """Kubios flags PVC compensatory intervals as ectopic, only where the rhythm is mostly normal.

    Measured on the ECG RR (807 intervals): 259 short (< 0.75 x median) intervals, 237
    short-then-long pairs; 29 ectopic flags, 27 on the long interval right after a short one.
    The other PVCs are not flagged because Th1 = 5.2 x IQR(|dRR|)/2 over 91 beats adapts to the
    persistent pattern: at the compensatory intervals median Th1 = 779 ms > median dRR = 638 ms.
    """
    df, fs_m = polar_strap(shared_file)
    rr = rr_intervals_ms(ecg_peaks(df["ecg_mV"].to_numpy(np.float64), 130.0), fs_m)
    art = rr_artifacts(rr)
    med = np.median(rr)
    pairs = np.flatnonzero((rr[:-1] < 0.8 * med) & (rr[1:] > 1.1 * med)) + 1  # the long one
    assert pairs.size >= 200, pairs.size
    assert art.ectopic.size >= 20, art.counts
    on_pvc = np.isin(art.ectopic, pairs).mean()
    assert on_pvc >= 0.8, f"{on_pvc:.2f} of {art.ectopic.size} ectopic flags on short-long pairs"
    assert art.ectopic.size < 0.5 * pairs.size, "Kubios thresholds no longer adapt to bigeminy?"


@pytest.mark.parametrize("name", ["polar", "ecg1000", "rest100"])
def test_stream_chunking_and_batch_agreement(shared_file, name):
    x, fs = load(shared_file, name)
    whole = EcgPeakStream(fs).update(x)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    stream, parts, i = EcgPeakStream(fs, max_chunk=97), [], 0
    while i < x.size:
        n = int(rng.integers(1, 400))
        parts.append(stream.update(x[i : i + n]))
        i += n
    np.testing.assert_array_equal(np.concatenate(parts), whole, err_msg=f"seed={seed}")
    batch = ecg_peaks(x, fs)
    # causal high-pass vs zero-phase: >= 99 % of batch peaks within 2 samples (98 % on the
    # resting file, whose last minute is noisy; measured 100 %, 100 %, 98.6 %)
    frac = np.mean(nearest(batch, whole) <= 2)
    assert frac >= (0.98 if name == "rest100" else 0.99), f"{name}: {frac:.3f}"


def test_stream_latency_and_short_input():
    x = nk.ecg_simulate(duration=20, sampling_rate=130, heart_rate=70, random_state=0)
    stream = EcgPeakStream(130.0)
    found = [(k, p) for k in range(x.size) for p in stream.update(x[k : k + 1])]
    assert len(found) >= 20
    lag = np.array([k - p for k, p in found])
    assert np.all(lag >= stream.latency_samples) and np.all(lag <= stream.latency_samples + 40)
    assert ecg_peaks(x[:10], 130.0).size == 0
    assert EcgPeakStream(130.0).update(x[:5]).size == 0
    assert EcgPeakStream(130.0).update(np.zeros(0)).size == 0


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ((np.zeros(500, np.float32), 130.0), "ecg"),
        ((np.zeros((2, 500)), 130.0), "ecg"),
        ((np.zeros(500), 0.0), "fs"),
        ((np.zeros(500), -5.0), "fs"),
        ((np.full(500, np.nan), 130.0), "ecg"),
    ],
)
def test_bad_input(args, argument):
    with pytest.raises(InputError) as info:
        ecg_peaks(*args)
    assert info.value.argument == argument
    with pytest.raises(InputError) as info:
        EcgPeakStream(130.0).update(np.zeros((2, 3)))
    assert info.value.argument == "chunk"
    with pytest.raises(InputError):
        EcgPeakStream(0.0)
