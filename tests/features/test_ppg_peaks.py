"""Systolic peaks vs NeuroKit2 on real PPG (HeartPy examples), streaming, bad input."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from addiction_index.errors import InputError
from addiction_index.features.ppg_peaks import PpgPeakStream, ppg_clean, ppg_peaks

TOL = 2  # samples, ours vs NeuroKit2 (measured: identical indices)


def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    i = np.clip(np.searchsorted(b, a), 1, b.size - 1)
    return np.minimum(np.abs(a - b[i - 1]), np.abs(a - b[i]))


def load(shared_file, name: str) -> tuple[np.ndarray, float]:
    if name == "data":
        return np.loadtxt(shared_file("heartpy_ppg", "data.csv"), dtype=np.float64), 100.0
    df = pd.read_csv(shared_file("heartpy_ppg", "data2.csv"))
    fs = 1000.0 / float(np.median(np.diff(df["timer"].to_numpy())))  # README: ~117 Hz
    return df["hr"].to_numpy(np.float64), fs


@pytest.mark.parametrize("name", ["data", "data2"])
def test_matches_neurokit(shared_file, name):
    x, fs = load(shared_file, name)
    clean = nk.ppg_clean(x, sampling_rate=fs)
    ref = np.asarray(nk.ppg_peaks(clean, sampling_rate=fs)[1]["PPG_Peaks"], np.int64)
    ours = ppg_peaks(x, fs)
    np.testing.assert_allclose(ppg_clean(x, fs), clean, rtol=0, atol=1e-9)
    worst = max(nearest(ref, ours).max(), nearest(ours, ref).max())
    assert worst <= TOL and ours.size == ref.size, f"{name}: {worst}, {ours.size}/{ref.size}"
    np.testing.assert_array_equal(ppg_peaks(clean, fs, clean=False), ref)


@pytest.mark.parametrize("name", ["data", "data2"])
def test_stream_chunking_and_batch_agreement(shared_file, name):
    x, fs = load(shared_file, name)
    whole = PpgPeakStream(fs).update(x)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    stream, parts, i = PpgPeakStream(fs, max_chunk=61), [], 0
    while i < x.size:
        n = int(rng.integers(1, 300))
        parts.append(stream.update(x[i : i + n]))
        i += n
    np.testing.assert_array_equal(np.concatenate(parts), whole, err_msg=f"seed={seed}")
    batch = ppg_peaks(x, fs)
    # causal band-pass: stream peaks lag by 0-3 samples; measured 100 % (data) and 87.6 %
    # (data2, whose signal has drop-outs to 0 where the causal threshold differs) within 4
    frac = np.mean(nearest(batch, whole) <= 4)
    assert frac >= (0.95 if name == "data" else 0.85), f"{name}: {frac:.3f}"


def test_short_and_bad_input():
    assert ppg_peaks(np.zeros(5), 100.0).size == 0
    assert PpgPeakStream(100.0).update(np.zeros(3)).size == 0
    for args, argument in [
        ((np.zeros(300, np.int64), 100.0), "ppg"),
        ((np.zeros((2, 300)), 100.0), "ppg"),
        ((np.zeros(300), 0.0), "fs"),
    ]:
        with pytest.raises(InputError) as info:
            ppg_peaks(*args)
        assert info.value.argument == argument
