"""``segment_power`` against ``numpy.fft.rfft`` (radix-4/2 FFT, real unpack, DFT fallback)."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from addiction_index.features._fft import FftTables, segment_power

SIZES = [4, 8, 16, 64, 256, 512, 250]


def _pink(rng: np.random.Generator, n: int, n_ch: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal((n, n_ch)), axis=0)
    f = np.fft.rfftfreq(n)
    spectrum[0] = 0.0
    spectrum[1:] /= np.sqrt(f[1:, None])
    return np.fft.irfft(spectrum, n, axis=0) * 10.0


def _signal(kind: str, n: int, n_ch: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "pink":
        x = _pink(rng, n, n_ch)
    elif kind == "white":
        x = rng.standard_normal((n, n_ch))
    else:  # slow drift plus noise
        x = rng.standard_normal((n, n_ch)).cumsum(axis=0) * 0.1 + rng.standard_normal((n, n_ch))
    return np.ascontiguousarray(x + 500.0)  # a Muse-like DC offset (µV)


def _reference(seg: np.ndarray, hann: np.ndarray) -> np.ndarray:
    """numpy's rfft of the windowed, mean-removed segment, the mean removed in extended precision
    (a float64 mean carries ulp(500) of rounding, which alone shifts bins 0-1 by ~1e-12)."""
    wide = seg.astype(np.longdouble)
    centred = (wide - wide.mean(axis=0)).astype(np.float64)
    return (np.abs(np.fft.rfft(hann[:, None] * centred, axis=0)) ** 2).T


def _check(out: np.ndarray, ref: np.ndarray) -> None:
    peak = ref.max(axis=1, keepdims=True)
    err = np.abs(out - ref)
    assert np.all(err <= 1e-12 * peak)
    strong = ref > 1e-6 * peak
    assert np.all(err[strong] <= 1e-9 * ref[strong])


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("n_ch", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("kind", ["pink", "white", "drift"])
def test_matches_numpy_rfft(n: int, n_ch: int, kind: str) -> None:
    tables = FftTables.build(n)
    zr, zi = tables.scratch()
    for seed in range(3):
        x = _signal(kind, 3 * n + 5, n_ch, seed + 100 * n + 10 * n_ch)
        out = np.zeros((n_ch, tables.n_bins))
        for start in (0, 3, 2 * n + 5):
            t = tables
            segment_power(x, start, t.hann, t.bitrev, t.tw, t.post, t.dft, zr, zi, out)
            _check(out, _reference(x[start : start + n], t.hann))


@pytest.mark.parametrize("n", SIZES)
def test_close_to_plain_numpy(n: int) -> None:
    """Also within rounding of the naive float64 ``rfft(hann * (x - x.mean()))``."""
    tables = FftTables.build(n)
    zr, zi = tables.scratch()
    x = _signal("pink", n, 4, 7)
    out = np.zeros((4, tables.n_bins))
    t = tables
    segment_power(x, 0, t.hann, t.bitrev, t.tw, t.post, t.dft, zr, zi, out)
    ref = (np.abs(np.fft.rfft(t.hann[:, None] * (x - x.mean(axis=0)), axis=0)) ** 2).T
    assert np.all(np.abs(out - ref) <= 1e-11 * ref.max(axis=1, keepdims=True))


@pytest.mark.parametrize("n", SIZES)
def test_reads_only_the_segment_and_writes_only_out(n: int) -> None:
    tables = FftTables.build(n)
    n_ch = 4
    x = _signal("pink", n, n_ch, 3)
    padded = np.full((n + 6, n_ch), np.nan)
    padded[3 : 3 + n] = x
    zr, zi = tables.scratch()
    big = np.full((n_ch + 2, tables.n_bins + 2), -7.0)
    out = big[1:-1, 1:-1]
    t = tables
    segment_power(padded, 3, t.hann, t.bitrev, t.tw, t.post, t.dft, zr, zi, out)
    assert np.all(np.isfinite(out))
    _check(out, _reference(x, t.hann))
    border = big.copy()
    border[1:-1, 1:-1] = -7.0
    assert np.all(border == -7.0)


def test_constant_segment_has_no_power() -> None:
    tables = FftTables.build(256)
    zr, zi = tables.scratch()
    x = np.full((256, 2), 512.25)
    out = np.ones((2, tables.n_bins))
    t = tables
    segment_power(x, 0, t.hann, t.bitrev, t.tw, t.post, t.dft, zr, zi, out)
    assert np.all(out == 0.0)


@numba.njit(cache=False)
def _from_packed(x, start, ftab, itab, out, work):
    """As ``_eeg_hop.hop_row`` passes the tables: slices of packed arrays."""
    n = itab[0]
    half = n // 2
    hann = ftab[itab[1] : itab[1] + n]
    bitrev = itab[itab[2] : itab[2] + half]
    tw = ftab[itab[3] : itab[4]].reshape((-1, 2))
    post = ftab[itab[4] : itab[5]].reshape((-1, 2))
    dft = ftab[itab[5] : itab[5]].reshape((0, 0))
    segment_power(x, start, hann, bitrev, tw, post, dft, work[:half], work[half:n], out)


@pytest.mark.parametrize("n", [4, 8, 16, 256])
def test_callable_from_njit_with_packed_tables(n: int) -> None:
    t = FftTables.build(n)
    assert t.tw.size > 0 and t.tw.shape[1] == 2 and t.post.shape[1] == 2
    ftab = np.concatenate([t.hann, t.tw.ravel(), t.post.ravel()])
    o_tw = n
    o_post = o_tw + t.tw.size
    itab = np.concatenate([[n, 0, 6, o_tw, o_post, o_post + t.post.size], t.bitrev])
    x = _signal("white", 2 * n + 8, 4, 1)
    out = np.zeros((4, t.n_bins))
    _from_packed(x, 5, ftab, itab.astype(np.int64), out, np.zeros(n))
    _check(out, _reference(x[5 : 5 + n], t.hann))
