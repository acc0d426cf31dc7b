"""ECG R peaks, batch and streaming, as NeuroKit2's default ``ecg_clean`` + ``ecg_peaks``.

Makowski et al. 2021, NeuroKit2, *Behav Res Methods* 53:1689-1696, doi:10.3758/s13428-020-01516-y.
The "neurokit" detector is unpublished; NeuroKit2's source points to its origin and validation in
biopeaks, Brammer 2020, *J Open Source Softw* 5(52):2621, doi:10.21105/joss.02621.

Batch (:func:`ecg_peaks`, step for step as NeuroKit2 0.2.13, ``fs`` in Hz, any amplitude unit):

1. Clean (``clean=True``): 5th-order Butterworth high-pass at 0.5 Hz run zero-phase as
   ``scipy.signal.sosfiltfilt`` (odd extension of ``3 * ntaps`` samples, ``sosfilt_zi`` initial
   state), then the "powerline" filter: a moving average of ``int(fs / 50)`` samples (2 below
   100 Hz) run as ``scipy.signal.filtfilt(..., method="pad")``.
2. ``|np.gradient|`` of the clean signal, smoothed by a centred boxcar of ``rint(0.1 fs)`` samples
   (``uniform_filter1d``, mode "nearest", same running sum); its boxcar of ``rint(0.75 fs)``
   samples times 1.5 is the threshold.
3. QRS = runs where the smoothed gradient exceeds the threshold; runs shorter than 0.4 x the mean
   run length are skipped; in each run the most prominent local maximum of the clean signal
   (``scipy.signal.find_peaks`` rules: plateaus give their middle, first of equal prominences)
   is the R peak, kept if more than ``rint(0.3 fs)`` samples after the previous one (and after
   sample 0, as NeuroKit2). ``correct_artifacts=False`` (NeuroKit2's default) adds nothing.

Streaming (:class:`EcgPeakStream`): the same steps made causal. The high-pass runs forward only
(state from ``sosfilt_zi`` times the first sample); the moving average is applied twice forward
(the same magnitude response as filtfilt, linear phase, delay ``n - 1`` samples, subtracted from
the reported indices). The centred smoothings are computed ``D = 1 + (w1 - 1) // 2 +
(w2 - 1) // 2`` samples late (130 Hz: 1 + 6 + 48 = 55 samples, 423 ms). The mean QRS length is
the running mean since the stream start (batch: the whole recording). A peak is reported by the
``update`` that delivers sample ``end + D + 1 + (n - 1)`` where ``end`` is the last sample of its
QRS run (``latency_samples`` = ``D + n`` after the QRS end: 57 samples = 438 ms at 130 Hz,
444 samples = 444 ms at 1000 Hz; the R peak itself is typically 20-60 ms before the QRS end).
Runs longer than ``MAX_QRS_S`` are searched over their last ``MAX_QRS_S`` only.
"""

from __future__ import annotations

import functools

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._designs import cached_design
from addiction_index.features._jit import jit

__all__ = ["EcgPeakStream", "ecg_clean", "ecg_peaks", "rr_intervals_ms"]

MAX_QRS_S = 3.0


@jit
def _sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Cascade of biquads, direct form II transposed, as scipy's ``sosfilt``; ``zi`` updated."""
    y = np.empty_like(x)
    for n in range(x.size):
        cur = x[n]
        for s in range(sos.shape[0]):
            new = sos[s, 0] * cur + zi[s, 0]
            zi[s, 0] = sos[s, 1] * cur - sos[s, 4] * new + zi[s, 1]
            zi[s, 1] = sos[s, 2] * cur - sos[s, 5] * new
            cur = new
        y[n] = cur
    return y


@jit
def _sos_step(sos: np.ndarray, zi: np.ndarray, v: float) -> float:
    """One sample through the biquad cascade (as ``_sosfilt``), state ``zi`` updated."""
    for s in range(sos.shape[0]):
        new = sos[s, 0] * v + zi[s, 0]
        zi[s, 0] = sos[s, 1] * v - sos[s, 4] * new + zi[s, 1]
        zi[s, 1] = sos[s, 2] * v - sos[s, 5] * new
        v = new
    return v


@jit
def _fir_step(b: np.ndarray, z: np.ndarray, v: float) -> float:
    """One sample through an FIR filter in transposed form (``len(b) >= 2``), ``z`` updated."""
    m = b.size - 1
    out = b[0] * v + z[0]
    for k in range(m - 1):
        z[k] = b[k + 1] * v + z[k + 1]
    z[m - 1] = b[m] * v
    return out


@jit
def _fir(b: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """FIR ``lfilter(b, [1], x, zi=z)`` in transposed form; ``z`` (len(b) - 1) updated."""
    y = np.empty_like(x)
    m = b.size - 1
    for n in range(x.size):
        out = b[0] * x[n] + (z[0] if m > 0 else 0.0)
        for k in range(m - 1):
            z[k] = b[k + 1] * x[n] + z[k + 1]
        if m > 0:
            z[m - 1] = b[m] * x[n]
        y[n] = out
    return y


@jit
def _odd_ext(x: np.ndarray, edge: int) -> np.ndarray:
    n = x.size
    ext = np.empty(n + 2 * edge)
    for i in range(edge):
        ext[i] = 2.0 * x[0] - x[edge - i]
        ext[n + edge + i] = 2.0 * x[n - 1] - x[n - 2 - i]
    ext[edge : edge + n] = x
    return ext


@jit
def _sosfiltfilt(sos: np.ndarray, zi0: np.ndarray, x: np.ndarray, edge: int) -> np.ndarray:
    """scipy ``sosfiltfilt(sos, x)``: odd extension by ``edge``, ``zi0`` = ``sosfilt_zi``."""
    ext = _odd_ext(x, edge)
    y = _sosfilt(sos, ext, zi0 * ext[0])
    y = _sosfilt(sos, y[::-1].copy(), zi0 * y[-1])
    return y[::-1][edge : edge + x.size].copy()


@jit
def _firfiltfilt(b: np.ndarray, zi0: np.ndarray, x: np.ndarray, edge: int) -> np.ndarray:
    """scipy ``filtfilt(b, [1], x, method="pad")``; ``zi0`` = ``lfilter_zi``."""
    ext = _odd_ext(x, edge)
    y = _fir(b, ext, zi0 * ext[0])
    y = _fir(b, y[::-1].copy(), zi0 * y[-1])
    return y[::-1][edge : edge + x.size].copy()


@jit
def _boxcar(x: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.uniform_filter1d(x, size, mode="nearest")``, same running sum."""
    n = x.size
    left = size // 2
    tmp = 0.0
    for k in range(size):
        tmp += x[min(max(k - left, 0), n - 1)]
    y = np.empty(n)
    y[0] = tmp / size
    for i in range(1, n):
        tmp += x[min(i + size - 1 - left, n - 1)] - x[min(max(i - 1 - left, 0), n - 1)]
        y[i] = tmp / size
    return y


@jit
def _abs_gradient(x: np.ndarray) -> np.ndarray:
    n = x.size
    g = np.empty(n)
    g[0] = abs(x[1] - x[0])
    g[n - 1] = abs(x[n - 1] - x[n - 2])
    for i in range(1, n - 1):
        g[i] = abs((x[i + 1] - x[i - 1]) / 2.0)
    return g


@jit
def _best_peak(x: np.ndarray, beg: int, end: int) -> int:
    """Index of the most prominent local maximum of ``x[beg:end]`` (find_peaks rules), or -1."""
    best, best_prom = -1, -1.0
    i, i_max = beg + 1, end - 1
    while i < i_max:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < i_max and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                p = (i + ahead - 1) // 2
                lmin, j = x[p], p
                while j >= beg and x[j] <= x[p]:
                    lmin = min(lmin, x[j])
                    j -= 1
                rmin, j = x[p], p
                while j < end and x[j] <= x[p]:
                    rmin = min(rmin, x[j])
                    j += 1
                prom = x[p] - max(lmin, rmin)
                if prom > best_prom:
                    best, best_prom = p, prom
                i = ahead
        i += 1
    return best


@jit
def _gate_peaks(sig, feat, avg, mult, offset, len_weight, min_len, min_delay):
    """Peaks in runs feat > mult * avg + offset; min run len_weight x mean (or min_len)."""
    n = sig.size
    beg = np.empty(n // 2 + 1, np.int64)
    end = np.empty(n // 2 + 1, np.int64)
    nb, ne = 0, 0
    for i in range(n - 1):
        a = feat[i] > mult * avg[i] + offset
        b = feat[i + 1] > mult * avg[i + 1] + offset
        if b and not a:
            beg[nb] = i
            nb += 1
        elif a and not b and nb > 0:
            end[ne] = i
            ne += 1
    m = min(nb, ne)
    out = np.empty(m, np.int64)
    if m == 0:
        return out
    limit = float(min_len)
    if len_weight > 0.0:
        limit = np.mean((end[:m] - beg[:m]).astype(np.float64)) * len_weight
    k, last = 0, 0
    for q in range(m):
        if end[q] - beg[q] < limit:
            continue
        p = _best_peak(sig, beg[q], end[q])
        if p >= 0 and p - last > min_delay:
            out[k] = p
            last = p
            k += 1
    return out[:k]


def _check_fs(fs: object) -> float:
    if isinstance(fs, bool) or not isinstance(fs, (int, float, np.number)):
        raise InputError("fs", fs, "a sampling rate (Hz) as a number >= 20")
    if not np.isfinite(fs) or fs < 20.0:
        raise InputError("fs", fs, "a finite sampling rate >= 20 Hz")
    return float(fs)


def _check_signal(x: object, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 1:
        shown = getattr(x, "dtype", type(x).__name__)
        shown = f"{shown}, ndim={x.ndim}" if isinstance(x, np.ndarray) else shown
        raise InputError(name, shown, "a 1-D float64 numpy array")
    if not np.all(np.isfinite(x)):
        raise InputError(name, "non-finite values", "finite samples (no NaN/inf)")
    return np.ascontiguousarray(x)


@functools.lru_cache(maxsize=32)
def _sos_design(order: int, freqs: float | tuple[float, float], btype: str, fs: float):
    """Coefficients, ``sosfilt_zi`` and the sosfiltfilt pad length (scipy's rule)."""

    def make() -> dict[str, np.ndarray]:
        import scipy.signal

        sos = scipy.signal.butter(order, freqs, btype=btype, output="sos", fs=fs)
        return {"sos": sos, "zi": scipy.signal.sosfilt_zi(sos)}

    design = cached_design(f"butter {order} {freqs!r} {btype} {fs!r}", make)
    sos = design["sos"]
    ntaps = 2 * sos.shape[0] + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    return sos, design["zi"], 3 * ntaps


@functools.lru_cache(maxsize=32)
def _powerline(fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Moving-average taps of NeuroKit2's powerline filter (50 Hz) and their ``lfilter_zi``."""
    n = int(fs / 50) if fs >= 100 else 2
    taps = np.full(n, 1.0 / n)
    return taps, _lfilter_zi(taps)


def _lfilter_zi(taps: np.ndarray) -> np.ndarray:
    """``scipy.signal.lfilter_zi(taps, [1.0])`` of an FIR filter, through the design cache."""

    def make() -> dict[str, np.ndarray]:
        import scipy.signal

        return {"zi": scipy.signal.lfilter_zi(taps, [1.0])}

    return cached_design(f"lfilter_zi {taps.tobytes().hex()}", make)["zi"]


def ecg_clean(ecg: np.ndarray, fs: float) -> np.ndarray:
    """``neurokit2.ecg_clean(ecg, fs)`` (method "neurokit"); empty when too short to pad."""
    fs = _check_fs(fs)
    ecg = _check_signal(ecg, "ecg")
    sos, zi, edge = _sos_design(5, 0.5, "highpass", fs)
    taps, taps_zi = _powerline(fs)
    if ecg.size <= max(edge, 3 * taps.size):
        return np.zeros(0)
    hp = _sosfiltfilt(sos, zi, ecg, edge)
    return _firfiltfilt(taps, taps_zi, hp, 3 * taps.size)


@jit
def _ecg_detect(x: np.ndarray, w1: int, w2: int, min_delay: int) -> np.ndarray:
    """NeuroKit2's "neurokit" detector on a clean ECG (steps 2-3 of the module docstring)."""
    smooth = _boxcar(_abs_gradient(x), w1)
    return _gate_peaks(x, smooth, _boxcar(smooth, w2), 1.5, 0.0, 0.4, 0, min_delay)


@jit
def _ecg_batch(x, sos, zi, edge, taps, taps_zi, w1, w2, min_delay):
    clean = _firfiltfilt(taps, taps_zi, _sosfiltfilt(sos, zi, x, edge), 3 * taps.size)
    return _ecg_detect(clean, w1, w2, min_delay)


def _ecg_windows(fs: float) -> tuple[int, int, int]:
    """Gradient smoothing, threshold averaging and refractory lengths (samples)."""
    return int(np.rint(0.1 * fs)), int(np.rint(0.75 * fs)), int(np.rint(0.3 * fs))


def ecg_peaks(ecg: np.ndarray, fs: float, *, clean: bool = True) -> np.ndarray:
    """R-peak sample indices (int64, sorted) of a whole ECG (``fs`` in Hz, any unit).

    ``clean=True`` runs :func:`ecg_clean` first, i.e. the result equals
    ``neurokit2.ecg_peaks(neurokit2.ecg_clean(ecg, fs), fs)``; ``clean=False`` detects on ``ecg``
    as given (it must already be high-passed). Too short a signal gives an empty array.
    """
    fs = _check_fs(fs)
    x = _check_signal(ecg, "ecg")
    w1, w2, min_delay = _ecg_windows(fs)
    if not clean:
        return _ecg_detect(x, w1, w2, min_delay) if x.size >= 3 else np.zeros(0, np.int64)
    sos, zi, edge = _sos_design(5, 0.5, "highpass", fs)
    taps, taps_zi = _powerline(fs)
    if x.size <= max(edge, 3 * taps.size):
        return np.zeros(0, np.int64)
    return _ecg_batch(x, sos, zi, edge, taps, taps_zi, w1, w2, min_delay)


def rr_intervals_ms(peaks: np.ndarray, fs: float) -> np.ndarray:
    """RR intervals (ms, float64) between successive peak indices sampled at ``fs`` Hz."""
    fs = _check_fs(fs)
    if not isinstance(peaks, np.ndarray) or peaks.dtype.kind not in "iu" or peaks.ndim != 1:
        raise InputError("peaks", getattr(peaks, "dtype", peaks), "a 1-D integer numpy array")
    return np.diff(peaks.astype(np.float64)) * (1000.0 / fs)


# Streaming state: istate = [samples in, decided, previous above (-1 none), run start (-1 none),
# last reported peak, runs seen]; fstate = [sum 1, sum 2, run lengths, squares (PPG)].
I_K, I_U, I_PREV, I_BEG, I_LAST, I_NSEG = 0, 1, 2, 3, 4, 5


@jit
def _stream_gate(above, ring, scratch, ist, fst, shift, len_weight, min_len, min_delay, out, n):
    """One decided sample of the run/peak logic of ``_gate_peaks``; returns the new ``n``."""
    u = ist[I_U]
    ist[I_U] += 1
    prev = ist[I_PREV]
    ist[I_PREV] = 1 if above else 0
    if prev < 0:
        return n
    if above and prev == 0:
        ist[I_BEG] = u - 1
    elif prev == 1 and not above and ist[I_BEG] >= 0:
        beg, end = ist[I_BEG], u - 1
        ist[I_NSEG] += 1
        fst[2] += end - beg
        limit = len_weight * fst[2] / ist[I_NSEG] if len_weight > 0.0 else float(min_len)
        if end - beg >= limit:
            lo = max(beg, ist[I_K] - ring.size)
            for i in range(lo, end):
                scratch[i - lo] = ring[i % ring.size]
            p = _best_peak(scratch, 0, end - lo)
            if p >= 0 and p + lo - shift - ist[I_LAST] > min_delay:
                ist[I_LAST] = p + lo - shift
                out[n] = ist[I_LAST]
                n += 1
    return n


@jit
def _ecg_stream(x, sos, zi, tri, z, ring, g, s, scratch, ist, fst, shift, min_delay, out):
    """Causal ECG detector over one chunk; carried state in the arrays; peaks into ``out``."""
    n, w1, w2, nr = 0, g.size, s.size, ring.size
    r1, r2 = (w1 - 1) // 2, (w2 - 1) // 2
    for v in x:
        k = ist[I_K]
        if k == 0:
            zi *= v
        c = _sos_step(sos, zi, v)
        if k == 0:
            z *= c
        ring[k % nr] = _fir_step(tri, z, c)
        ist[I_K] = k + 1
        if k == 0:
            continue
        j = k - 1  # |gradient| of sample j, pushed into the window of w1
        gj = (
            abs(ring[1 % nr] - ring[0])
            if j == 0
            else abs((ring[k % nr] - ring[(k - 2) % nr]) / 2.0)
        )
        if j == 0:
            g[:] = gj
            fst[0] = gj * w1
        else:
            fst[0] += gj - g[j % w1]
            g[j % w1] = gj
            if j % w1 == 0:
                fst[0] = np.sum(g)
        t = j - r1  # smoothed gradient of sample t, pushed into the window of w2
        if t < 0:
            continue
        st = fst[0] / w1
        if t == 0:
            s[:] = st
            fst[1] = st * w2
        else:
            fst[1] += st - s[t % w2]
            s[t % w2] = st
            if t % w2 == 0:
                fst[1] = np.sum(s)
        u = t - r2
        if u >= 0:
            above = s[u % w2] > 1.5 * (fst[1] / w2)
            n = _stream_gate(above, ring, scratch, ist, fst, shift, 0.4, 0, min_delay, out, n)
    return n


class _PeakStream:
    """What the ECG and PPG peak streams share: checks, the state vectors, chunked updates.

    Subclasses set up their filters and buffers and implement :meth:`_run` (one numba call on
    at most ``max_chunk`` samples, writing peak indices into ``self._out``; returns how many).
    """

    def __init__(self, fs: float, max_chunk: int, min_delay: int) -> None:
        self.fs = _check_fs(fs)
        if isinstance(max_chunk, bool) or not isinstance(max_chunk, int) or max_chunk < 1:
            raise InputError("max_chunk", max_chunk, "an int >= 1 (samples)")
        self.max_chunk = max_chunk
        self._min_delay = min_delay
        self._ist = np.array([0, 0, -1, -1, 0, 0], np.int64)
        self._fst = np.zeros(4)
        self._out = np.zeros(max_chunk // (min_delay + 1) + 2, np.int64)

    @property
    def n_samples(self) -> int:
        """Samples received since the stream start."""
        return int(self._ist[I_K])

    def _run(self, part: np.ndarray) -> int:
        raise NotImplementedError

    def update(self, chunk: np.ndarray) -> np.ndarray:
        """Feed the next samples (1-D float64, finite); the peaks they confirm (int64)."""
        chunk = _check_signal(chunk, "chunk")
        found = [np.zeros(0, np.int64)]
        for start in range(0, chunk.size, self.max_chunk):
            n = self._run(chunk[start : start + self.max_chunk])
            found.append(self._out[:n].copy())
        return np.concatenate(found)


class EcgPeakStream(_PeakStream):
    """Causal R-peak detector fed chunk by chunk (see the module docstring for the method).

    ``update(chunk)`` returns the absolute sample indices (int64, from the first sample ever
    given, in the time base of :func:`ecg_peaks`) of the R peaks confirmed by that chunk. The
    split into chunks does not change the result. ``latency_samples``: a peak is confirmed that
    many samples after the last sample of its QRS run. ``max_chunk`` sizes the preallocated output
    (longer chunks are processed in pieces).
    """

    def __init__(self, fs: float, max_chunk: int = 4096) -> None:
        w1, w2, min_delay = _ecg_windows(_check_fs(fs))
        super().__init__(fs, max_chunk, min_delay)
        sos, zi, _ = _sos_design(5, 0.5, "highpass", self.fs)
        taps, _ = _powerline(self.fs)
        self._tri = np.convolve(taps, taps)  # filtfilt's magnitude, linear phase
        self._shift = taps.size - 1
        self._sos, self._zi0 = sos, zi
        self._tri_zi = _lfilter_zi(self._tri)
        self.latency_samples = 1 + (w1 - 1) // 2 + (w2 - 1) // 2 + 1 + self._shift
        size = self.latency_samples + 2 + int(MAX_QRS_S * self.fs)
        self._ring, self._scratch = np.zeros(size), np.zeros(size)
        self._g, self._s = np.zeros(w1), np.zeros(w2)
        self._zi, self._z = self._zi0.copy(), self._tri_zi.copy()

    def _run(self, part: np.ndarray) -> int:
        return _ecg_stream(
            part, self._sos, self._zi, self._tri, self._z, self._ring, self._g, self._s,
            self._scratch, self._ist, self._fst, self._shift, self._min_delay, self._out,
        )  # fmt: skip
