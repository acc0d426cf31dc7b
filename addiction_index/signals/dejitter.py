"""One clock per stream: device positions and packet arrival times to dejittered host time.

Bluetooth delivers packets late by a positive, bursty delay (connection events every 7.5-30 ms,
retries, stalls), and a heart-rate strap sends the RR intervals of its beats once a second, up to
a second after the beats. The device's own count of samples (or sum of RR intervals) is regular
but runs on the device's crystal, tens of ppm off the host's clock (0.1 s in 30 min at 50 ppm).
Because every delay is positive, the true times lie along the *lower envelope* of the arrival
times (the idea behind one-way clock-skew estimation, Moon, Skelly & Towsley 1999,
doi:10.1109/INFCOM.1999.752173). :class:`StreamClock`:

* keeps, for every minute of arrivals, the least-delayed packet (relative to the nominal rate);
* fits a least-squares line through those minima of the last 30 minutes: its slope follows the
  device's crystal, its level sits a few ms above the least delay (a near-constant bias, no drift);
* stamps position ``x`` at ``offset + period · (x − x0)``.

Until two minutes have passed, the nominal rate and the lowest arrival so far are used. ``x`` is
the sample index for a regularly sampled stream, the cumulative RR time (s) for beats. LSL's
dejitter regresses on every arrival instead (the mean delay); fitting minima removes the mean
delivery delay, the part that differs between a headband and a strap.

Gaps: when a counter skips (lost packets) the position jumps with it, so time does not shift;
after a reconnection the counter restarts and :meth:`StreamClock.resync` gives the position from
the arrival time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from addiction_index.errors import InputError

__all__ = ["ClockFit", "StreamClock"]

BIN_S = 60.0  # one least-delayed point per minute of arrivals
WINDOW_S = 1800.0  # line through the last 30 minutes of minima
_MAX_SKEW = 1e-3  # a crystal is within a few hundred ppm; beyond that the fit is not a clock


@dataclass(frozen=True, slots=True)
class ClockFit:
    """Current mapping: host time = ``offset + period · (x − x0)``."""

    offset: float
    period: float
    x0: float
    updates: int


class StreamClock:
    """Dejitters one stream; ``nominal_period`` is host seconds per position unit (1/rate)."""

    def __init__(self, nominal_period: float) -> None:
        if not nominal_period > 0:
            raise InputError("nominal_period", nominal_period, "a period > 0 s")
        self.nominal_period = float(nominal_period)
        self.period = float(nominal_period)
        self._x0: float | None = None
        self._y0 = 0.0
        self._offset = 0.0  # relative to y0, at relative position 0
        self._points: deque[tuple[float, float]] = deque()  # per-bin least-delayed (x, y)
        self._bin: tuple[float, float] | None = None
        self._bin_start = 0.0
        self._line_ready = False
        self.updates = 0

    @property
    def started(self) -> bool:
        return self._x0 is not None

    def update(self, x: float, arrival: float) -> None:
        """Add one packet: position ``x`` of its last sample, host ``arrival`` time (s)."""
        if self._x0 is None:
            self._x0, self._y0, self._bin_start = float(x), float(arrival), float(arrival)
        point = (float(x) - self._x0, float(arrival) - self._y0)
        if arrival - self._bin_start >= BIN_S and self._bin is not None:
            self._points.append(self._bin)
            while self._points and point[1] - self._points[0][1] > WINDOW_S:
                self._points.popleft()
            self._bin, self._bin_start = None, float(arrival)
            self._fit_line()
        if self._bin is None or self._residual(point) < self._residual(self._bin):
            self._bin = point
        if not self._line_ready:  # nominal rate, lowest arrival so far
            self._offset = (
                min(self._offset, self._residual(point))
                if self.updates
                else (self._residual(point))
            )
        self.updates += 1

    def _residual(self, point: tuple[float, float]) -> float:
        return point[1] - self.nominal_period * point[0]

    def _fit_line(self) -> None:
        if len(self._points) < 2:
            return
        xs = np.array([p[0] for p in self._points])
        ys = np.array([p[1] for p in self._points])
        slope, intercept = np.polyfit(xs, ys, 1)
        if abs(slope / self.nominal_period - 1.0) < _MAX_SKEW:
            self.period, self._offset = float(slope), float(intercept)
            self._line_ready = True

    def time_of(self, x: float | np.ndarray) -> float | np.ndarray:
        """Host time (s) of position ``x`` (a sample index, or RR seconds)."""
        if self._x0 is None:
            raise InputError("x", x, "a position after the first update")
        return self._y0 + self._offset + self.period * (np.asarray(x, dtype=float) - self._x0)

    def position_at(self, host_time: float) -> float:
        """The position the fit expects at ``host_time``."""
        if self._x0 is None:
            raise InputError("host_time", host_time, "a time after the first update")
        return self._x0 + (host_time - self._y0 - self._offset) / self.period

    def resync(self, arrival: float, n_in_packet: int) -> float:
        """First position of a packet that arrives after a gap of unknown length (reconnection).

        The position the fit expects at ``arrival`` minus the packet's length, in whole samples.
        """
        return float(math.floor(self.position_at(arrival) - n_in_packet + 1 + 0.5))

    @property
    def fit(self) -> ClockFit:
        return ClockFit(self._y0 + self._offset, self.period, self._x0 or 0.0, self.updates)
