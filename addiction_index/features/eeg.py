"""EEG band powers (Welch PSD inside numba) and per-channel quality flags.

Windows are float64 C-contiguous arrays ``(n_windows, n_channels, n_samples)`` in µV. The live
path is the batch of one window: both call the same kernels, so they give the same bits.

Welch's method (Welch 1967, doi:10.1109/TAU.1967.1161901): the window is cut into segments of
``nperseg`` samples advancing by ``nperseg - noverlap``; each segment has its mean removed
(constant detrend), is multiplied by a periodic Hann window and transformed; the one-sided
density ``2 |X_k|² / (fs Σ w²)`` (µV²/Hz) is averaged over segments. numba has no FFT, so
:class:`WelchPlan` precomputes the windowed cos/sin basis of only the bins the bands need
(1-45 Hz: 44 of 129) and the kernel multiplies by it. This equals
``scipy.signal.welch(x, fs, nperseg=nperseg, noverlap=noverlap, window="hann",
detrend="constant", scaling="density")`` to rounding (~1e-12 relative).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._jit import jit
from addiction_index.features.spec import FeatureSpec, QualityThresholds, load_feature_spec

__all__ = ["QualityFlag", "WelchPlan", "eeg_bandpower", "eeg_quality", "welch_plan"]


class QualityFlag(enum.IntFlag):
    """Per-channel quality bits; thresholds in ``spec.yaml`` (``eeg.quality``)."""

    FLAT = 1  # std below flat_std_uv (0.5 µV): electrode off or shorted
    RAILING = 2  # a sample at or beyond ±rail_abs_uv (975 µV of the ±1000 µV range) or non-finite
    AMPLITUDE = 4  # peak-to-peak above peak_to_peak_uv (500 µV): movement or electrode pop


@dataclass(frozen=True, eq=False)
class WelchPlan:
    """Precomputed Welch basis for the bins in ``[total_hz[0], total_hz[1])``.

    ``basis`` is ``(nperseg, 2 n_bins)``: Hann × cos then Hann × sin for each bin;
    ``bin_scale`` the one-sided density factor per bin (1/Hz, applied to |X_k|²);
    ``band_of_bin`` the band index of each bin (-1 when in no band); ``df`` the bin width (Hz).
    """

    fs: float
    nperseg: int
    step: int
    freqs: np.ndarray
    basis: np.ndarray
    bin_scale: np.ndarray
    band_of_bin: np.ndarray
    n_bands: int
    df: float

    @classmethod
    def from_spec(cls, spec: FeatureSpec) -> WelchPlan:
        """The plan of ``spec``'s Welch parameters and bands."""
        edges = [(b.lo_hz, b.hi_hz) for b in spec.bands]
        lo, hi = spec.content.eeg.total_hz
        return welch_plan(spec.fs, spec.nperseg, spec.noverlap, edges, (lo, hi))


def welch_plan(
    fs: float,
    nperseg: int,
    noverlap: int,
    bands: Sequence[tuple[float, float]],
    total_hz: tuple[float, float],
) -> WelchPlan:
    """Build the DFT basis for bins ``f = k fs / nperseg`` with ``total_hz[0] <= f < total_hz[1]``.

    ``fs`` in Hz, ``nperseg``/``noverlap`` in samples, bands half-open ``[lo, hi)`` in Hz, inside
    ``total_hz`` and disjoint (a bin may belong to one band only).
    """
    if fs <= 0:
        raise InputError("fs", fs, "a sampling rate > 0 Hz")
    if nperseg < 2 or not 0 <= noverlap < nperseg:
        raise InputError("noverlap", noverlap, f"0 <= noverlap < nperseg (nperseg={nperseg})")
    df = fs / nperseg
    lo, hi = total_hz
    if not 0 < lo < hi <= fs / 2:
        raise InputError("total_hz", total_hz, f"0 < lo < hi <= {fs / 2:g} Hz (Nyquist)")
    k = np.arange(nperseg // 2 + 1)
    k = k[(k * df >= lo) & (k * df < hi)]
    freqs = k * df
    band_of_bin = np.full(k.size, -1, dtype=np.int64)
    for index, (band_lo, band_hi) in enumerate(bands):
        if band_lo < lo or band_hi > hi or band_hi <= band_lo:
            raise InputError("bands", bands, f"bands [lo, hi) with lo < hi inside {total_hz} Hz")
        inside = (freqs >= band_lo) & (freqs < band_hi)
        if np.any(band_of_bin[inside] >= 0):
            raise InputError("bands", bands, "disjoint bands (a bin would count twice)")
        band_of_bin[inside] = index
    n = np.arange(nperseg)
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / nperseg)  # periodic, as scipy's get_window
    phase = 2.0 * np.pi * ((n[:, None] * k[None, :]) % nperseg) / nperseg
    basis = np.ascontiguousarray(
        np.hstack([hann[:, None] * np.cos(phase), hann[:, None] * np.sin(phase)]), dtype=np.float64
    )
    one_sided = np.where((k == 0) | (2 * k == nperseg), 1.0, 2.0)
    bin_scale = one_sided / (fs * np.sum(hann**2))
    return WelchPlan(
        fs=float(fs),
        nperseg=int(nperseg),
        step=int(nperseg - noverlap),
        freqs=freqs.astype(np.float64),
        basis=basis,
        bin_scale=bin_scale.astype(np.float64),
        band_of_bin=band_of_bin,
        n_bands=len(bands),
        df=float(df),
    )


@jit
def _welch_bins(windows, basis, bin_scale, step):
    """Welch PSD (µV²/Hz) of the planned bins: (n_win, n_ch, n_samp) -> (n_win, n_ch, n_bins)."""
    n_win, n_ch, n_samp = windows.shape
    nperseg = basis.shape[0]
    n_bins = bin_scale.shape[0]
    n_seg = (n_samp - nperseg) // step + 1
    psd = np.zeros((n_win, n_ch, n_bins), dtype=np.float64)
    acc = np.empty(2 * n_bins, dtype=np.float64)
    for w in range(n_win):
        for c in range(n_ch):
            for s in range(n_seg):
                start = s * step
                mean = 0.0
                for i in range(nperseg):
                    mean += windows[w, c, start + i]
                mean /= nperseg
                acc[:] = 0.0
                for i in range(nperseg):
                    v = windows[w, c, start + i] - mean
                    for j in range(2 * n_bins):
                        acc[j] += v * basis[i, j]
                for b in range(n_bins):
                    psd[w, c, b] += acc[b] * acc[b] + acc[n_bins + b] * acc[n_bins + b]
            for b in range(n_bins):
                psd[w, c, b] *= bin_scale[b] / n_seg
    return psd


@jit
def _band_sums(psd, band_of_bin, n_bands, df):
    """Rectangle-rule band and total powers (µV²): Σ PSD over each band's bins × df."""
    n_win, n_ch, n_bins = psd.shape
    bands = np.zeros((n_win, n_ch, n_bands), dtype=np.float64)
    total = np.zeros((n_win, n_ch), dtype=np.float64)
    for w in range(n_win):
        for c in range(n_ch):
            for b in range(n_bins):
                total[w, c] += psd[w, c, b]
                if band_of_bin[b] >= 0:
                    bands[w, c, band_of_bin[b]] += psd[w, c, b]
            total[w, c] *= df
            for j in range(n_bands):
                bands[w, c, j] *= df
    return bands, total


@jit
def _quality_flags(windows, flat_std, rail_abs, max_ptp):
    """Quality bits per (window, channel): 1 flat, 2 railing/non-finite, 4 peak-to-peak."""
    n_win, n_ch, n_samp = windows.shape
    flags = np.zeros((n_win, n_ch), dtype=np.int64)
    for w in range(n_win):
        for c in range(n_ch):
            total = 0.0
            low = np.inf
            high = -np.inf
            railing = False
            for i in range(n_samp):
                v = windows[w, c, i]
                total += v
                low = min(low, v)
                high = max(high, v)
                if not abs(v) < rail_abs:
                    railing = True
            mean = total / n_samp
            var = 0.0
            for i in range(n_samp):
                var += (windows[w, c, i] - mean) ** 2
            if np.sqrt(var / n_samp) < flat_std:
                flags[w, c] |= 1
            if railing:
                flags[w, c] |= 2
            if high - low > max_ptp:
                flags[w, c] |= 4
    return flags


def _check_windows(windows: object, min_samples: int) -> np.ndarray:
    if not isinstance(windows, np.ndarray):
        raise InputError("windows", type(windows).__name__, "a numpy array")
    if windows.dtype != np.float64:
        raise InputError("windows.dtype", str(windows.dtype), "float64 (µV)")
    if windows.ndim != 3 or windows.shape[2] < min_samples:
        raise InputError(
            "windows.shape", windows.shape, f"(n_windows, n_channels, n_samples>={min_samples})"
        )
    if not windows.flags.c_contiguous:
        raise InputError("windows", "non-contiguous array", "a C-contiguous array")
    return windows


def eeg_bandpower(windows: np.ndarray, plan: WelchPlan) -> tuple[np.ndarray, np.ndarray]:
    """Absolute band powers and total power of EEG windows by Welch's method.

    ``windows``: float64 C-contiguous ``(n_windows, n_channels, n_samples)`` in µV.
    Returns ``(abs_power, total_power)``: ``(n_windows, n_channels, n_bands)`` and
    ``(n_windows, n_channels)``, both µV², each the sum of Welch PSD bins (µV²/Hz) with
    ``lo <= f < hi`` times the bin width ``plan.df`` (Hz). Welch 1967, doi:10.1109/TAU.1967.1161901.
    """
    _check_windows(windows, plan.nperseg)
    psd = _welch_bins(windows, plan.basis, plan.bin_scale, plan.step)
    return _band_sums(psd, plan.band_of_bin, plan.n_bands, plan.df)


def eeg_quality(windows: np.ndarray, thresholds: QualityThresholds | None = None) -> np.ndarray:
    """Quality bit flags ``(n_windows, n_channels)`` int64 of µV windows (see :class:`QualityFlag`).

    Bit 1: std < ``flat_std_uv`` (0.5 µV); bit 2: any ``|x| >= rail_abs_uv`` (975 µV, Muse
    12-bit full scale ±1000 µV, EVIDENCE 7.1) or a non-finite sample; bit 4: peak-to-peak
    > ``peak_to_peak_uv`` (500 µV). Thresholds default to the packaged spec's ``eeg.quality``.
    """
    _check_windows(windows, 1)
    q = thresholds if thresholds is not None else load_feature_spec().quality
    return _quality_flags(windows, q.flat_std_uv, q.rail_abs_uv, q.peak_to_peak_uv)
