"""Clocks: the host's monotonic clock, and a simulated clock for simulated devices.

Every timestamp in the system is host seconds on one monotonic clock. Real devices are stamped with
:class:`HostClock`. Simulated devices use :class:`SimulatedClock`, which starts at the host's
monotonic time and then advances as a discrete-event clock: time moves only when every registered
participant (each simulated device) is waiting for a later time, and it jumps to the earliest
wake-up. With ``speed=inf`` that runs as fast as the consumers allow; with a finite ``speed`` it
also waits the matching wall time (``speed=1`` is real time). The order of events, and so every
number computed from them, does not depend on the speed or on the machine's load.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from typing import Protocol

from addiction_index.errors import InputError

__all__ = ["Clock", "HostClock", "SimulatedClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Current time, host monotonic seconds."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once ``now() >= t``."""
        ...


class HostClock:
    """The host's monotonic clock (:func:`time.monotonic`)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, t: float) -> None:
        await asyncio.sleep(max(0.0, t - self.now()))

    def join(self) -> None:
        """Real time needs no participants (kept for one interface with the simulated clock)."""

    def leave(self) -> None:
        """See :meth:`join`."""


class SimulatedClock:
    """Discrete-event clock for simulated sources; see the module docstring.

    Participants call :meth:`join` before their first :meth:`sleep_until` and :meth:`leave` when
    they end. :meth:`run` is the driver task; it ends when :meth:`close` is called.
    """

    def __init__(self, speed: float = math.inf, origin: float | None = None) -> None:
        if not speed > 0:
            raise InputError("speed", speed, "a positive number (inf = as fast as possible)")
        self.speed = float(speed)
        # A whole second: simulated timestamps (origin + k / 256 s) are then exact binary
        # fractions, and a session's numbers do not depend on when it ran.
        self._origin = float(math.floor(time.monotonic())) if origin is None else float(origin)
        self._now = self._origin
        self._wall_origin = time.monotonic()
        self._participants = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def origin(self) -> float:
        return self._origin

    def now(self) -> float:
        return self._now

    def elapsed(self) -> float:
        """Simulated seconds since the origin."""
        return self._now - self._origin

    def join(self) -> None:
        self._participants += 1
        self._changed.set()

    def leave(self) -> None:
        self._participants -= 1
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    async def sleep_until(self, t: float) -> None:
        """Wait until simulated time ``t``. The caller must be a participant (:meth:`join`):
        time advances when every participant sleeps, so a sleeper that is not one can be
        woken late."""
        if t <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (t, next(self._seq), future))
        self._changed.set()
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    async def run(self) -> None:
        """Advance time whenever every participant is asleep; return after :meth:`close`."""
        while not self._closed:
            await self._changed.wait()
            self._changed.clear()
            self._sleepers = [s for s in self._sleepers if not s[2].done()]
            heapq.heapify(self._sleepers)
            if not self._sleepers or len(self._sleepers) < self._participants:
                continue
            t, _, future = heapq.heappop(self._sleepers)
            if math.isfinite(self.speed):
                wall_target = self._wall_origin + (t - self._origin) / self.speed
                delay = wall_target - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            self._now = max(self._now, t)
            if not future.done():  # its sleeper may have been cancelled meanwhile
                future.set_result(None)
            self._changed.set()
