"""The ring buffer keeps the newest rows in order, without reallocating, across wrap-arounds."""

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.signals import RingBuffer


def _rows(start: int, n: int, ch: int = 2) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(start, start + n, dtype=float)
    return t, np.column_stack([t * (c + 1) for c in range(ch)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_chunkings_give_the_newest_rows_in_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ring = RingBuffer(capacity=37, n_channels=2)
    buffer_id = id(ring._data)
    written = 0
    while written < 500:
        n = int(rng.integers(0, 60))
        t, x = _rows(written, n)
        ring.write(t, x)
        written += n
        held = min(written, 37)
        assert ring.count == held
        data, times = ring.latest(held)
        np.testing.assert_array_equal(times, np.arange(written - held, written, dtype=float))
        np.testing.assert_array_equal(data[:, 1], times * 2)
    assert id(ring._data) == buffer_id  # never reallocated


def test_latest_fills_the_callers_array() -> None:
    ring = RingBuffer(8, 2)
    ring.write(*_rows(0, 12))
    out, times_out = np.empty((5, 2)), np.empty(5)
    data, times = ring.latest(5, out=out, times_out=times_out)
    assert data is out and times is times_out
    np.testing.assert_array_equal(times, [7, 8, 9, 10, 11])


def test_since_returns_rows_after_a_time() -> None:
    ring = RingBuffer(10, 1)
    ring.write(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[10.0], [20.0], [30.0], [40.0]]))
    times, data = ring.since(2.0)
    np.testing.assert_array_equal(times, [3.0, 4.0])
    np.testing.assert_array_equal(data[:, 0], [30.0, 40.0])


def test_bad_shapes_name_the_argument() -> None:
    ring = RingBuffer(4, 2)
    with pytest.raises(InputError, match="samples"):
        ring.write(np.zeros(3), np.zeros((3, 3)))
    with pytest.raises(InputError, match="n=5"):
        ring.latest(5)
    with pytest.raises(InputError, match="capacity"):
        RingBuffer(0, 1)


def test_window_until_ends_at_the_requested_time_however_far_the_stream_ran() -> None:
    ring = RingBuffer(50, 2)
    t, x = _rows(0, 130)  # wraps around more than twice
    ring.write(t, x)
    data, times = ring.window_until(100.5, 10)
    np.testing.assert_array_equal(times, np.arange(91, 101, dtype=float))
    np.testing.assert_array_equal(data[:, 0], times)
    assert ring.rows_until(100.5) == 50 - (129 - 100)
    with pytest.raises(InputError):
        ring.window_until(85.0, 10)  # rows before 80 are gone
