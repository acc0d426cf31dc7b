"""Periodograms of signal segments inside numba: a radix-4/radix-2 real FFT, one channel at a time.

numba has no FFT, and the live path cannot afford a NumPy call per hop, so this module computes
``|X_k|²`` of a mean-removed, Hann-windowed segment of every channel:

* the ``N`` real samples of a channel, minus the segment's first sample ``x0`` (exact for
  EEG-like data: Sterbenz), are windowed and packed as ``N/2`` complex values
  ``z[n] = x[2n] + i x[2n+1]`` in bit-reversed order while their sum is accumulated;
* an iterative decimation-in-time FFT (Cooley & Tukey 1965,
  doi:10.1090/S0025-5718-1965-0178586-1) transforms them: a first radix-4 pass with trivial
  twiddles (1, -i), radix-4 passes that merge two radix-2 stages (three complex multiplications
  per four points), and a last radix-2 pass when ``log2(N/2)`` is odd;
* the ``N/2 + 1`` bins of the real FFT are unpacked with the standard "two-for-one" split
  (e.g. Press et al., *Numerical Recipes*, 3rd ed., §12.3), bins ``k`` and ``N/2 - k`` together;
* the residual mean ``m`` of ``x - x0`` is removed in the frequency domain: the periodic Hann
  window's transform of a constant ``m`` is ``m·N/2`` at bin 0, ``-m·N/4`` at bins ±1 and zero
  elsewhere, so only bins 0 and 1 are corrected before squaring. Removing the large offset
  exactly first and the small residual mean last is *more* accurate than
  ``rfft(hann · (x - x.mean()))`` in float64, whose mean carries a rounding error of
  ``ulp(offset)`` that leaks into bins 0 and 1 (~1e-12 of the maximum for a +500 µV offset;
  this kernel: ~1e-15 against an extended-precision reference).

All hot loops index with unsigned integers: numba then emits no negative-index wraparound and
LLVM vectorises the butterflies (fastmath stays off, so results are reproducible bit for bit).
Within a pass the butterflies run over contiguous indices with contiguous per-pass twiddles
(a channel-innermost layout was measured 20 times slower per butterfly). A segment length that
is not a power of two falls back to a plain DFT (same output, O(N²)).

Segments are read from a ``(n_samples, n_channels)`` float64 array at a start row, the layout the
ring buffer and recordings use, so neither the live nor the batch path copies a window. Nothing
is allocated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from addiction_index.features._jit import jit

__all__ = ["FftTables", "segment_power"]

U = np.uint64


def _twiddles(k: np.ndarray, m: int) -> list[np.ndarray]:
    """``[cos, -sin]`` of ``2πk/m``: real and imaginary parts of ``e^{-2πik/m}``."""
    angle = 2.0 * np.pi * np.asarray(k, dtype=np.float64) / m
    return [np.cos(angle), -np.sin(angle)]


@dataclass(frozen=True, eq=False)
class FftTables:
    """Precomputed tables for segments of ``n`` samples (periodic Hann window, as SciPy's).

    ``hann`` (n,); for a power-of-two ``n``: ``bitrev`` (n/2,) int64 and two float64 tables of
    shape ``(-1, 2)`` that the kernel reads flat (C order):

    * ``tw``: per pass, contiguous blocks. A radix-4 pass merging the stages of spans ``h`` and
      ``2h`` (``h`` = 4, 16, ...) holds ``Re v, Im v, Re v², Im v², Re v³, Im v³`` for
      ``v = e^{-2πik/(4h)}``, ``k < h`` (6h values); a final radix-2 pass of span ``h``
      holds ``Re w, Im w`` for ``w = e^{-2πik/(2h)}`` (2h values). Never empty (a dummy row
      ``(1, 0)`` when no pass needs twiddles, so that packed tables can tell FFT from DFT);
    * ``post``: ``cos(2πk/n)`` for ``k = 0 .. n/4`` then ``-sin(2πk/n)`` for the same ``k``.

    Otherwise ``dft`` (n, 2 (n/2 + 1)) cos/-sin basis and the FFT tables empty.
    """

    n: int
    hann: np.ndarray
    bitrev: np.ndarray
    tw: np.ndarray
    post: np.ndarray
    dft: np.ndarray

    @property
    def n_bins(self) -> int:
        return self.n // 2 + 1

    def scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``(zr, zi)`` work arrays :func:`segment_power` needs, (n/2,) each."""
        return np.zeros(self.n // 2), np.zeros(self.n // 2)

    @classmethod
    def build(cls, n: int) -> FftTables:
        idx = np.arange(n)
        hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * idx / n)  # periodic, scipy.signal.get_window
        empty2 = np.zeros((0, 2))
        if n >= 4 and n & (n - 1) == 0:
            half = n // 2
            bits = half.bit_length() - 1
            bitrev = np.array([int(f"{i:0{bits}b}"[::-1], 2) if bits else 0 for i in range(half)])
            parts: list[np.ndarray] = []
            h = 1
            if half >= 4:  # the first radix-4 pass (spans 1 and 2) needs no table
                h = 4
                while 4 * h <= half:
                    k = np.arange(h)
                    for power in (1, 2, 3):
                        parts += _twiddles(power * k, 4 * h)
                    h *= 4
            if h < half:
                parts += _twiddles(np.arange(h), 2 * h)
            flat = np.concatenate(parts) if parts else np.array([1.0, 0.0])
            tw = np.ascontiguousarray(flat.reshape(-1, 2))
            post = np.concatenate(_twiddles(np.arange(half // 2 + 1), n))
            post = np.ascontiguousarray(post.reshape(-1, 2))
            return cls(n, hann, bitrev.astype(np.int64), tw, post, np.zeros((0, 0)))
        k = np.arange(n // 2 + 1)
        phase = 2.0 * np.pi * ((idx[:, None] * k[None, :]) % n) / n
        dft = np.ascontiguousarray(np.hstack([np.cos(phase), -np.sin(phase)]))
        return cls(n, hann, np.zeros(0, dtype=np.int64), empty2, empty2, dft)


@jit
def _pack(x, start, c, hann, bitrev, zr, zi):
    """Windowed ``x - x0`` of channel ``c`` packed in bit-reversed complex order into ``zr``,
    ``zi``; returns the mean of ``x - x0`` (``x0`` the segment's first sample)."""
    n = U(hann.shape[0])
    st = U(start)
    cc = U(c)
    x0 = x[st, cc]
    s0 = 0.0
    s1 = 0.0
    for m in range(n >> U(1)):
        r = U(bitrev[m]) << U(1)
        a = x[st + r, cc] - x0
        b = x[st + r + U(1), cc] - x0
        s0 += a
        s1 += b
        zr[m] = a * hann[r]
        zi[m] = b * hann[r + U(1)]
    return (s0 + s1) / hann.shape[0]


@jit
def _radix4_first(zr, zi):
    """The stages of spans 1 and 2 (twiddles 1 and -i) as one radix-4 pass."""
    nn = U(zr.shape[0])
    for i0 in range(U(0), nn, U(4)):
        i1 = i0 + U(1)
        i2 = i0 + U(2)
        i3 = i0 + U(3)
        ar, ai, br, bi = zr[i0], zi[i0], zr[i1], zi[i1]
        cr, ci, dr, di = zr[i2], zi[i2], zr[i3], zi[i3]
        e0r, e0i, e1r, e1i = ar + br, ai + bi, ar - br, ai - bi
        f0r, f0i, f1r, f1i = cr + dr, ci + di, cr - dr, ci - di
        zr[i0], zi[i0] = e0r + f0r, e0i + f0i
        zr[i2], zi[i2] = e0r - f0r, e0i - f0i
        zr[i1], zi[i1] = e1r + f1i, e1i - f1r
        zr[i3], zi[i3] = e1r - f1i, e1i + f1r


@jit
def _radix4(tw, o, h, zr, zi):
    """The stages of spans ``h`` and ``2h`` as one radix-4 pass; twiddles ``v, v², v³`` of
    ``v = e^{-2πik/(4h)}`` at ``tw[o:o + 6h]`` (see :class:`FftTables`)."""
    nn = U(zr.shape[0])
    o1 = o + h
    o2 = o1 + h
    o3 = o2 + h
    o4 = o3 + h
    o5 = o4 + h
    for base in range(U(0), nn, h << U(2)):
        for k in range(h):
            v1r, v1i = tw[o + k], tw[o1 + k]
            v2r, v2i = tw[o2 + k], tw[o3 + k]
            v3r, v3i = tw[o4 + k], tw[o5 + k]
            i0 = base + k
            i1 = i0 + h
            i2 = i1 + h
            i3 = i2 + h
            ar, ai = zr[i0], zi[i0]
            br = zr[i1] * v2r - zi[i1] * v2i  # second quarter (odd of the span-h DFTs): v²
            bi = zr[i1] * v2i + zi[i1] * v2r
            cr = zr[i2] * v1r - zi[i2] * v1i  # third quarter: v
            ci = zr[i2] * v1i + zi[i2] * v1r
            dr = zr[i3] * v3r - zi[i3] * v3i  # fourth quarter: v³
            di = zr[i3] * v3i + zi[i3] * v3r
            s0r, s0i, s1r, s1i = ar + br, ai + bi, ar - br, ai - bi
            t0r, t0i, t1r, t1i = cr + dr, ci + di, cr - dr, ci - di
            zr[i0], zi[i0] = s0r + t0r, s0i + t0i
            zr[i2], zi[i2] = s0r - t0r, s0i - t0i
            zr[i1], zi[i1] = s1r + t1i, s1i - t1r
            zr[i3], zi[i3] = s1r - t1i, s1i + t1r


@jit
def _radix2(tw, o, h, zr, zi):
    """The radix-2 stage of span ``h``; twiddles ``e^{-2πik/(2h)}`` at ``tw[o:o + 2h]``."""
    nn = U(zr.shape[0])
    o1 = o + h
    for base in range(U(0), nn, h << U(1)):
        for k in range(h):
            wr, wi = tw[o + k], tw[o1 + k]
            a = base + k
            b = a + h
            tr = zr[b] * wr - zi[b] * wi
            ti = zr[b] * wi + zi[b] * wr
            ar, ai = zr[a], zi[a]
            zr[b] = ar - tr
            zi[b] = ai - ti
            zr[a] = ar + tr
            zi[a] = ai + ti


@jit
def _butterflies(tw, zr, zi):
    """In-place iterative DIT FFT of the bit-reversed ``zr + i zi`` (length n/2)."""
    nn = U(zr.shape[0])
    twf = tw.reshape(tw.size)
    h = U(1)
    o = U(0)
    if nn >= U(4):
        _radix4_first(zr, zi)
        h = U(4)
        while (h << U(2)) <= nn:
            _radix4(twf, o, h, zr, zi)
            o += U(6) * h
            h <<= U(2)
    if h < nn:
        _radix2(twf, o, h, zr, zi)


@jit
def _split(pf, q, k, zr, zi):
    """Even part ``(er, ei)`` and twiddled odd part ``(p, s)`` of bin ``k``: ``X_k = (er + p)
    + i (ei + s)`` and ``X_{n/2-k} = (er - p) + i (s - ei)``."""
    j = U(zr.shape[0]) - k
    ar, br, ai, bi = zr[k], zr[j], zi[k], zi[j]
    er = 0.5 * (ar + br)
    ei = 0.5 * (ai - bi)
    orr = 0.5 * (ai + bi)
    oi = -0.5 * (ar - br)
    cr, ci = pf[k], pf[q + U(1) + k]
    return er, ei, cr * orr - ci * oi, cr * oi + ci * orr


@jit
def _unpack_power(post, mean, zr, zi, out, c):
    """``out[c, k] = |X_k|²`` of the real FFT from the half-length complex FFT ``zr + i zi``,
    bins 0 and 1 corrected for the residual ``mean`` (the window's transform of a constant)."""
    half = U(zr.shape[0])
    q = half >> U(1)
    cc = U(c)
    pf = post.reshape(post.size)
    z0r, z0i = zr[0], zi[0]
    x0 = z0r + z0i - mean * zr.shape[0]  # W[0] = n/2
    out[cc, U(0)] = x0 * x0
    xh = z0r - z0i
    out[cc, half] = xh * xh
    for k in range(U(2), q + U(1)):
        er, ei, p, s = _split(pf, q, k, zr, zi)
        xr = er + p
        xi = ei + s
        yr = er - p
        yi = s - ei
        out[cc, k] = xr * xr + xi * xi
        out[cc, half - k] = yr * yr + yi * yi
    er, ei, p, s = _split(pf, q, U(1), zr, zi)
    yr = er - p
    yi = s - ei
    out[cc, half - U(1)] = yr * yr + yi * yi  # bin n/2 - 1 (bin 1 itself when n = 4)
    xr = er + p + mean * (0.5 * zr.shape[0])  # W[1] = -n/4
    xi = ei + s
    out[cc, U(1)] = xr * xr + xi * xi


@jit
def _dft_power(x, start, hann, dft, out):
    """Plain-DFT fallback for segment lengths that are not a power of two."""
    n = hann.shape[0]
    n_ch = x.shape[1]
    n_bins = dft.shape[1] // 2
    for c in range(n_ch):
        x0 = x[start, c]  # remove the offset exactly first, then the small residual mean
        mean = 0.0
        for i in range(n):
            mean += x[start + i, c] - x0
        mean /= n
        for k in range(n_bins):
            re = 0.0
            im = 0.0
            for i in range(n):
                v = ((x[start + i, c] - x0) - mean) * hann[i]
                re += v * dft[i, k]
                im += v * dft[i, n_bins + k]
            out[c, k] = re * re + im * im


@jit
def segment_power(x, start, hann, bitrev, tw, post, dft, zr, zi, out):
    """``|rfft(hann · (segment − mean))|²`` per channel into ``out`` (n_channels, n_bins).

    ``x`` (n_samples, n_channels) float64; the segment is rows ``start .. start + len(hann)``;
    ``zr``/``zi`` are (n/2,) scratch arrays (unused by the DFT fallback); ``tw`` and ``post``
    C-contiguous (see :class:`FftTables`). Allocates nothing.
    """
    if bitrev.shape[0] == 0:
        _dft_power(x, start, hann, dft, out)
        return
    for c in range(x.shape[1]):
        mean = _pack(x, start, c, hann, bitrev, zr, zi)
        _butterflies(tw, zr, zi)
        _unpack_power(post, mean, zr, zi, out, c)
