"""Live (one hop at a time from a ring buffer) vs batch extraction, and the feature semantics."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features import (
    HopFeatures,
    InsufficientDataWarning,
    eeg_feature_names,
    eeg_features_batch,
    eeg_hop_ends,
    heart_feature_names,
    heart_features_batch,
    load_feature_spec,
)
from addiction_index.signals import RingBuffer

SEED = 99017
SPEC = load_feature_spec()
N_WIN = SPEC.eeg_window_samples


def recording(pink, seconds: float = 30.0) -> np.ndarray:
    """(n_samples, 4) µV: 1/f noise + 10 Hz alpha, with a flat TP9 stretch and an AF7 artefact."""
    rng = np.random.default_rng(SEED)
    n = int(seconds * SPEC.fs)
    signal = pink(rng, (4, n), scale_uv=15.0).T.copy()
    signal += 8.0 * np.sin(2 * np.pi * 10.0 * np.arange(n) / SPEC.fs)[:, None]
    signal[2000:3000, 0] = 4.0  # TP9 flat for ~4 s
    signal[5000:5020, 1] += 400.0  # AF7 movement artefact
    signal[5100:5120, 1] -= 400.0
    return signal


def test_names_match_the_registry() -> None:
    hop = HopFeatures()
    eeg = hop.eeg(np.zeros((N_WIN, 4)))
    with pytest.warns(InsufficientDataWarning):
        heart = hop.heart(np.array([1.0]), np.array([800.0]), 1.0)
    assert list(eeg) == eeg_feature_names()
    assert list(heart) == heart_feature_names()
    assert list(eeg) + list(heart) == SPEC.feature_names()


def test_live_ring_buffer_path_equals_batch_to_the_bit(pink) -> None:
    signal = recording(pink)
    ends = eeg_hop_ends(signal.shape[0])
    batch = eeg_features_batch(signal, ends)

    rng = np.random.default_rng(SEED)
    ring = RingBuffer(capacity=3 * N_WIN, n_channels=4)
    window = np.empty((N_WIN, 4))
    hop = HopFeatures()
    live: dict[str, list[float]] = {name: [] for name in batch}
    pending = list(ends)
    written = 0
    while written < signal.shape[0]:  # random BLE-like chunks, cut at hop ends as the runner does
        size = int(rng.integers(1, 40))
        stop = min(written + size, signal.shape[0], pending[0] if pending else signal.shape[0])
        ring.write(np.arange(written, stop) / SPEC.fs, signal[written:stop])
        written = stop
        if pending and written == pending[0]:
            pending.pop(0)
            ring.latest(N_WIN, out=window)
            end = ring.index_until(written / SPEC.fs)  # segment spectra shared across hops
            for name, value in hop.eeg(window, end).items():
                live[name].append(value)
    assert not pending
    for name, values in batch.items():
        assert np.array_equal(np.array(live[name]), values, equal_nan=True), name
    # the recording exercises the interesting paths
    assert np.any(batch["eeg_quality_TP9"] == 1.0) and np.any(batch["eeg_quality_AF7"] == 4.0)
    assert np.isnan(batch["eeg_rel_alpha_frontal"]).any()
    assert np.isnan(batch["eeg_rel_alpha_temporal"]).any()


def test_irregular_hops_reuse_segments_without_changing_a_bit(pink) -> None:
    """Hop ends off the 64-sample grid (jitter, gaps) only cost recomputation, never a change."""
    signal = recording(pink, seconds=20.0)
    rng = np.random.default_rng(SEED + 1)
    ends = np.sort(rng.integers(N_WIN, signal.shape[0] + 1, size=120))
    ends = np.concatenate([ends, eeg_hop_ends(signal.shape[0])[:40]])  # and back to the grid
    hop = HopFeatures()
    for end in ends.tolist():
        cached = hop.eeg(np.ascontiguousarray(signal[end - N_WIN : end]), end)
        fresh = HopFeatures().eeg(np.ascontiguousarray(signal[end - N_WIN : end]))
        assert cached.keys() == fresh.keys()
        same = [k for k in cached if cached[k] == fresh[k] or (cached[k] != cached[k])]
        assert len(same) == len(cached), f"seed={SEED + 1} end={end}"


def test_live_heart_equals_batch_to_the_bit() -> None:
    rng = np.random.default_rng(SEED)
    rr = rng.normal(800.0, 40.0, 300)
    times = np.cumsum(rr) / 1000.0
    t_ends = np.arange(0.0, times[-1], SPEC.hop_s)
    hop = HopFeatures()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        batch = heart_features_batch(times, rr, t_ends)
        live = []
        for t_end in t_ends:
            held = int(np.searchsorted(times, t_end, side="right"))  # beats received so far
            live.append(hop.heart(times[:held], rr[:held], float(t_end)))
    for name, values in batch.items():
        assert np.array_equal([row[name] for row in live], values, equal_nan=True), name
    first_valid = np.flatnonzero(np.isfinite(batch["hrv_rmssd_ms"]))[0]
    assert t_ends[first_valid] >= 30.0  # nothing before 30 s of beats


def test_derived_features_follow_their_definitions(pink) -> None:
    signal = recording(pink)
    hop = HopFeatures()
    clean = hop.eeg(np.ascontiguousarray(signal[:N_WIN]))
    bands = [b.name for b in SPEC.bands]
    for ch in SPEC.channels:
        total = sum(clean[f"eeg_rel_{b}_{ch}"] for b in bands)
        assert total == pytest.approx(1.0, rel=1e-12)  # bands tile the 1-45 Hz total
    for b in bands:
        pair = (clean[f"eeg_rel_{b}_AF7"] + clean[f"eeg_rel_{b}_AF8"]) / 2
        assert clean[f"eeg_rel_{b}_frontal"] == pair
    faa = math.log(clean["eeg_abs_alpha_AF8"]) - math.log(clean["eeg_abs_alpha_AF7"])
    assert clean["eeg_faa"] == faa
    assert clean["eeg_usable"] == 1.0 and clean["eeg_usable_frontal"] == 1.0

    artefact = hop.eeg(np.ascontiguousarray(signal[4800:5312]))  # AF7 flagged
    assert artefact["eeg_quality_AF7"] == 4.0
    assert np.isfinite(artefact["eeg_abs_alpha_AF7"])  # still computed; the scorer decides
    assert math.isnan(artefact["eeg_rel_alpha_frontal"]) and math.isnan(artefact["eeg_faa"])
    assert np.isfinite(artefact["eeg_rel_alpha_temporal"])
    assert artefact["eeg_usable_frontal"] == 0.0 and artefact["eeg_usable"] == 0.0


def test_bad_inputs_raise_input_error() -> None:
    hop = HopFeatures()
    with pytest.raises(InputError, match=r"window\.shape"):
        hop.eeg(np.zeros((4, N_WIN)))
    with pytest.raises(InputError, match="hop_end_indices"):
        eeg_features_batch(np.zeros((1000, 4)), np.array([100]))
    with pytest.raises(InputError, match=r"signal\.shape"):
        eeg_features_batch(np.zeros((1000, 5)), np.array([600]))


def test_heart_quality_flags_lost_contact_and_stays_clear_while_beats_arrive() -> None:
    rr = np.full(120, 800.0)
    times = np.cumsum(rr) / 1000.0  # 96 s of beats, the last at 96.0 s
    hop = HopFeatures()
    assert hop.heart(times, rr, 96.5)["heart_quality"] == 0.0
    lost = hop.heart(times, rr, 100.0)  # 4 s without a beat: the strap lost skin contact
    assert lost["heart_quality"] == 1.0 and np.isfinite(lost["hr_mean_bpm"])
    batch = heart_features_batch(times, rr, np.array([96.5, 100.0]))
    assert batch["heart_quality"].tolist() == [0.0, 1.0]
