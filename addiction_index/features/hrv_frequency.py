"""Frequency-domain heart rate variability of a whole RR series (batch), as NeuroKit2's default.

Method (NeuroKit2 ``hrv_frequency`` with ``psd_method="welch"``, read from its source and kept
step for step so that values agree):

1. Beat times ``t = cumsum(RR) / 1000`` (s); the RR series (ms) is interpolated on the grid
   ``arange(t[0], t[-1] + 1/fs, 1/fs)`` with a quadratic spline (``scipy`` ``interp1d``
   ``kind="quadratic"``, i.e. ``make_interp_spline(k=2)``), holding the end values outside.
2. The mean is removed; ``N`` samples give ``min_frequency = 2 fs / (N / 2)`` (Hz) and a Welch
   segment of ``nperseg = int(2 / min_frequency * fs)`` samples (at most ``N / 2``), Hann window,
   50 % overlap, ``nfft = 2 nperseg``, no detrending, density scaling (ms²/Hz), mean average.
3. Bins with ``min_frequency <= f <= 0.5 Hz`` are kept; the power of a band ``[lo, hi)`` (half-open)
   is the trapezoid integral (ms²) over the bins inside it, NaN when that is exactly 0 (no bins).

Bands (Hz, :data:`HRV_BANDS_HZ`, defined once here): ULF [0, 0.0033), VLF [0.0033, 0.04),
LF [0.04, 0.15), HF [0.15, 0.40) (Task Force 1996, doi:10.1161/01.CIR.93.5.1043, EVIDENCE 3.8),
VHF [0.40, 0.50). Keys (prefix ``HRV_``): ``HRV_LF``, ``HRV_HF``, ``HRV_TP`` (ms²);
``HRV_LFHF`` = LF / HF; ``HRV_LFn`` = LF / TP, ``HRV_HFn`` = HF / TP (fractions, as NeuroKit2).
``HRV_TP`` is NeuroKit2's total: the NaN-ignoring sum of ULF + VLF + LF + HF + VHF (up to 0.5 Hz).
NB: ``HRV_LFn``/``HRV_HFn`` are NOT Task Force normalised units (LF / (TP - VLF) x 100); do not
compare them with the n.u. norms of EVIDENCE 3.7/3.8.

Minimum data: RR intervals summing to :data:`MIN_DURATION_S` = 120 s (no LF/HF under ~2 min,
Munoz et al. 2015, doi:10.1371/journal.pone.0138921, EVIDENCE 3.10); below that every value is
NaN and :class:`~addiction_index.features.hrv.InsufficientDataWarning` is emitted. Welch:
doi:10.1109/TAU.1967.1161901. Reference: NeuroKit2, doi:10.3758/s13428-020-01516-y.
"""

from __future__ import annotations

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features.hrv_time import _check_rr, _too_short

__all__ = ["HRV_BANDS_HZ", "HRV_FREQUENCY_KEYS", "MIN_DURATION_S", "hrv_frequency"]

MIN_DURATION_S = 120.0
"""Least sum of RR intervals (s) for frequency-domain values (EVIDENCE 3.10)."""

HRV_BANDS_HZ: dict[str, tuple[float, float]] = {
    "ULF": (0.0, 0.0033),
    "VLF": (0.0033, 0.04),
    "LF": (0.04, 0.15),
    "HF": (0.15, 0.4),
    "VHF": (0.4, 0.5),
}
"""Half-open bands ``[lo, hi)`` in Hz; LF and HF as Task Force 1996 (EVIDENCE 3.8)."""

HRV_FREQUENCY_KEYS = ("HRV_LF", "HRV_HF", "HRV_LFHF", "HRV_LFn", "HRV_HFn", "HRV_TP")


def rr_resample(rr_ms: np.ndarray, rate_hz: float) -> np.ndarray:
    """RR intervals (ms) resampled at ``rate_hz`` (Hz) from the first to the last beat (step 1)."""
    import scipy.interpolate  # batch path only: keeps the live path's start-up light

    t = np.cumsum(rr_ms / 1000.0)
    grid = np.arange(t[0], t[-1] + 1.0 / rate_hz, 1.0 / rate_hz)
    spline = scipy.interpolate.make_interp_spline(t, rr_ms, k=2, check_finite=False)
    out = spline(grid)
    out[grid < t[0]] = rr_ms[0]
    out[grid > t[-1]] = rr_ms[-1]
    return out


def rr_psd(rr_ms: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of the resampled RR series (step 2-3): frequencies (Hz) and density (ms²/Hz)."""
    import scipy.signal

    x = rr_resample(rr_ms, rate_hz)
    x = x - np.mean(x)
    n = x.size
    min_frequency = (2.0 * rate_hz) / (n / 2.0)
    nperseg = int((2.0 / min_frequency) * rate_hz)
    if nperseg > n / 2:
        nperseg = int(n / 2)
    freqs, power = scipy.signal.welch(
        x,
        fs=rate_hz,
        window="hann",
        nperseg=nperseg,
        nfft=2 * nperseg,
        detrend=False,
        scaling="density",
        average="mean",
    )
    top = max(hi for _, hi in HRV_BANDS_HZ.values())
    keep = (freqs >= min_frequency) & (freqs <= top)
    return freqs[keep], power[keep]


def band_masks(freqs: np.ndarray) -> dict[str, np.ndarray]:
    """For each band of :data:`HRV_BANDS_HZ`, the bins with ``lo <= f < hi`` (half-open)."""
    return {name: (freqs >= lo) & (freqs < hi) for name, (lo, hi) in HRV_BANDS_HZ.items()}


def hrv_frequency(rr_ms: np.ndarray, *, interpolation_rate: float = 4.0) -> dict[str, float]:
    """Frequency-domain HRV: LF, HF and total power (ms²), LF/HF, LFn and HFn (fractions of TP).

    ``rr_ms``: successive RR intervals in ms (1-D float64, finite, > 0); ``interpolation_rate``:
    resampling rate in Hz (4 Hz default; pass the same ``interpolation_rate`` to
    ``neurokit2.hrv_frequency`` with ``normalize=False`` to reproduce these values). Returns a dict
    keyed by :data:`HRV_FREQUENCY_KEYS`; all NaN with an :class:`InsufficientDataWarning` when the
    intervals sum to less than :data:`MIN_DURATION_S` (120 s). Method and bands in the module
    docstring; Task Force 1996, doi:10.1161/01.CIR.93.5.1043.
    """
    rr_ms = _check_rr(rr_ms)
    if not (np.isfinite(interpolation_rate) and interpolation_rate >= 1.0):
        raise InputError("interpolation_rate", interpolation_rate, "a rate >= 1 Hz")
    if _too_short(rr_ms, MIN_DURATION_S, "frequency-domain HRV"):
        return dict.fromkeys(HRV_FREQUENCY_KEYS, float("nan"))
    import scipy.integrate

    freqs, power = rr_psd(rr_ms, float(interpolation_rate))
    bands = {}
    for name, mask in band_masks(freqs).items():
        value = float(scipy.integrate.trapezoid(power[mask], freqs[mask])) if np.any(mask) else 0.0
        bands[name] = float("nan") if value == 0.0 else value
    total = float(np.nansum(list(bands.values())))
    lf, hf = bands["LF"], bands["HF"]
    return {
        "HRV_LF": lf,
        "HRV_HF": hf,
        "HRV_LFHF": lf / hf,
        "HRV_LFn": lf / total,
        "HRV_HFn": hf / total,
        "HRV_TP": total,
    }
