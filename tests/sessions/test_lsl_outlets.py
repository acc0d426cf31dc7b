"""LslPublisher against real pylsl inlets on localhost (no mocks); unique names per test."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing

import numpy as np
import pylsl
import pytest

from addiction_index.devices._lsl import LslSource, host_clock_offset
from addiction_index.errors import InputError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models._craving import CravingEstimate
from addiction_index.sessions._lsl_outlets import LIVE_FEATURES, LslPublisher
from addiction_index.sessions._runner import HopRecord
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

FS = 256.0
LABELS = ("TP9", "AF7", "AF8", "TP10")


def _streams(tag: str) -> tuple[StreamInfo, StreamInfo]:
    device = f"sim-{tag}"
    eeg = StreamInfo(f"{device}/eeg", StreamKind.EEG, LABELS, ("uV",) * 4, FS, device)
    rr = StreamInfo(f"{device}/rr", StreamKind.RR, ("rr",), ("ms",), 0.0, device)
    return eeg, rr


def _inlet(source_id: str) -> pylsl.StreamInlet:
    (found,) = pylsl.resolve_byprop("source_id", source_id, 1, 5.0)
    inlet = pylsl.StreamInlet(found, processing_flags=pylsl.proc_clocksync)
    inlet.open_stream(5.0)
    inlet.time_correction(5.0)
    return inlet


def _read(inlet: pylsl.StreamInlet, n: int) -> tuple[list, np.ndarray]:
    """``n`` samples (and their timestamps, host seconds) from ``inlet``, waiting 5 s at most."""
    samples: list = []
    stamps: list[float] = []
    end = time.monotonic() + 5.0
    while len(stamps) < n and time.monotonic() < end:
        got, t = inlet.pull_chunk(timeout=0.1, max_samples=n - len(stamps))
        samples += got
        stamps += list(t)
    return samples, np.asarray(stamps) + host_clock_offset()


def _channels(inlet: pylsl.StreamInlet) -> list[tuple[str, str]]:
    channel = inlet.info(5.0).desc().child("channels").child("channel")
    out = []
    while not channel.empty():
        out.append((channel.child_value("label"), channel.child_value("unit")))
        channel = channel.next_sibling("channel")
    return out


def test_live_features_are_registered_with_units() -> None:
    registry = load_feature_spec().registry
    assert len(LIVE_FEATURES) == len(set(LIVE_FEATURES)) == 13
    assert all(registry[name].unit for name in LIVE_FEATURES)
    with pytest.raises(InputError, match="eeg_nonsense"):
        LslPublisher("x", features=["eeg_faa", "eeg_nonsense"])


def test_published_chunks_hops_and_markers_read_back_exactly() -> None:
    tag = uuid.uuid4().hex[:12]
    eeg, rr = _streams(tag)
    publisher = LslPublisher(f"test-{tag}")
    publisher.open([eeg, rr])
    names = [eeg.name, rr.name, publisher.features_name]
    names += [publisher.craving_name, publisher.markers_name]
    assert sorted(publisher.published) == sorted([*names, f"{eeg.name}-filtered"])
    with ThreadPoolExecutor(len(names)) as pool:  # clock sync takes ~0.6 s per inlet
        inlets = dict(zip(names, pool.map(_inlet, map(publisher.source_id, names)), strict=True))

    t0 = time.monotonic()
    rng = np.random.default_rng(11)
    n = 2 * 256
    eeg_t = t0 + np.arange(n) / FS
    eeg_x = rng.normal(0.0, 25.0, size=(n, 4))
    for k in range(0, n, 12):
        publisher.on_chunk(Chunk(eeg, eeg_t[k : k + 12], eeg_x[k : k + 12]))
    rr_t = t0 + np.cumsum([0.81, 0.79, 0.83])
    rr_x = np.array([[810.0], [790.0], [830.0]])
    publisher.on_chunk(Chunk(rr, rr_t, rr_x))
    hop_t = t0 + 2.0 + 0.25 * np.arange(3)
    craving = [CravingEstimate(None, 0.0, False), CravingEstimate(42.5, 0.8, True)]
    craving.append(CravingEstimate(55.0, 0.4, False))
    for i, t in enumerate(hop_t):
        features = {"eeg_faa": 0.1 * i, "hr_mean_bpm": 70.0 + i, "eeg_abs_alpha_AF7": 3.0}
        publisher.on_hop(HopRecord(float(t), None, features, craving[i]))
    markers = [
        Marker(t0, "block_start", "baseline", meta={"role": "baseline"}),
        Marker(t0 + 1.0, "rating", "neutral", 35.0, {"moment": "pre_cue"}),
        Marker(t0 + 2.0, "cue", "drug", meta={"set": "drug", "number": 1}),
    ]
    for marker in markers:
        publisher.on_marker(marker)
    publisher.flush()

    got, t = _read(inlets[eeg.name], n)
    np.testing.assert_array_equal(np.array(got), eeg_x)  # double64 on the wire
    assert np.abs(t - eeg_t).max() < 1e-3
    got, t = _read(inlets[rr.name], 3)
    np.testing.assert_array_equal(np.array(got), rr_x)
    assert np.abs(t - rr_t).max() < 1e-3

    got, t = _read(inlets[publisher.features_name], 3)
    assert np.abs(t - hop_t).max() < 1e-3
    rows = np.array(got)
    assert rows.shape == (3, len(LIVE_FEATURES))
    faa, hr = LIVE_FEATURES.index("eeg_faa"), LIVE_FEATURES.index("hr_mean_bpm")
    np.testing.assert_allclose(rows[:, faa], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(rows[:, hr], [70.0, 71.0, 72.0])
    others = [j for j in range(len(LIVE_FEATURES)) if j not in (faa, hr)]
    assert np.isnan(rows[:, others]).all()  # missing features are NaN

    got, t = _read(inlets[publisher.craving_name], 3)
    assert np.abs(t - hop_t).max() < 1e-3
    assert math.isnan(got[0][0]) and got[0][1] == 0.0
    assert got[1:] == [[42.5, 0.8], [55.0, 0.4]]

    got, t = _read(inlets[publisher.markers_name], 3)
    assert np.abs(t - np.array([m.timestamp for m in markers])).max() < 1e-3
    assert [row[0] for row in got] == ["block_start", "rating", "cue"]
    assert json.loads(got[1][1]) == {
        "block": "neutral",
        "value": 35.0,
        "meta": {"moment": "pre_cue"},
    }

    registry = load_feature_spec().registry
    assert _channels(inlets[eeg.name]) == [(label, "uV") for label in LABELS]
    assert _channels(inlets[publisher.features_name]) == [
        (name, registry[name].unit) for name in LIVE_FEATURES
    ]
    assert inlets[eeg.name].info(5.0).type() == "EEG"
    assert inlets[publisher.features_name].info(5.0).nominal_srate() == 4.0

    publisher.close()
    assert publisher.published == []
    publisher.on_marker(markers[0])  # ignored once closed
    assert publisher.published == []


def test_lsl_source_reads_what_the_publisher_sends() -> None:
    """Round trip through LSL: raw stream description and markers with block, value and meta."""
    tag = uuid.uuid4().hex[:12]
    eeg, _ = _streams(tag)
    marker = Marker(0.0, "rating", "neutral", 35.0, {"moment": "pre_cue"})

    async def main() -> tuple[LslSource, LslSource, list, list]:
        with LslPublisher(f"test-{tag}") as publisher:
            publisher.open([eeg])
            raw = LslSource(source_id=publisher.source_id(eeg.name))
            events = LslSource(source_id=publisher.source_id(publisher.markers_name))
            await asyncio.gather(asyncio.to_thread(raw.connect), asyncio.to_thread(events.connect))
            t0 = time.monotonic()
            x = np.arange(48.0).reshape(12, 4)
            publisher.on_chunk(Chunk(eeg, t0 + np.arange(12) / FS, x))
            publisher.on_marker(dataclasses.replace(marker, timestamp=t0))
            async with asyncio.timeout(5.0):
                async with aclosing(raw.chunks()) as stream:
                    chunk = await anext(stream)
                async with aclosing(events.chunks()) as stream:
                    got = await anext(stream)
        return raw, events, [chunk, x], [got, t0]

    raw, events, (chunk, x), (got, t0) = asyncio.run(main())
    (info,) = raw.streams
    assert (info.kind, info.channels, info.units, info.nominal_rate) == (
        StreamKind.EEG,
        LABELS,
        ("uV",) * 4,
        FS,
    )
    np.testing.assert_array_equal(chunk.samples[: len(chunk)], x[: len(chunk)])
    assert events.streams[0].kind is StreamKind.MARKER
    assert (got.label, got.block, got.value, got.meta) == (
        marker.label,
        marker.block,
        marker.value,
        marker.meta,
    )
    assert abs(got.timestamp - t0) < 1e-3


def test_filtered_eeg_outlet_carries_the_causal_display_filter() -> None:
    from addiction_index.features.filters import design_eeg_filters, filter_recording

    tag = uuid.uuid4().hex[:12]
    eeg, _ = _streams(tag)
    publisher = LslPublisher(f"test-{tag}")
    publisher.open([eeg])
    name = f"{eeg.name}-filtered"
    assert name in publisher.published
    inlet = _inlet(publisher.source_id(name))
    rng = np.random.default_rng(12)
    n = 3 * 256
    t = time.monotonic() + np.arange(n) / FS
    x = rng.normal(0.0, 25.0, size=(n, 4)) + 40.0 * np.sin(2 * np.pi * 50.0 * t)[:, None]
    for k in range(0, n, 12):  # Muse-sized packets: the filter state carries across them
        publisher.on_chunk(Chunk(eeg, t[k : k + 12], x[k : k + 12]))
    got, stamps = _read(inlet, n)
    publisher.close()
    d = load_feature_spec().content.eeg.display_filter
    expected = filter_recording(
        design_eeg_filters(FS, d.notch_hz, d.band_hz, d.order, d.notch_q), x
    )
    assert len(got) == n and np.abs(stamps - t).max() < 1e-3
    np.testing.assert_allclose(np.array(got), expected, rtol=0, atol=1e-9)
