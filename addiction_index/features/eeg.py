"""EEG power spectra by Welch's method inside numba, with per-segment reuse across hops.

Welch's method (Welch 1967, doi:10.1109/TAU.1967.1161901): a window is cut into segments of
``nperseg`` samples advancing by ``step = nperseg - noverlap``; each segment has its mean removed
(constant detrend), is multiplied by a periodic Hann window and transformed (:mod:`._fft`); the
one-sided density ``2 |X_k|² / (fs Σ w²)`` (µV²/Hz; DC and Nyquist bins not doubled) is averaged
over segments. This equals ``scipy.signal.welch(x, fs, nperseg=nperseg, noverlap=noverlap,
window="hann", detrend="constant", scaling="density")`` to rounding.

Consecutive hops share segments (a 2 s window with 1 s segments at 50 % overlap has 3 segments;
with a 0.25 s hop two of them were already transformed two hops earlier), so each segment's
periodogram is kept in a small cache keyed by the absolute sample index where the segment ends.
A periodogram depends only on its samples, so a cached one has the same bits as a fresh one: the
live path (one window at a time, as read from the ring buffer) and the batch path (every window of
a recording) give identical spectra, and each hop costs one new segment per channel.

Signals are ``(n_samples, n_channels)`` float64 in µV, the layout of the ring buffer and of
recordings; ``x_offset`` is the absolute index of ``x[0]`` and ``end`` the absolute index one past
the window's last sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._fft import FftTables, segment_power
from addiction_index.features._jit import jit
from addiction_index.features.spec import FeatureSpec

__all__ = ["PsdCache", "WelchPlan", "eeg_bandpower", "eeg_psd", "welch_plan", "window_psd"]


@dataclass(frozen=True, eq=False)
class WelchPlan:
    """Welch settings for windows of ``window`` samples and the band bins of a spec.

    ``freqs`` (n_bins,) are all one-sided bins ``k fs / nperseg`` (Hz), ``df`` the bin width;
    ``bin_scale`` the density factor per bin (1/Hz, applied to |X_k|²); ``band_bins``
    (n_bands, 2) the first and one-past-last bin of each half-open band; ``total_bins`` (2,) the
    same for ``total_hz``; ``n_seg`` segments per window.
    """

    fs: float
    nperseg: int
    step: int
    window: int
    n_seg: int
    tables: FftTables
    freqs: np.ndarray
    bin_scale: np.ndarray
    band_bins: np.ndarray
    total_bins: np.ndarray
    df: float

    @property
    def n_bands(self) -> int:
        return int(self.band_bins.shape[0])

    @classmethod
    def from_spec(cls, spec: FeatureSpec) -> WelchPlan:
        """The plan of ``spec``'s Welch parameters, EEG window and bands."""
        edges = [(b.lo_hz, b.hi_hz) for b in spec.bands]
        lo, hi = spec.content.eeg.total_hz
        return welch_plan(
            spec.fs, spec.nperseg, spec.noverlap, edges, (lo, hi), spec.eeg_window_samples
        )


def _bin_range(freqs: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    inside = np.flatnonzero((freqs >= lo) & (freqs < hi))
    return (int(inside[0]), int(inside[-1]) + 1) if inside.size else (0, 0)


def welch_plan(
    fs: float,
    nperseg: int,
    noverlap: int,
    bands: Sequence[tuple[float, float]],
    total_hz: tuple[float, float],
    window: int | None = None,
) -> WelchPlan:
    """Plan Welch PSDs of ``window``-sample windows (default: one segment) at ``fs`` Hz.

    ``nperseg``/``noverlap`` in samples; bands half-open ``[lo, hi)`` in Hz, inside
    ``total_hz`` and disjoint (a bin may belong to one band only).
    """
    if not fs > 0:
        raise InputError("fs", fs, "a sampling rate > 0 Hz")
    if nperseg < 4 or not 0 <= noverlap < nperseg:
        raise InputError("noverlap", noverlap, f"0 <= noverlap < nperseg (nperseg={nperseg} >= 4)")
    window = nperseg if window is None else int(window)
    step = nperseg - noverlap
    if window < nperseg or (window - nperseg) % step:
        raise InputError("window", window, f"nperseg + a whole number of steps of {step}")
    lo, hi = total_hz
    if not 0 < lo < hi <= fs / 2:
        raise InputError("total_hz", total_hz, f"0 < lo < hi <= {fs / 2:g} Hz (Nyquist)")
    freqs = np.arange(nperseg // 2 + 1) * (fs / nperseg)
    owner = np.full(freqs.size, -1)
    band_bins = np.zeros((len(bands), 2), dtype=np.int64)
    for index, (band_lo, band_hi) in enumerate(bands):
        if band_lo < lo or band_hi > hi or band_hi <= band_lo:
            raise InputError("bands", bands, f"bands [lo, hi) with lo < hi inside {total_hz} Hz")
        first, stop = _bin_range(freqs, band_lo, band_hi)
        if np.any(owner[first:stop] >= 0):
            raise InputError("bands", bands, "disjoint bands (a bin would count twice)")
        owner[first:stop] = index
        band_bins[index] = first, stop
    tables = FftTables.build(nperseg)
    one_sided = np.where(
        (np.arange(freqs.size) == 0) | (2 * np.arange(freqs.size) == nperseg), 1, 2
    )
    return WelchPlan(
        fs=float(fs),
        nperseg=int(nperseg),
        step=int(step),
        window=window,
        n_seg=(window - nperseg) // step + 1,
        tables=tables,
        freqs=freqs,
        bin_scale=one_sided / (fs * np.sum(tables.hann**2)),
        band_bins=band_bins,
        total_bins=np.array(_bin_range(freqs, lo, hi), dtype=np.int64),
        df=float(fs / nperseg),
    )


class PsdCache:
    """Per-stream state of :func:`window_psd`: scaled segment periodograms keyed by end index.

    ``slots`` is the smallest prime >= 2 ``n_seg`` + 3 that does not divide ``hop`` (samples),
    so the segments of consecutive hops land in distinct slots; a collision only costs a
    recomputation, never a wrong value (the key is checked).
    """

    def __init__(self, plan: WelchPlan, n_channels: int, hop: int = 1) -> None:
        slots = 2 * plan.n_seg + 3
        while any(slots % d == 0 for d in range(2, int(slots**0.5) + 1)) or hop % slots == 0:
            slots += 1
        self.periodograms = np.zeros((slots, n_channels, plan.freqs.size))
        self.keys = np.full(slots, -1, dtype=np.int64)
        self.zr, self.zi = plan.tables.scratch()
        self.psd = np.zeros((n_channels, plan.freqs.size))

    def clear(self) -> None:
        """Forget every cached periodogram (a new stream, or samples rewritten)."""
        self.keys[:] = -1


@jit
def _window_psd(x, x_offset, end, n_seg, step, hann, bitrev, tw, post, dft, scale, cache, keys,
                zr, zi, psd):  # fmt: skip
    """Welch PSD of the window ending at absolute index ``end`` into ``psd`` (n_ch, n_bins)."""
    n = hann.shape[0]
    n_ch, n_bins = psd.shape
    n_slots = keys.shape[0]
    psd[:, :] = 0.0
    for j in range(n_seg):
        seg_end = end - (n_seg - 1 - j) * step
        slot = seg_end % n_slots
        if keys[slot] != seg_end:
            segment_power(
                x, seg_end - n - x_offset, hann, bitrev, tw, post, dft, zr, zi, cache[slot]
            )
            for c in range(n_ch):
                for k in range(n_bins):
                    cache[slot, c, k] *= scale[k]
            keys[slot] = seg_end
        for c in range(n_ch):
            for k in range(n_bins):
                psd[c, k] += cache[slot, c, k]
    for c in range(n_ch):
        for k in range(n_bins):
            psd[c, k] /= n_seg


def window_psd(x: np.ndarray, x_offset: int, end: int, plan: WelchPlan, cache: PsdCache) -> None:
    """Welch PSD (µV²/Hz) of the ``plan.window`` samples before absolute index ``end`` into
    ``cache.psd`` (n_channels, n_bins). ``x`` (n, n_channels) float64 holds absolute rows
    ``x_offset .. x_offset + n``. No allocation; the caller checks shapes once (see
    :class:`~addiction_index.features.extract.HopFeatures`)."""
    t, c = plan.tables, cache
    _window_psd(x, x_offset, end, plan.n_seg, plan.step, t.hann, t.bitrev, t.tw, t.post, t.dft,
                plan.bin_scale, c.periodograms, c.keys, c.zr, c.zi, c.psd)  # fmt: skip


def _check_windows(windows: object, min_samples: int) -> np.ndarray:
    if not isinstance(windows, np.ndarray):
        raise InputError("windows", type(windows).__name__, "a numpy array")
    if windows.dtype != np.float64:
        raise InputError("windows.dtype", str(windows.dtype), "float64 (µV)")
    if windows.ndim != 3 or windows.shape[2] < min_samples:
        raise InputError(
            "windows.shape", windows.shape, f"(n_windows, n_channels, n_samples>={min_samples})"
        )
    return windows


def eeg_psd(windows: np.ndarray, plan: WelchPlan) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of each window: ``(freqs, psd)``, freqs (n_bins,) Hz, psd (n_windows,
    n_channels, n_bins) µV²/Hz, for float64 ``windows`` (n_windows, n_channels, n_samples) µV
    with ``n_samples = nperseg + m step`` (any m >= 0; segments from the window's start)."""
    _check_windows(windows, plan.nperseg)
    n_samp = windows.shape[2]
    if (n_samp - plan.nperseg) % plan.step:
        expected = f"n_samples = {plan.nperseg} + k × {plan.step}"
        raise InputError("windows.shape", windows.shape, expected)
    sub = dataclasses.replace(plan, window=n_samp, n_seg=(n_samp - plan.nperseg) // plan.step + 1)
    out = np.empty((windows.shape[0], windows.shape[1], plan.freqs.size))
    for w in range(windows.shape[0]):
        cache = PsdCache(sub, windows.shape[1])
        window_psd(np.ascontiguousarray(windows[w].T), 0, n_samp, sub, cache)
        out[w] = cache.psd
    return plan.freqs.copy(), out


def eeg_bandpower(windows: np.ndarray, plan: WelchPlan) -> tuple[np.ndarray, np.ndarray]:
    """Absolute band powers and total power of EEG windows by Welch's method.

    ``windows``: float64 ``(n_windows, n_channels, n_samples)`` in µV. Returns ``(abs_power,
    total_power)``: ``(n_windows, n_channels, n_bands)`` and ``(n_windows, n_channels)``, both
    µV², each the sum of Welch PSD bins with ``lo <= f < hi`` times the bin width ``plan.df``.
    """
    _, psd = eeg_psd(windows, plan)
    bands = np.stack([psd[..., a:b].sum(axis=-1) * plan.df for a, b in plan.band_bins], axis=-1)
    lo, hi = plan.total_bins
    return bands, psd[..., lo:hi].sum(axis=-1) * plan.df
