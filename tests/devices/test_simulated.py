"""Simulated wearables emit chunks at the real devices' packet cadence on the simulated clock."""

import asyncio

import numpy as np

from addiction_index.devices import (
    ResidentParams,
    SimulatedHeadband,
    SimulatedResident,
    SimulatedStrap,
    Source,
    SourceState,
    load_profile,
)
from addiction_index.signals import SimulatedClock, StreamKind


async def _collect(seconds: float) -> tuple[list, list]:
    clock = SimulatedClock()
    resident = SimulatedResident(ResidentParams.draw(6, 30))
    resident.timeline.set([(0.0, 1e6, "baseline")])
    sources = [
        SimulatedHeadband(load_profile("muse-2"), resident, clock),
        SimulatedStrap(load_profile("hrm"), resident, clock),
    ]
    assert all(isinstance(s, Source) for s in sources)
    chunks: list = []

    async def pump(source):
        async for chunk in source.chunks():
            chunks.append(chunk)

    clock.join()
    tasks = [asyncio.create_task(pump(s)) for s in sources]
    driver = asyncio.create_task(clock.run())
    await asyncio.sleep(0)
    clock.leave()
    while clock.elapsed() < seconds:
        await asyncio.sleep(0)
    states = [s.state for s in sources]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    clock.close()
    await driver
    assert all(s.state is SourceState.STOPPED for s in sources)
    return chunks, states


def test_packet_cadence_and_timestamps() -> None:
    chunks, states = asyncio.run(_collect(20.0))
    assert states == [SourceState.STREAMING, SourceState.STREAMING]
    eeg = [c for c in chunks if c.stream.kind is StreamKind.EEG]
    assert {len(c) for c in eeg} == {12}  # Muse: 12 samples per notification (EVIDENCE 7.1)
    t = np.concatenate([c.timestamps for c in eeg])
    np.testing.assert_allclose(np.diff(t), 1 / 256, rtol=0, atol=1e-9)  # no gaps, no overlaps
    hr = [c for c in chunks if c.stream.kind is StreamKind.HR]
    np.testing.assert_allclose(np.diff([c.timestamps[0] for c in hr]), 1.0, atol=1e-9)
    rr = [c for c in chunks if c.stream.kind is StreamKind.RR]
    beats = np.concatenate([c.timestamps for c in rr])
    rr_ms = np.concatenate([c.samples[:, 0] for c in rr])
    # Each beat's time is the previous beat's time plus its RR interval.
    np.testing.assert_allclose(np.diff(beats) * 1000.0, rr_ms[1:], atol=1e-6)
    assert 40 < 60000 / rr_ms.mean() < 110
