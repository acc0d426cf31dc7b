"""Bluetooth LE collectors: one device, its profile, a transport; a :class:`Source` for the runner.

The collector connects, subscribes to every stream's characteristic, writes the profile's start
commands and streams. Notification handlers only timestamp the bytes and put them on a queue; the
consumer decodes them with the profile's decoders, counts and logs malformed packets (no personal
data) and goes on, turns device counters into positions and positions into dejittered host time
(:class:`~addiction_index.signals.dejitter.StreamClock`, one per stream). When the link drops the
state becomes ``reconnecting`` and the collector reconnects with exponential backoff; the gap is
yielded as a ``gap`` marker with its length in seconds and samples, so time never silently
shifts. After ``give_up_s`` without a connection the state becomes ``lost`` and the source ends.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from addiction_index.devices._ble_readers import CharacteristicReader, readers_for
from addiction_index.devices._ble_transport import BleTransport
from addiction_index.devices._profiles import DeviceProfile
from addiction_index.devices._source import SourceState
from addiction_index.errors import DecodeError, DeviceError
from addiction_index.signals.clock import Clock, HostClock
from addiction_index.signals.streams import Chunk, Marker

__all__ = ["BleCollector", "CollectorStats"]

log = logging.getLogger(__name__)

_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
_ADAPTER_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _adapter_lock() -> asyncio.Lock:
    """One lock per event loop around connect-and-subscribe: adapters (BlueZ in particular)
    handle one connection attempt at a time; the devices then stream side by side."""
    loop = asyncio.get_running_loop()
    lock = _ADAPTER_LOCKS.get(loop)
    if lock is None:
        lock = _ADAPTER_LOCKS[loop] = asyncio.Lock()
    return lock


@dataclass
class CollectorStats:
    """Counters shown to the user and stored with the session."""

    packets: int = 0
    malformed: int = 0
    lost_packets: int = 0
    reconnects: int = 0
    gaps: list[dict[str, float]] = field(default_factory=list)


class BleCollector:
    """A :class:`~addiction_index.devices.Source` for one Bluetooth LE wearable."""

    def __init__(
        self,
        profile: DeviceProfile,
        transport: BleTransport,
        *,
        clock: Clock | None = None,
        give_up_s: float = 120.0,
        backoff_s: tuple[float, ...] = _BACKOFF_S,
        name: str | None = None,
    ) -> None:
        self.profile = profile
        self.name = name or profile.id
        self.transport = transport
        self.clock = clock or HostClock()
        self.give_up_s = give_up_s
        self.backoff_s = backoff_s
        self.readers: dict[str, CharacteristicReader] = readers_for(profile, self.name)
        self.streams = tuple(s for r in self.readers.values() for s in r.streams)
        self.state = SourceState.IDLE
        self.stats = CollectorStats()
        # (characteristic, arrival, bytes) or ("event", what, time), in the order they happened
        self._queue: asyncio.Queue[tuple] = asyncio.Queue()
        self._reconnecting: asyncio.Task | None = None
        self._closing = False
        self._on_state: list[Callable[[SourceState], None]] = []

    def on_state(self, callback: Callable[[SourceState], None]) -> None:
        """Call ``callback(state)`` on every change of state (for the live view)."""
        self._on_state.append(callback)

    def _set_state(self, state: SourceState) -> None:
        if state is not self.state:
            self.state = state
            for callback in self._on_state:
                callback(state)

    # -- the radio side: only enqueue ------------------------------------------------------------
    def _handler(self, characteristic: str) -> Callable[[bytes], None]:
        queue, clock = self._queue, self.clock

        def enqueue(data: bytes) -> None:
            queue.put_nowait((characteristic, clock.now(), data))

        return enqueue

    def _disconnected(self) -> None:
        if self._closing:  # our own disconnect at the end: nothing to reconnect
            return
        """The link dropped: note it in order with the data and start reconnecting at once.

        Reconnection runs in its own task, so it starts when the link drops, however far
        behind the consumer of the packets is.
        """
        dropped = self.clock.now()
        self._queue.put_nowait(("event", "device_disconnected", dropped))
        self._set_state(SourceState.RECONNECTING)
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect_after(dropped))

    async def _reconnect_after(self, dropped: float) -> None:
        if await self._reconnect(dropped):
            self.stats.reconnects += 1
            self._set_state(SourceState.STREAMING)
            self._queue.put_nowait(("event", "device_reconnected", self.clock.now()))
        else:
            self._set_state(SourceState.LOST)
            self._queue.put_nowait(("event", "device_lost", self.clock.now()))

    async def _connect(self) -> None:
        # Packets after this point follow a gap of unknown length: tell the readers, in order.
        self._queue.put_nowait(("event", "resync", self.clock.now()))
        async with _adapter_lock():
            await self.transport.connect(self._disconnected)
            for characteristic in self.readers:
                await self.transport.start_notify(characteristic, self._handler(characteristic))
        for command in self.profile.commands.start:
            await self.transport.write(command.characteristic, bytes.fromhex(command.hex))

    async def _reconnect(self, since: float) -> bool:
        """Try to connect with backoff until ``give_up_s`` after ``since``; True on success."""
        attempt = 0
        while self.clock.now() - since < self.give_up_s:
            try:
                await self._connect()
                return True
            except DeviceError as exc:
                delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
                log.warning(
                    "%s: connection attempt %d failed (%s); retrying in %.1f s",
                    self.name,
                    attempt + 1,
                    exc,
                    delay,
                )
                attempt += 1
                await self._backoff(delay)
        return False

    async def _backoff(self, delay: float) -> None:
        """Wait ``delay`` s; on a simulated clock, as a participant, so that time does not run
        past the other devices while this one waits."""
        join, leave = getattr(self.clock, "join", None), getattr(self.clock, "leave", None)
        if join:
            join()
        try:
            await self.clock.sleep_until(self.clock.now() + delay)
        finally:
            if leave:
                leave()

    # -- the consumer ----------------------------------------------------------------------------
    async def chunks(self) -> AsyncIterator[Chunk | Marker]:
        self._set_state(SourceState.CONNECTING)
        try:
            if not await self._reconnect(self.clock.now()):
                self._set_state(SourceState.LOST)
                raise DeviceError(self.name, f"no connection within {self.give_up_s:.0f} s")
            self._set_state(SourceState.STREAMING)
            while True:
                item = await self._queue.get()
                if item[0] != "event":
                    for out in self._decode(*item):
                        yield out
                    continue
                _, what, t = item
                if what == "resync":
                    for reader in self.readers.values():
                        reader.expect_gap()
                    continue
                yield Marker(t, what, meta={"device": self.name})
                if what == "device_lost":
                    return
        finally:
            self._closing = True
            if self._reconnecting is not None and not self._reconnecting.done():
                self._reconnecting.cancel()
                await asyncio.gather(self._reconnecting, return_exceptions=True)
            if self.state is not SourceState.LOST:
                self._set_state(SourceState.STOPPED)
            await self.transport.disconnect()

    def _decode(self, characteristic: str, arrival: float, payload: bytes) -> list[Chunk | Marker]:
        reader = self.readers[characteristic]
        self.stats.packets += 1
        try:
            out = reader.read(payload, arrival)
        except DecodeError as exc:
            self.stats.malformed += 1
            log.warning("%s: malformed packet %d skipped: %s", self.name, self.stats.packets, exc)
            return []
        for item in out:
            if isinstance(item, Marker) and item.label == "gap":
                self.stats.lost_packets += int(item.meta.get("lost_packets", 0))
                self.stats.gaps.append({"t": item.timestamp, "seconds": float(item.value or 0)})
        return out
