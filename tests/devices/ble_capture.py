"""The hardware seam's stand-in: BLE notifications in the devices' real byte formats, played with
real timing on the simulated clock, with the link dropping and coming back.

The bytes come from real recordings where the shared public data is present (a real Muse EEG
recording encoded into Muse notifications; a real RR series into Heart Rate Measurement
notifications). The encoders are checked byte-exact against real captured packets in
``test_ble_collector.py``, so what the collector reads is what the devices send.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from addiction_index.errors import DeviceError
from addiction_index.signals import SimulatedClock

MUSE_EEG = (
    "273e0003-4c4d-454d-96be-f03bac821358",
    "273e0004-4c4d-454d-96be-f03bac821358",
    "273e0005-4c4d-454d-96be-f03bac821358",
    "273e0006-4c4d-454d-96be-f03bac821358",
)
HEART_RATE_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"


def encode_muse_eeg(sequence: int, raw: np.ndarray) -> bytes:
    """Muse EEG notification: uint16 big-endian counter + 12 samples of 12 bits, big-endian."""
    raw = np.asarray(raw, dtype=np.int64)
    a, b = raw[0::2], raw[1::2]
    packed = np.column_stack([a >> 4, ((a & 0xF) << 4) | (b >> 8), b & 0xFF]).astype(np.uint8)
    return struct.pack(">H", sequence % 65536) + packed.tobytes()


def encode_heart_rate(bpm: int, rr_ticks: list[int], contact: bool = True) -> bytes:
    """Heart Rate Measurement 0x2A37: uint8 HR, contact supported (+ detected), RR in 1/1024 s."""
    flags = 0x04 | (0x02 if contact else 0) | (0x10 if rr_ticks else 0)
    return bytes([flags, bpm]) + b"".join(struct.pack("<H", t) for t in rr_ticks)


@dataclass
class Capture:
    """Notifications as (seconds from start, characteristic, bytes), in time order."""

    notifications: list[tuple[float, str, bytes]] = field(default_factory=list)

    def sorted(self) -> Capture:
        return Capture(sorted(self.notifications, key=lambda n: n[0]))


def muse_capture(eeg_uv: np.ndarray, jitter: np.random.Generator) -> Capture:
    """A Muse session: per 12 samples one notification per electrode, 1-3 connection events late."""
    raw = np.clip(np.round(eeg_uv / 0.48828125 + 2048), 0, 4095).astype(np.int64)
    cap = Capture()
    for k in range(raw.shape[0] // 12):
        t = (k + 1) * 12 / 256 + 0.0075 * jitter.integers(1, 4)
        for ch, uuid in enumerate(MUSE_EEG):
            cap.notifications.append(
                (t + 0.0001 * ch, uuid, encode_muse_eeg(k, raw[k * 12 : (k + 1) * 12, ch]))
            )
    return cap


def strap_capture(rr_ms: np.ndarray, jitter: np.random.Generator) -> tuple[Capture, np.ndarray]:
    """A strap session: one notification a second with the RR of the beats completed since the
    last one. Returns the capture and the true beat times (s)."""
    beats = 0.4 + np.cumsum(rr_ms) / 1000.0
    ticks = np.round(rr_ms * 1.024).astype(int)
    cap, done = Capture(), 0
    for second in range(1, int(beats[-1])):
        upto = int(np.searchsorted(beats, second, side="right"))
        rr = [int(t) for t in ticks[done:upto]]
        bpm = round(60000 / rr_ms[upto - 1]) if upto else 0
        cap.notifications.append(
            (
                second + 0.0075 * jitter.integers(1, 4),
                HEART_RATE_MEASUREMENT,
                encode_heart_rate(bpm, rr),
            )
        )
        done = upto
    return cap, beats


class FakeBleTransport:
    """Plays a capture on a simulated clock; the link is down during ``drops`` (s from start)."""

    def __init__(self, capture: Capture, clock: SimulatedClock, drops: list[tuple[float, float]]):
        self.capture, self.clock, self.drops = capture.sorted(), clock, drops
        self.origin = clock.origin
        self.handlers: dict[str, Callable[[bytes], None]] = {}
        self.writes: list[tuple[str, bytes]] = []
        self.connects = 0
        self.finished = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._next = 0

    def _down(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.drops)

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        now = self.clock.now() - self.origin
        if self._down(now):
            raise DeviceError("fake-radio", f"device out of range at {now:.1f} s")
        self.connects += 1
        notes = self.capture.notifications
        while self._next < len(notes) and notes[self._next][0] < now:
            self._next += 1  # sent while the link was down: lost, as over the air
        self.clock.join()
        self._task = asyncio.create_task(self._play(on_disconnect))

    async def _play(self, on_disconnect: Callable[[], None]) -> None:
        try:
            notes = self.capture.notifications
            while self._next < len(notes):
                t, uuid, data = notes[self._next]
                await self.clock.sleep_until(self.origin + t)
                self._next += 1
                if self._down(t):
                    # Skip what the radio missed while the link is down, then report the drop.
                    while self._next < len(notes) and self._down(notes[self._next][0]):
                        self._next += 1
                    on_disconnect()
                    return
                if uuid in self.handlers:
                    self.handlers[uuid](data)
            self.finished.set()
        finally:
            self.clock.leave()

    async def start_notify(self, characteristic: str, handler: Callable[[bytes], None]) -> None:
        self.handlers[characteristic] = handler

    async def write(self, characteristic: str, data: bytes) -> None:
        self.writes.append((characteristic, data))

    async def disconnect(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
