"""A whole session fed through LSL: simulated data replayed faster than real time, no mocks.

A reference session runs the simulated wearables on the simulated clock and records every raw
chunk. The chunks are then published by :class:`LslPublisher` from a background thread (about
40 x real time, in time order, with their recorded timestamps) and read back by three
:class:`LslSource` inlets feeding a second runner whose session starts at the recording's origin.
Both sessions must produce the same hops, markers and scores.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from addiction_index.devices import (
    ResidentParams,
    SimulatedHeadband,
    SimulatedResident,
    SimulatedStrap,
    load_profile,
)
from addiction_index.devices._lsl import LslSource
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.sessions import HopRecord, SessionOutcome, SessionRunner, load_protocol
from addiction_index.sessions._lsl_outlets import LslPublisher
from addiction_index.signals.clock import SimulatedClock
from addiction_index.signals.streams import Chunk, Marker

PROTOCOL = """\
name: lsl-replay
version: "1.0"
description: "Three 45 s blocks for the LSL replay test."
blocks:
  - {id: baseline, role: baseline, duration_s: 45}
  - {id: neutral, role: neutral, duration_s: 45, cues: {set: neutral, seconds_per_cue: 15}}
  - {id: drug, role: drug, duration_s: 45, cues: {set: drug, seconds_per_cue: 15}}
"""
SPEED = 40.0  # x real time


class _Recorder:
    """Sink keeping raw chunks, hops and markers."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.hops: list[HopRecord] = []
        self.markers: list[Marker] = []

    def on_chunk(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)

    def on_hop(self, hop: HopRecord) -> None:
        self.hops.append(hop)

    def on_marker(self, marker: Marker) -> None:
        self.markers.append(marker)

    def flush(self) -> None:
        pass


class _ReplayClock:
    """The replayed session starts at the recording's origin; after that, time is the data's."""

    def __init__(self, origin: float) -> None:
        self.origin = origin

    def now(self) -> float:
        return self.origin

    async def sleep_until(self, t: float) -> None:
        await asyncio.sleep(0)


def _reference(protocol_path: Path) -> tuple[SessionOutcome, _Recorder, list, float]:
    resident = SimulatedResident(ResidentParams.draw(5, 60.0))
    clock = SimulatedClock()
    sources = [
        SimulatedHeadband(load_profile("muse-2"), resident, clock),
        SimulatedStrap(load_profile("hrm"), resident, clock),
    ]

    def show_cues(schedule: list) -> None:
        origin = schedule[0].start
        resident.timeline.set(
            [(b.start - origin, b.end - origin, str(b.block.role)) for b in schedule]
        )

    recorder = _Recorder()
    runner = SessionRunner(
        load_protocol(protocol_path),
        sources,
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=clock,
        sinks=[recorder],
        presenters=[show_cues],
    )
    outcome = asyncio.run(runner.run())
    return outcome, recorder, runner.stream_infos, clock.origin


def _replay(publisher: LslPublisher, chunks: list[Chunk], stop: threading.Event) -> None:
    """Push the chunks in time order, SPEED times faster than they were recorded.

    The recording may stop exactly at the protocol's end, and LSL's clock-sync estimate can put
    that last sample some µs earlier: as real devices do, keep streaming a little past the end
    (one more packet per regular or HR stream) so that the replayed session reaches its end.
    """
    tail = []
    for stream in {c.stream for c in chunks if c.stream.regular or c.stream.kind == "hr"}:
        last = max((c for c in chunks if c.stream == stream), key=lambda c: c.end)
        step = len(last) / stream.nominal_rate if stream.regular else 1.0
        tail.append(Chunk(stream, last.timestamps + step, last.samples))
    ordered = sorted([*chunks, *tail], key=lambda c: c.end)
    first, wall0 = ordered[0].end, time.monotonic()
    for chunk in ordered:
        delay = wall0 + (chunk.end - first) / SPEED - time.monotonic()
        if stop.wait(max(0.0, delay)):
            return
        publisher.on_chunk(chunk)


@pytest.mark.slow
def test_a_session_fed_through_lsl_matches_the_session_it_replays(tmp_path: Path) -> None:
    protocol_path = tmp_path / "lsl-replay.yaml"
    protocol_path.write_text(PROTOCOL)
    reference, recorded, streams, origin = _reference(protocol_path)
    assert reference.completed and len(recorded.hops) > 400

    async def live() -> tuple[SessionOutcome, _Recorder]:
        recorder = _Recorder()
        with LslPublisher(f"test-{uuid.uuid4().hex[:12]}") as publisher:
            publisher.open(streams)
            sources = [LslSource(source_id=publisher.source_id(s.name)) for s in streams]
            await asyncio.gather(*(asyncio.to_thread(s.connect) for s in sources))
            runner = SessionRunner(
                load_protocol(protocol_path),
                sources,
                definition=load_model_definition(),
                spec=load_feature_spec(),
                clock=_ReplayClock(origin),
                sinks=[recorder],
            )
            stop = threading.Event()
            pusher = threading.Thread(target=_replay, args=(publisher, recorded.chunks, stop))
            pusher.start()
            try:
                async with asyncio.timeout(90.0):
                    outcome = await runner.run()
            finally:
                stop.set()
                pusher.join()
        return outcome, recorder

    outcome, replayed = asyncio.run(live())

    assert outcome.completed and outcome.hops == reference.hops
    assert [h.t for h in replayed.hops] == [h.t for h in recorded.hops]
    assert [(m.timestamp, m.label, m.block) for m in replayed.markers] == [
        (m.timestamp, m.label, m.block) for m in recorded.markers
    ]
    # Samples cross LSL as double64 (exact); timestamps within the clock-sync estimate (< 1 ms).
    end = origin + 135.0
    for stream in streams:
        sent = [c for c in recorded.chunks if c.stream == stream]
        got = [c for c in replayed.chunks if c.stream.device == stream.name]
        t_sent = np.concatenate([c.timestamps for c in sent])
        x_sent = np.concatenate([c.samples for c in sent])[t_sent <= end]
        t_sent = t_sent[t_sent <= end]
        t_got = np.concatenate([c.timestamps for c in got])[: t_sent.size]
        x_got = np.concatenate([c.samples for c in got])[: t_sent.size]
        assert t_got.size == t_sent.size and np.abs(t_got - t_sent).max() < 1e-3
        np.testing.assert_array_equal(x_got, x_sent)
    # Same windows, so the same features and scores (a window can move by one sample only if
    # the clock-sync estimate shifts a sample across a hop boundary; allow for that).
    names = sorted(recorded.hops[-1].features)
    a = np.array([[h.features.get(k, math.nan) for k in names] for h in recorded.hops])
    b = np.array([[h.features.get(k, math.nan) for k in names] for h in replayed.hops])
    same = np.all(np.isclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True), axis=1)
    # A one-sample shift can move a blink across a window edge (large changes), so count hops:
    # all but a few must be identical to rounding.
    assert same.mean() >= 0.95, f"{(~same).sum()} of {same.size} hops differ"
    assert outcome.index.status == reference.index.status
    if reference.index.value is not None:
        assert abs(outcome.index.value - reference.index.value) < 2.0
