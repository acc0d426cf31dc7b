"""Preallocated ring buffers, one per stream: no reallocation on the live path.

A ring holds the last ``capacity`` samples of a stream and their timestamps. Writing copies into
the preallocated arrays at a write index (at most two slice copies); reading the latest ``n``
samples copies into a caller-provided output array, so the live path allocates nothing per chunk.
"""

from __future__ import annotations

import numpy as np

from addiction_index.errors import InputError

__all__ = ["RingBuffer"]


class RingBuffer:
    """Fixed-capacity ring of ``(timestamp, samples[n_channels])`` rows (float64)."""

    def __init__(self, capacity: int, n_channels: int) -> None:
        if capacity < 1:
            raise InputError("capacity", capacity, "an integer >= 1")
        if n_channels < 1:
            raise InputError("n_channels", n_channels, "an integer >= 1")
        self.capacity = int(capacity)
        self.n_channels = int(n_channels)
        self._data = np.zeros((self.capacity, self.n_channels), dtype=np.float64)
        self._times = np.full(self.capacity, -np.inf, dtype=np.float64)
        self._written = 0  # total rows ever written

    @property
    def count(self) -> int:
        """Rows currently held (at most ``capacity``)."""
        return min(self._written, self.capacity)

    @property
    def total_written(self) -> int:
        return self._written

    @property
    def last_timestamp(self) -> float:
        if self._written == 0:
            return float("-inf")
        return float(self._times[(self._written - 1) % self.capacity])

    def write(self, timestamps: np.ndarray, samples: np.ndarray) -> None:
        """Append rows; when more than ``capacity`` arrive at once only the newest are kept."""
        n = samples.shape[0]
        if samples.ndim != 2 or samples.shape[1] != self.n_channels:
            raise InputError("samples", samples.shape, f"shape (n, {self.n_channels})")
        if timestamps.shape[0] != n:
            raise InputError("timestamps", timestamps.shape, f"shape ({n},)")
        if n == 0:
            return
        if n > self.capacity:
            skipped = n - self.capacity
            timestamps, samples = timestamps[skipped:], samples[skipped:]
            self._written += skipped
            n = self.capacity
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = samples[:first]
        self._times[start : start + first] = timestamps[:first]
        if first < n:
            self._data[: n - first] = samples[first:]
            self._times[: n - first] = timestamps[first:]
        self._written += n

    def latest(
        self, n: int, out: np.ndarray | None = None, times_out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Copy the newest ``n`` rows, oldest first, into ``out`` (n, n_ch) and ``times_out`` (n,).

        Raises :class:`InputError` when fewer than ``n`` rows are held.
        """
        if n > self.count:
            raise InputError("n", n, f"at most the {self.count} rows held")
        if out is None:
            out = np.empty((n, self.n_channels), dtype=np.float64)
        if times_out is None:
            times_out = np.empty(n, dtype=np.float64)
        end = self._written % self.capacity
        start = (end - n) % self.capacity
        if n == 0:
            return out, times_out
        if start < end:
            out[:] = self._data[start:end]
            times_out[:] = self._times[start:end]
        else:
            first = self.capacity - start
            out[:first] = self._data[start:]
            out[first:] = self._data[:end]
            times_out[:first] = self._times[start:]
            times_out[first:] = self._times[:end]
        return out, times_out

    def rows_until(self, t: float) -> int:
        """How many of the held rows have a timestamp <= ``t`` (binary search, no allocation).

        The held rows are at most two contiguous runs of the buffer (oldest first); each is
        searched with ``numpy.searchsorted`` on a view.
        """
        count, cap = self.count, self.capacity
        first = (self._written - count) % cap
        head = min(count, cap - first)  # rows from ``first`` to the end of the buffer
        if head and self._times[first + head - 1] > t:
            return int(np.searchsorted(self._times[first : first + head], t, side="right"))
        return head + int(np.searchsorted(self._times[: count - head], t, side="right"))

    def index_until(self, t: float) -> int:
        """Absolute index (rows ever written) one past the last held row stamped <= ``t``."""
        return self._written - self.count + self.rows_until(t)

    def window_until(
        self, t: float, n: int, out: np.ndarray | None = None, times_out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Copy the ``n`` rows that end with the last row stamped <= ``t``, oldest first.

        This is the window a hop at time ``t`` sees, however far the stream has run ahead.
        Raises :class:`InputError` when fewer than ``n`` such rows are held.
        """
        upto = self.rows_until(t)
        if n > upto:
            raise InputError("n", n, f"at most the {upto} rows held up to t={t:.3f} s")
        if out is None:
            out = np.empty((n, self.n_channels), dtype=np.float64)
        if times_out is None:
            times_out = np.empty(n, dtype=np.float64)
        cap = self.capacity
        start = (self._written - self.count + upto - n) % cap
        first = min(n, cap - start)
        out[:first] = self._data[start : start + first]
        times_out[:first] = self._times[start : start + first]
        if first < n:
            out[first:] = self._data[: n - first]
            times_out[first:] = self._times[: n - first]
        return out, times_out

    def since(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows with timestamp > ``t`` (a new array; for irregular, low-rate streams such as RR)."""
        data, times = self.latest(self.count - self.rows_until(t))
        return times, data
