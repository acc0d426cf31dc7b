"""Heart rate and RMSSD over a sliding window of RR intervals (numba kernel, online = batch of one).

For each window end ``t_end`` (s) the window holds the beats with ``t_end - window_s < t <= t_end``
(``t`` = time of the beat closing each RR interval, host seconds). When those beats cover less
than ``min_s`` seconds (sum of their RR intervals / 1000 < ``min_s``; 30 s by default, Munoz et al.
2015, doi:10.1371/journal.pone.0138921, EVIDENCE 3.10) the heart rate and RMSSD are NaN and
:class:`InsufficientDataWarning` is emitted: never a silent number from too little data.

Mean heart rate = 60000 / mean(RR) (bpm); RMSSD = sqrt(mean(diff(RR)²)) (ms), Task Force 1996,
doi:10.1161/01.CIR.93.5.1043. RR artefact correction happens upstream.
"""

from __future__ import annotations

import warnings

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._jit import jit

__all__ = ["InsufficientDataWarning", "hrv_window"]


class InsufficientDataWarning(UserWarning):
    """A feature window held too little data; its value is NaN (threshold in the message)."""


@jit
def _hrv_kernel(rr_times, rr_ms, t_ends, window_s, min_s):
    """Per window end: (mean HR bpm, RMSSD ms, beats) over beats in (t_end - window_s, t_end]."""
    n_out = t_ends.shape[0]
    hr = np.full(n_out, np.nan, dtype=np.float64)
    rmssd = np.full(n_out, np.nan, dtype=np.float64)
    n_beats = np.zeros(n_out, dtype=np.int64)
    for k in range(n_out):
        first = np.searchsorted(rr_times, t_ends[k] - window_s, side="right")
        stop = np.searchsorted(rr_times, t_ends[k], side="right")
        n = stop - first
        n_beats[k] = n
        total = 0.0
        for i in range(first, stop):
            total += rr_ms[i]
        if n < 2 or total / 1000.0 < min_s:
            continue
        hr[k] = 60000.0 / (total / n)
        squares = 0.0
        for i in range(first + 1, stop):
            squares += (rr_ms[i] - rr_ms[i - 1]) ** 2
        rmssd[k] = np.sqrt(squares / (n - 1))
    return hr, rmssd, n_beats


def _check_1d(name: str, value: object) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 1:
        shown = getattr(value, "dtype", type(value).__name__)
        raise InputError(name, shown, "a 1-D float64 numpy array")
    return np.ascontiguousarray(value)


def hrv_window(
    rr_times: np.ndarray,
    rr_ms: np.ndarray,
    t_ends: np.ndarray,
    window_s: float,
    min_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean heart rate (bpm), RMSSD (ms) and beat count for each window end.

    ``rr_times``: beat times (s, non-decreasing), ``rr_ms``: the RR interval ending at each beat
    (ms), ``t_ends``: window ends (s); ``window_s``: window length (s, 120 in the spec);
    ``min_s``: least RR time (s, 30 in the spec) for a value. Returns three arrays of
    ``len(t_ends)``: ``hr_mean_bpm`` and ``rmssd_ms`` (float64, NaN with an
    :class:`InsufficientDataWarning` where the beats span less than ``min_s`` or fewer than two
    beats are held) and ``n_beats`` (int64). Task Force 1996, doi:10.1161/01.CIR.93.5.1043.
    """
    rr_times = _check_1d("rr_times", rr_times)
    rr_ms = _check_1d("rr_ms", rr_ms)
    t_ends = _check_1d("t_ends", t_ends)
    if rr_ms.shape != rr_times.shape:
        raise InputError("rr_ms.shape", rr_ms.shape, f"the shape of rr_times {rr_times.shape}")
    if not np.all(np.isfinite(rr_ms) & (rr_ms > 0)):
        raise InputError("rr_ms", "non-finite or non-positive values", "RR intervals > 0 ms")
    if rr_times.size > 1 and not np.all(np.diff(rr_times) >= 0):
        raise InputError("rr_times", "not sorted", "non-decreasing beat times (s)")
    if not window_s > 0:
        raise InputError("window_s", window_s, "a window length > 0 s")
    if not 0 <= min_s <= window_s:
        raise InputError("min_s", min_s, f"0 <= min_s <= window_s ({window_s} s)")
    hr, rmssd, n_beats = _hrv_kernel(rr_times, rr_ms, t_ends, float(window_s), float(min_s))
    short = int(np.count_nonzero(np.isnan(rmssd)))
    if short:
        warnings.warn(
            f"{short} of {t_ends.size} heart windows hold less than {min_s:g} s of beats "
            f"(or fewer than 2 beats): hr_mean_bpm and hrv_rmssd_ms are NaN there",
            InsufficientDataWarning,
            stacklevel=2,
        )
    return hr, rmssd, n_beats
