"""Beats from a raw ECG (real Polar H10) when no strap RR is streamed: the runner derives them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features import load_feature_spec
from addiction_index.features.ecg_peaks import ecg_peaks, rr_intervals_ms
from addiction_index.models import load_model_definition
from addiction_index.sessions import SessionRunner, load_protocol
from addiction_index.sessions._beats import BeatsFromWaveform
from addiction_index.signals import SimulatedClock, StreamInfo, StreamKind
from addiction_index.signals.streams import Chunk

FS = 130.0
POLAR = ("polar_h10_ecg_detectpvc", "polar_h10_ecg_130hz.csv")
SEED = 5150


def test_runner_derives_beats_from_a_polar_h10_ecg(shared_file) -> None:
    ecg = np.loadtxt(shared_file(*POLAR), delimiter=",", skiprows=1, usecols=1)[: int(300 * FS)]
    stream = StreamInfo("h10/ecg", StreamKind.ECG, ("ecg",), ("mV",), FS, "h10")
    runner = SessionRunner(
        load_protocol("demo"),
        [SimpleNamespace(name="h10", streams=[stream])],
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=SimulatedClock(),
    )
    assert runner.rr is not None and runner.rr.name == "h10/rr-from-ecg"
    rng = np.random.default_rng(SEED)
    t0, start = 1000.0, 0
    while start < ecg.size:  # PMD frames of 40-90 samples
        stop = min(ecg.size, start + int(rng.integers(40, 90)))
        times = t0 + np.arange(start, stop) / FS
        runner._store(Chunk(stream, times, ecg[start:stop, None]))
        start = stop
    beat_t, rr = np.array(runner.beats[0]), np.array(runner.beats[1])
    batch = ecg_peaks(ecg, FS)
    expected = rr_intervals_ms(batch, FS)
    # streaming (causal) vs batch (zero-phase): same beats within 2 samples; the last ones wait
    # for the detector's latency
    assert rr.size >= expected.size - 3, f"seed={SEED}"
    matched = np.abs(beat_t[:, None] - (t0 + batch[None, 1:] / FS)).min(axis=1) <= 2 / FS
    assert matched.mean() >= 0.99, f"seed={SEED}: {matched.mean():.3f}"
    assert runner.rings["h10/rr-from-ecg"].count == rr.size


def test_a_dropout_is_a_gap_not_a_long_rr(shared_file) -> None:
    ecg = np.loadtxt(shared_file(*POLAR), delimiter=",", skiprows=1, usecols=1)[: int(60 * FS)]
    stream = StreamInfo("h10/ecg", StreamKind.ECG, ("ecg",), ("mV",), FS, "h10")
    beats = BeatsFromWaveform(stream)
    rr = []
    for k, start in enumerate(range(0, ecg.size, 65)):
        stop = min(start + 65, ecg.size)
        times = np.arange(start, stop) / FS + (10.0 if start >= 30 * FS else 0.0)  # 10 s lost
        got = beats.update(Chunk(stream, times, ecg[start:stop, None]))
        rr += [] if got is None else got.samples[:, 0].tolist()
        assert k < 10_000
    assert rr and max(rr) < 2000.0  # no 10 s "interval" across the dropout


def test_only_waveforms_are_accepted() -> None:
    stream = StreamInfo("x/ppg", StreamKind.PPG, ("ambient", "ir", "red"), ("au",) * 3, 64.0, "x")
    beats = BeatsFromWaveform(stream)
    assert beats.channel == 1 and beats.stream.kind is StreamKind.RR
    eeg = StreamInfo("x/eeg", StreamKind.EEG, ("TP9",), ("uV",), 256.0, "x")
    with pytest.raises(InputError, match="ECG or PPG"):
        BeatsFromWaveform(eeg)
