"""Reference band powers from ``scipy.signal.welch``: what the numba kernels are checked against.

Used by the tests and by ``benchmarks/``; not on the live path. Same Welch settings as the spec
(Hann window, constant detrend, density scaling) and the same half-open band sums × df.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from addiction_index.features.spec import FeatureSpec

__all__ = ["scipy_bandpower"]


def scipy_bandpower(windows: np.ndarray, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Band powers (…, n_bands) and total power (…) in µV² of ``windows`` (…, n_samples) in µV."""
    f, psd = welch(
        windows,
        fs=spec.fs,
        nperseg=spec.nperseg,
        noverlap=spec.noverlap,
        window="hann",
        detrend="constant",
        scaling="density",
        axis=-1,
    )
    df = f[1] - f[0]
    bands = [psd[..., (f >= b.lo_hz) & (f < b.hi_hz)].sum(axis=-1) * df for b in spec.bands]
    lo, hi = spec.content.eeg.total_hz
    return np.stack(bands, axis=-1), psd[..., (f >= lo) & (f < hi)].sum(axis=-1) * df
