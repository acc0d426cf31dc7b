"""Time-domain heart rate variability of a whole RR series (batch), as NeuroKit2's ``hrv_time``.

Keys (all float, prefix ``HRV_``):

- ``HRV_MeanNN`` (ms): mean RR interval.
- ``HRV_SDNN`` (ms): standard deviation of the RR intervals, ``ddof=1`` (as NeuroKit2).
- ``HRV_RMSSD`` (ms): root mean square of successive RR differences.
- ``HRV_pNN50`` (%): successive differences with ``|ΔRR| > 50 ms``, divided by the number of RR
  intervals (Task Force 1996 and NeuroKit2 divide by the NN count, not by the count of differences).
- ``HRV_MeanHR`` (bpm): ``60000 / HRV_MeanNN`` (the same definition as the live ``hrv_window``).

Definitions: Task Force 1996, doi:10.1161/01.CIR.93.5.1043; reference implementation NeuroKit2
(Makowski et al. 2021, doi:10.3758/s13428-020-01516-y). Minimum data: RR intervals summing to
:data:`MIN_DURATION_S` = 30 s (SDNN needs >= 30 s; Munoz et al. 2015,
doi:10.1371/journal.pone.0138921, EVIDENCE 3.10). Below that every value is NaN and
:class:`~addiction_index.features.hrv.InsufficientDataWarning` is emitted. Artefact correction
(:func:`addiction_index.features.rr_artifacts.rr_correct`) happens before this.
"""

from __future__ import annotations

import warnings

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features.hrv import InsufficientDataWarning

__all__ = ["HRV_TIME_KEYS", "MIN_DURATION_S", "hrv_time"]

MIN_DURATION_S = 30.0
"""Least sum of RR intervals (s) for time-domain values (EVIDENCE 3.10)."""

HRV_TIME_KEYS = ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_MeanHR")


def _check_rr(value: object, name: str = "rr_ms") -> np.ndarray:
    """A 1-D float64 array of finite RR intervals > 0 ms, contiguous; InputError otherwise."""
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 1:
        shown = getattr(value, "dtype", type(value).__name__)
        raise InputError(name, shown, "a 1-D float64 numpy array of RR intervals (ms)")
    if not np.all(np.isfinite(value) & (value > 0)):
        raise InputError(name, "non-finite or non-positive values", "RR intervals > 0 ms")
    return np.ascontiguousarray(value)


def _too_short(rr_ms: np.ndarray, min_s: float, what: str) -> bool:
    """True (and an InsufficientDataWarning) when the RR intervals sum to less than ``min_s``."""
    total_s = float(rr_ms.sum()) / 1000.0
    if rr_ms.size < 2 or total_s < min_s:
        warnings.warn(
            f"{rr_ms.size} RR intervals span {total_s:.1f} s, less than the {min_s:g} s {what} "
            f"needs (EVIDENCE 3.10): its values are NaN",
            InsufficientDataWarning,
            stacklevel=3,
        )
        return True
    return False


def hrv_time(rr_ms: np.ndarray) -> dict[str, float]:
    """Time-domain HRV: MeanNN (ms), SDNN (ms), RMSSD (ms), pNN50 (%), MeanHR (bpm).

    ``rr_ms``: successive RR (NN) intervals in ms, 1-D float64, all finite and > 0. Returns a dict
    keyed by :data:`HRV_TIME_KEYS`; all NaN with an :class:`InsufficientDataWarning` when the
    intervals sum to less than :data:`MIN_DURATION_S` (30 s). Matches ``neurokit2.hrv_time`` on
    the same intervals to floating-point rounding. Task Force 1996, doi:10.1161/01.CIR.93.5.1043.
    """
    rr_ms = _check_rr(rr_ms)
    if _too_short(rr_ms, MIN_DURATION_S, "time-domain HRV"):
        return dict.fromkeys(HRV_TIME_KEYS, float("nan"))
    diff = np.diff(rr_ms)
    mean_nn = float(np.mean(rr_ms))
    return {
        "HRV_MeanNN": mean_nn,
        "HRV_SDNN": float(np.std(rr_ms, ddof=1)),
        "HRV_RMSSD": float(np.sqrt(np.mean(diff**2))),
        "HRV_pNN50": float(np.count_nonzero(np.abs(diff) > 50.0) / rr_ms.size * 100.0),
        "HRV_MeanHR": 60000.0 / mean_nn,
    }
