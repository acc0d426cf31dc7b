"""Per-beat heart rate variability over the last ``n_beats`` RR intervals (streaming, numba).

:class:`HrvStream` keeps a ring of the last ``n_beats`` RR intervals (300 by default: "HRV over
300 RR intervals") and gives, after every beat, the values that the batch modules
:func:`~addiction_index.features.hrv_time.hrv_time` and
:func:`~addiction_index.features.hrv_frequency.hrv_frequency` (both equal to NeuroKit2's,
Makowski et al. 2021, doi:10.3758/s13428-020-01516-y) give on the same window.
:func:`hrv_per_beat` runs the same kernels over a whole RR series (the feature-table path) and
equals pushing the beats one by one bit for bit.

Time domain (O(1) per beat). Running sums over the window, updated when a beat enters and the
oldest leaves: ``S1 = Σ(RR - a)``, ``S2 = Σ(RR - a)²`` (``a``: an anchor near the mean, against
cancellation), ``Σ ΔRR²`` and the count of ``|ΔRR| > 50 ms``. Every ``n_beats`` pushes the sums
are recomputed from the ring (re-anchor), which bounds floating-point drift. MeanNN (ms) =
``a + S1/n``; SDNN (ms, ddof 1) = ``sqrt((S2 - S1²/n) / (n - 1))``; RMSSD (ms) =
``sqrt(Σ ΔRR² / (n - 1))``; pNN50 (%) = count / n x 100; MeanHR (bpm) = 60000 / MeanNN
(Task Force 1996, doi:10.1161/01.CIR.93.5.1043). Agreement with ``hrv_time`` on the same window:
relative 1e-9 (measured <= 1.5e-15 on two recordings; pNN50 exact).

Frequency domain (per call, O(N log N)), NeuroKit2's method step for step:

1. Beat times ``t = cumsum(RR / 1000)`` (s) of the window.
2. Quadratic interpolating spline as SciPy's ``make_interp_spline(t, RR, k=2)``: knots ``t0``
   x3, the midpoints of ``t1 .. t_{n-2}``, ``t_{n-1}`` x3; its collocation matrix is tridiagonal
   and totally positive, solved by the Thomas algorithm.
3. Evaluated (de Boor) on ``arange(t0, t_{n-1} + 1/fs, 1/fs)``, reproduced sample for sample
   (length ``ceil``, fill ``t0 + i ((t0 + 1/fs) - t0)``); the mean is removed.
4. Welch (doi:10.1109/TAU.1967.1161901) with NeuroKit2's segment length ``M`` (about ``N / 2``),
   overlap ``M // 2``, periodic Hann window, ``nfft = 2 M``, density scaling (ms²/Hz), one-sided.
   Only bins ``f <= 0.5 Hz`` are used, so they alone are computed: a Bluestein chirp-z transform
   (radix-2 FFT of the next power of two >= ``M + 2 K``) evaluates bins ``-K .. K`` of
   ``w (x_a + i x_b)`` for two segments at once. Chirps and the filter spectrum depend on ``M``
   only and are cached for the last 4 values of ``M`` (``M`` changes with the window length).
5. Trapezoid integration over the kept bins (``min_frequency <= f <= 0.5 Hz``) of the half-open
   bands of :data:`~addiction_index.features.hrv_frequency.HRV_BANDS_HZ`: LF, HF, TP (ms²), LF/HF,
   LFn and HFn (fractions of TP, as NeuroKit2). Agreement with ``hrv_frequency`` on the same
   window: relative 1e-9 (measured <= 2.5e-15; FFT rounding instead of pocketfft).

Too little data: time-domain values are NaN while the window's RR sum is under 30 s (or fewer
than 2 beats), frequency-domain values under 120 s (or fewer than 3 beats), as the batch modules'
``MIN_DURATION_S`` (Munoz et al. 2015, doi:10.1371/journal.pone.0138921). The stream raises
nothing and warns nothing for that: NaN is the signal, the live caller decides about warnings.
RR intervals must be finite and > 0 ms (:class:`~addiction_index.errors.InputError`).
Buffers are allocated in ``__init__`` for windows up to 1.5 s mean RR; a longer window grows them
once (the only allocation after ``__init__``).
"""

from __future__ import annotations

import math

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features import _hrv_stream_kernels as _k
from addiction_index.features.hrv_frequency import HRV_BANDS_HZ, HRV_FREQUENCY_KEYS
from addiction_index.features.hrv_frequency import MIN_DURATION_S as FREQ_MIN_S
from addiction_index.features.hrv_time import HRV_TIME_KEYS
from addiction_index.features.hrv_time import MIN_DURATION_S as TIME_MIN_S

__all__ = ["HRV_STREAM_KEYS", "HrvStream", "hrv_per_beat"]

HRV_STREAM_KEYS = HRV_TIME_KEYS + HRV_FREQUENCY_KEYS
"""Keys of :func:`hrv_per_beat`: the five time-domain then the six frequency-domain values."""

_BANDS = np.array([HRV_BANDS_HZ[b] for b in ("ULF", "VLF", "LF", "HF", "VHF")], dtype=np.float64)
_PLAN_SLOTS = 4


class _Spectrum:
    """Preallocated work arrays and chirp-z plan cache for windows up to ``max_s`` seconds."""

    def __init__(self, n_beats: int, fs: float, max_s: float) -> None:
        n_grid = int(max_s * fs) + 4
        m_cap = n_grid // 2 + 1
        k_cap = int(m_cap / fs) + 2
        n_fft = 1 << max(1, (m_cap + 2 * k_cap - 1).bit_length())
        width = max(n_grid, n_fft, n_beats + 3, k_cap + 1)
        self.max_s = max_s
        self.work = np.zeros((8, width))
        h = np.concatenate([np.full(2**p, 2**p) for p in range(n_fft.bit_length() - 1)])
        k = np.concatenate([np.arange(2**p) for p in range(n_fft.bit_length() - 1)])
        self.tw = np.stack([np.cos(np.pi * k / h), -np.sin(np.pi * k / h)])
        self.plan = np.full((2, _PLAN_SLOTS), -1, dtype=np.int64)  # rows: M, last use
        self.w = np.zeros((_PLAN_SLOTS, m_cap))
        self.pre = np.zeros((_PLAN_SLOTS, m_cap, 2))
        self.post = np.zeros((_PLAN_SLOTS, 2 * k_cap + 1, 2))
        self.g = np.zeros((_PLAN_SLOTS, 2, n_fft))

    def args(self) -> tuple[np.ndarray, ...]:
        """Work arrays, twiddles, plan cache and plans, in the kernels' argument order."""
        return self.work, self.tw, self.plan, self.w, self.pre, self.post, self.g


def _check_rate(interpolation_rate: float) -> float:
    if not (np.isfinite(interpolation_rate) and interpolation_rate >= 1.0):
        raise InputError("interpolation_rate", interpolation_rate, "a rate >= 1 Hz")
    return float(interpolation_rate)


def _check_rr_array(rr_ms: object) -> np.ndarray:
    if not isinstance(rr_ms, np.ndarray) or rr_ms.dtype != np.float64 or rr_ms.ndim != 1:
        shown = getattr(rr_ms, "dtype", type(rr_ms).__name__)
        raise InputError("rr_ms", shown, "a 1-D float64 numpy array of RR intervals (ms)")
    if not np.all(np.isfinite(rr_ms) & (rr_ms > 0)):
        raise InputError("rr_ms", "non-finite or non-positive values", "RR intervals > 0 ms")
    return np.ascontiguousarray(rr_ms)


class HrvStream:
    """Time- and frequency-domain HRV of the last ``n_beats`` RR intervals, updated per beat.

    ``n_beats``: window length in beats (>= 3; 300 by default); ``interpolation_rate``: the
    resampling rate (Hz) of the frequency domain (4 Hz, as NeuroKit2). Feed beats with
    :meth:`push` (one RR, ms) or :meth:`update` (a float64 array, e.g. one strap notification);
    read :meth:`time_domain` / :meth:`frequency_domain` (dicts) or the allocation-free
    :meth:`time_array` / :meth:`frequency_array`. NaN while the window is too short (module doc).
    """

    def __init__(self, n_beats: int = 300, interpolation_rate: float = 4.0) -> None:
        if not isinstance(n_beats, int | np.integer) or isinstance(n_beats, bool) or n_beats < 3:
            raise InputError("n_beats", n_beats, "an integer >= 3")
        self.n_beats = int(n_beats)
        self.interpolation_rate = _check_rate(interpolation_rate)
        self._ring = np.zeros(2 * self.n_beats)
        self._fstate = np.zeros(5)
        self._istate = np.zeros(5, dtype=np.int64)
        self._one = np.zeros(1)
        self._no_record = np.zeros((0, 5))
        self._time = np.full(5, np.nan)
        self._freq = np.full(6, np.nan)
        self._spectrum = _Spectrum(self.n_beats, self.interpolation_rate, 1.5 * self.n_beats)
        self._freq_args = self._frequency_args()
        self._push_args = (
            self._one, self._ring, self.n_beats, self._fstate, self._istate, TIME_MIN_S,
            self._no_record,
        )  # fmt: skip

    def _frequency_args(self) -> tuple[object, ...]:
        """The fixed arguments of ``_frequency_latest`` (built once: less work per call)."""
        return (
            self._ring, self.n_beats, self._istate, self.interpolation_rate, FREQ_MIN_S, _BANDS,
            *self._spectrum.args(), self._freq,
        )  # fmt: skip

    @property
    def n_held(self) -> int:
        """Beats in the window now (``min(beats pushed, n_beats)``)."""
        return int(self._istate[_k.I_HELD])

    def push(self, rr_ms: float) -> None:
        """Add one RR interval (ms, finite, > 0); the oldest leaves once ``n_beats`` are held."""
        try:
            value = float(rr_ms)
        except (TypeError, ValueError):
            raise InputError("rr_ms", rr_ms, "an RR interval in ms (a number)") from None
        if not (math.isfinite(value) and value > 0.0):
            raise InputError("rr_ms", rr_ms, "a finite RR interval > 0 ms")
        self._one[0] = value
        _k._push_many(*self._push_args)

    def update(self, rr_ms: np.ndarray) -> None:
        """Add several RR intervals (1-D float64 array, ms) in order; same state as push each."""
        rr_ms = _check_rr_array(rr_ms)
        _k._push_many(
            rr_ms, self._ring, self.n_beats, self._fstate, self._istate, TIME_MIN_S,
            self._no_record,
        )  # fmt: skip

    def time_array(self) -> np.ndarray:
        """MeanNN, SDNN, RMSSD (ms), pNN50 (%), MeanHR (bpm): an internal array, overwritten."""
        _k._time_values(self._fstate, self._istate, TIME_MIN_S, self._time)
        return self._time

    def frequency_array(self) -> np.ndarray:
        """LF, HF (ms²), LF/HF, LFn, HFn, TP (ms²): an internal array, overwritten next call."""
        while (status := _k._frequency_latest(*self._freq_args)) != 0:
            self._spectrum = _Spectrum(
                self.n_beats, self.interpolation_rate, 1.25 * (status / self.interpolation_rate)
            )
            self._freq_args = self._frequency_args()
        return self._freq

    def time_domain(self) -> dict[str, float]:
        """The time-domain values keyed by ``HRV_TIME_KEYS`` (NaN under 30 s of RR)."""
        return dict(zip(HRV_TIME_KEYS, self.time_array().tolist(), strict=True))

    def frequency_domain(self) -> dict[str, float]:
        """The frequency-domain values keyed by ``HRV_FREQUENCY_KEYS`` (NaN under 120 s)."""
        return dict(zip(HRV_FREQUENCY_KEYS, self.frequency_array().tolist(), strict=True))


def hrv_per_beat(
    rr_ms: np.ndarray, n_beats: int = 300, *, interpolation_rate: float = 4.0
) -> dict[str, np.ndarray]:
    """Every value of :class:`HrvStream` after each beat of a whole RR series (batch path).

    ``rr_ms``: RR intervals (ms, 1-D float64, finite, > 0). Returns a dict keyed by
    :data:`HRV_STREAM_KEYS` of float64 arrays of ``len(rr_ms)``; row ``k`` describes the window
    of the last ``n_beats`` intervals ending at beat ``k`` (fewer at the start), NaN where too
    short. Equals ``push``-ing the beats one by one and reading both domains after each, bit for
    bit (same kernels, same order of operations).
    """
    rr_ms = _check_rr_array(rr_ms)
    stream = HrvStream(n_beats, interpolation_rate)
    n, fs = rr_ms.size, stream.interpolation_rate
    out_time = np.full((n, 5), np.nan)
    _k._push_many(
        rr_ms, stream._ring, stream.n_beats, stream._fstate, stream._istate, TIME_MIN_S, out_time
    )
    csum = np.concatenate(([0.0], np.cumsum(rr_ms)))
    longest = float(np.max(csum[n_beats:] - csum[:-n_beats])) if n > n_beats else csum[-1]
    sp = _Spectrum(stream.n_beats, fs, max(stream._spectrum.max_s, longest / 1000.0 + 2.0))
    out_freq = np.full((n, 6), np.nan)
    while (
        failed := _k._frequency_per_beat(
            rr_ms, stream.n_beats, fs, FREQ_MIN_S, _BANDS, *sp.args(), out_freq
        )
    ) >= 0:  # not expected (capacity from the longest window); grow and redo
        sp = _Spectrum(stream.n_beats, fs, 2.0 * sp.max_s)
        del failed
    values = np.hstack([out_time, out_freq])
    return {key: np.ascontiguousarray(values[:, j]) for j, key in enumerate(HRV_STREAM_KEYS)}
