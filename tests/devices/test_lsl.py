"""LslSource and list_lsl_streams against real pylsl outlets on localhost (no mocks).

Every test names its streams with a fresh uuid, so parallel and repeated runs do not collide.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from contextlib import aclosing

import numpy as np
import pylsl
import pytest

from addiction_index.devices._lsl import (
    LslSource,
    LslStreamSummary,
    host_clock_offset,
    list_lsl_streams,
)
from addiction_index.devices._source import Source, SourceState
from addiction_index.errors import DeviceError
from addiction_index.signals.streams import Chunk, Marker, StreamKind

FS = 256.0
LABELS = ("TP9", "AF7", "AF8", "TP10")


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def _outlet(
    name: str,
    lsl_type: str,
    n_channels: int,
    rate: float,
    fmt: int,
    *,
    labels: tuple[str, ...] = (),
    unit: str = "",
    source_id: str | None = None,
) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo(
        name, lsl_type, n_channels, rate, fmt, f"sid-{name}" if source_id is None else source_id
    )
    channels = info.desc().append_child("channels")
    for label in labels:
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


async def _collect(source: LslSource, until: int) -> list[Chunk | Marker]:
    """Items from the source until ``until`` samples/markers have come (5 s at most)."""
    items: list[Chunk | Marker] = []
    count = 0
    async with asyncio.timeout(5.0), aclosing(source.chunks()) as stream:
        async for item in stream:
            items.append(item)
            count += len(item) if isinstance(item, Chunk) else 1
            if count >= until:
                break
    return items


def _worker_threads(source: LslSource) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == source.name]


def test_local_clock_is_the_host_monotonic_clock() -> None:
    """Linux: liblsl's steady_clock and time.monotonic are both CLOCK_MONOTONIC."""
    before, lsl, after = time.monotonic(), pylsl.local_clock(), time.monotonic()
    assert before - 1e-6 <= lsl + host_clock_offset() <= after + 1e-6
    if time.get_clock_info("monotonic").implementation == "clock_gettime(CLOCK_MONOTONIC)":
        assert host_clock_offset() == 0.0


def test_eeg_chunks_and_markers_come_through_with_their_timestamps() -> None:
    tag = _tag()
    eeg_out = _outlet(
        f"eeg-{tag}", "EEG", 4, FS, pylsl.cf_float32, labels=LABELS, unit="microvolts"
    )
    marker_out = _outlet(f"markers-{tag}", "Markers", 1, 0.0, pylsl.cf_string)
    rng = np.random.default_rng(7)
    n = 3 * 256
    pushed = rng.normal(0.0, 20.0, size=(n, 4)).astype(np.float32)
    labels = ["block_start", "cue", "cue", "block_end"]

    async def main() -> tuple[list, list, LslSource]:
        eeg = LslSource(f"eeg-{tag}", timeout_s=5.0)
        markers = LslSource(stream_type="markers", source_id=f"sid-markers-{tag}")
        assert isinstance(eeg, Source)
        await asyncio.gather(asyncio.to_thread(eeg.connect), asyncio.to_thread(markers.connect))
        assert eeg.state is SourceState.CONNECTING
        t0 = time.monotonic() + 0.5  # host seconds of the first sample
        times = t0 + np.arange(n) / FS
        lsl_times = times - host_clock_offset()
        for k in range(0, n, 12):  # Muse-like packets of 12 samples
            eeg_out.push_chunk(pushed[k : k + 12], lsl_times[k : k + 12].tolist())
        marker_times = t0 + np.array([0.0, 0.75, 1.5, 2.5])
        for label, t in zip(labels, marker_times - host_clock_offset(), strict=True):
            marker_out.push_sample([label], float(t))
        got_eeg, got_markers = await asyncio.gather(_collect(eeg, n), _collect(markers, 4))
        return (times, marker_times), (got_eeg, got_markers), eeg

    (times, marker_times), (got_eeg, got_markers), eeg = asyncio.run(main())

    (info,) = eeg.streams
    assert (info.kind, info.channels, info.units) == (StreamKind.EEG, LABELS, ("uV",) * 4)
    assert info.nominal_rate == FS and info.device == f"eeg-{tag}"
    assert all(isinstance(c, Chunk) and c.samples.dtype == np.float64 for c in got_eeg)
    samples = np.concatenate([c.samples for c in got_eeg])
    stamps = np.concatenate([c.timestamps for c in got_eeg])
    np.testing.assert_allclose(samples, pushed, rtol=1e-6)  # float32 on the wire
    assert np.abs(stamps - times).max() < 1e-3  # clock sync on localhost: tens of µs
    assert [m.label for m in got_markers] == labels
    assert all(isinstance(m, Marker) for m in got_markers)
    assert np.abs(np.array([m.timestamp for m in got_markers]) - marker_times).max() < 1e-3
    assert eeg.state is SourceState.STOPPED and not _worker_threads(eeg)


def test_units_are_brought_to_microvolts_and_channels_default_to_ch1_chn() -> None:
    tag = _tag()
    out = _outlet(f"volts-{tag}", "eeg", 2, FS, pylsl.cf_double64)
    out_v = _outlet(f"v2-{tag}", "EEG", 2, FS, pylsl.cf_double64, labels=("a", "b"), unit="V")

    async def main() -> tuple[LslSource, LslSource, list]:
        plain, volts = LslSource(f"volts-{tag}"), LslSource(f"v2-{tag}")
        await asyncio.gather(asyncio.to_thread(plain.connect), asyncio.to_thread(volts.connect))
        out_v.push_chunk([[1e-6, -2e-6], [3e-6, 0.5]], [1.0, 1.0 + 1 / FS])
        return plain, volts, await _collect(volts, 2)

    plain, volts, items = asyncio.run(main())
    assert plain.streams[0].channels == ("ch1", "ch2") and plain.streams[0].units == ("uV",) * 2
    assert volts.streams[0].channels == ("a", "b") and volts.streams[0].units == ("uV",) * 2
    got = np.concatenate([c.samples for c in items])
    np.testing.assert_allclose(got, [[1.0, -2.0], [3.0, 5e5]])
    del out


def test_silence_on_a_regular_stream_is_reported_as_reconnecting() -> None:
    tag = _tag()
    out = _outlet(f"stall-{tag}", "ECG", 1, 250.0, pylsl.cf_float32)

    async def until(source: LslSource, state: SourceState) -> SourceState:
        while source.state is not state:
            await asyncio.sleep(0.02)
        return source.state

    async def main() -> list[SourceState]:
        source = LslSource(f"stall-{tag}", stall_s=0.3)
        await asyncio.to_thread(source.connect)
        received: list[Chunk | Marker] = []

        async def consume() -> None:
            async with aclosing(source.chunks()) as stream:
                async for item in stream:
                    received.append(item)

        task = asyncio.create_task(consume())
        async with asyncio.timeout(5.0):
            out.push_chunk([[1.0]] * 10)
            seen = [await until(source, SourceState.STREAMING)]
            seen.append(await until(source, SourceState.RECONNECTING))  # 0.3 s without data
            out.push_chunk([[2.0]] * 10)
            seen.append(await until(source, SourceState.STREAMING))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        seen.append(source.state)
        assert sum(len(c) for c in received if isinstance(c, Chunk)) == 20
        return seen

    assert asyncio.run(main()) == [
        SourceState.STREAMING,
        SourceState.RECONNECTING,
        SourceState.STREAMING,
        SourceState.STOPPED,
    ]


def test_cancelling_stops_the_worker_and_closes_the_inlet() -> None:
    tag = _tag()
    out = _outlet(f"cancel-{tag}", "HR", 1, 0.0, pylsl.cf_float32)

    async def main() -> LslSource:
        source = LslSource(f"cancel-{tag}")
        await asyncio.to_thread(source.connect)

        async def consume() -> None:
            async for _ in source.chunks():
                pass

        task = asyncio.create_task(consume())
        ticks = 0
        while not _worker_threads(source) or ticks < 5:  # the loop stays free meanwhile
            await asyncio.sleep(0.01)
            ticks += 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return source

    source = asyncio.run(main())
    assert source.state is SourceState.STOPPED and not _worker_threads(source)
    assert source.streams[0].kind is StreamKind.HR
    del out


def test_list_lsl_streams_finds_a_test_outlet() -> None:
    tag = _tag()
    out = _outlet(f"listed-{tag}", "PPG", 3, 64.0, pylsl.cf_int16, source_id=f"sid-{tag}")
    found = [s for s in list_lsl_streams(1.0) if s.name == f"listed-{tag}"]
    assert found == [
        LslStreamSummary(f"listed-{tag}", "PPG", 3, 64.0, "int16", f"sid-{tag}", found[0].hostname)
    ]
    assert found[0].to_dict()["channel_format"] == "int16" and found[0].hostname
    del out


def test_a_missing_stream_names_what_was_looked_for_and_what_exists() -> None:
    tag = _tag()
    out = _outlet(f"present-{tag}", "EEG", 4, FS, pylsl.cf_float32)
    source = LslSource(f"absent-{tag}", stream_type="EEG", timeout_s=0.5)
    with pytest.raises(DeviceError) as caught:
        source.connect()
    message = str(caught.value)
    assert f"name='absent-{tag}'" in message and "type='EEG'" in message
    assert "0.5 s" in message and f"present-{tag}" in message
    assert caught.value.device == source.name and source.state is SourceState.LOST
    del out


def test_an_unknown_lsl_type_is_refused_unless_a_kind_is_given() -> None:
    tag = _tag()
    out = _outlet(f"gaze-{tag}", "Gaze", 2, 60.0, pylsl.cf_float32)
    with pytest.raises(DeviceError, match="'Gaze' is not one of"):
        LslSource(f"gaze-{tag}").connect()
    source = LslSource(f"gaze-{tag}", kind=StreamKind.ACC)
    (info,) = source.connect()
    source.close()
    assert info.kind is StreamKind.ACC and info.name == f"gaze-{tag}/acc"
    del out


def test_an_unrecoverable_stream_that_vanishes_raises_device_error() -> None:
    """Without a source_id LSL cannot recover the stream: the source says lost and raises."""
    tag = _tag()
    outlets = [_outlet(f"vanish-{tag}", "EEG", 1, 100.0, pylsl.cf_float32, source_id="")]

    async def main() -> LslSource:
        source = LslSource(f"vanish-{tag}")
        await asyncio.to_thread(source.connect)
        outlets[0].push_chunk([[1.0]] * 5)
        with pytest.raises(DeviceError, match="lost"):
            async with asyncio.timeout(5.0), aclosing(source.chunks()) as stream:
                async for _ in stream:
                    outlets.clear()  # the outlet goes away
        return source

    source = asyncio.run(main())
    assert source.state is SourceState.LOST and not _worker_threads(source)
