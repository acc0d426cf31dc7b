"""Readers and collector edge cases found in review: bad RR values, lost skin contact, stopping."""

from __future__ import annotations

import asyncio

import numpy as np
from ble_capture import HEART_RATE_MEASUREMENT, encode_heart_rate

from addiction_index.devices import SourceState, load_profile
from addiction_index.devices._ble import BleCollector
from addiction_index.devices._ble_readers import readers_for
from addiction_index.signals import Chunk, HostClock, Marker


def _strap_reader():
    return readers_for(load_profile("hrm"), "hrm")[HEART_RATE_MEASUREMENT]


def test_an_rr_of_zero_is_dropped_not_passed_on() -> None:
    reader = _strap_reader()
    out = reader.read(encode_heart_rate(70, [0, 860]), 1.0)
    rr = [c for c in out if isinstance(c, Chunk) and c.stream.kind == "rr"]
    assert [round(v, 3) for v in rr[0].samples[:, 0]] == [round(860 / 1.024, 3)]


def test_lost_skin_contact_is_a_gap_and_later_beats_keep_their_time() -> None:
    reader = _strap_reader()
    beats = 0.5 + np.arange(1, 301, dtype=float)  # one beat a second
    lost = (beats >= 100) & (beats < 110)  # no contact: the strap sends no RR for these
    stamped, true, markers, done = [], [], [], 0
    for second in range(1, 300):
        upto = int(np.searchsorted(beats, second, side="right"))
        keep = [i for i in range(done, upto) if not lost[i]]
        done = upto
        payload = encode_heart_rate(60, [1024] * len(keep), contact=not 100 <= second < 110)
        for item in reader.read(payload, second + 0.01):
            if isinstance(item, Marker):
                markers.append(item)
            elif item.stream.kind == "rr":
                stamped += item.timestamps.tolist()
                true += beats[keep].tolist()
    error = np.array(stamped) - np.array(true)
    assert [m.label for m in markers] == ["gap"] and abs(markers[0].value - 10.0) < 1.5
    assert np.ptp(error[100:]) < 0.05 and abs(error[100:].mean() - error[:90].mean()) < 0.05


class _BleakLike:
    """Like bleak: the disconnect callback fires on every disconnection, ours included."""

    def __init__(self) -> None:
        self.connects, self.connected, self.handlers, self.callback = 0, False, {}, None

    async def connect(self, on_disconnect) -> None:
        self.callback, self.connected = on_disconnect, True
        self.connects += 1

    async def start_notify(self, characteristic, handler) -> None:
        self.handlers[characteristic] = handler

    async def write(self, characteristic, data) -> None:
        pass

    async def disconnect(self) -> None:
        if self.connected:
            self.connected = False
            self.callback()


def test_a_stopped_collector_does_not_reconnect() -> None:
    async def run() -> tuple[BleCollector, _BleakLike]:
        transport = _BleakLike()
        collector = BleCollector(load_profile("muse-2"), transport, clock=HostClock())

        async def consume() -> None:
            async for _ in collector.chunks():
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0.6)  # longer than the first backoff step
        return collector, transport

    collector, transport = asyncio.run(run())
    assert collector.state is SourceState.STOPPED
    assert transport.connects == 1 and not transport.connected
