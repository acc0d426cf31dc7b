"""Per-channel EEG quality flags: time-domain checks on a window's samples, line noise from its PSD.

Bits (:class:`QualityFlag`; thresholds in ``spec.yaml`` under ``eeg.quality``):

* ``FLAT`` (1): standard deviation below ``flat_std_uv``: electrode off or shorted;
* ``RAILING`` (2): a sample at or beyond ``±rail_abs_uv`` (the Muse ADC full scale is ±1000 µV,
  EVIDENCE 7.1) or non-finite;
* ``AMPLITUDE`` (4): peak-to-peak above ``peak_to_peak_uv``: movement or an electrode pop;
* ``LINE_NOISE`` (8): mains power (``mains_hz`` ± ``half_width_hz``) above ``max_ratio`` times
  the EEG's total power (``total_hz``): poor contact picks up mains. Computed from the window's
  Welch PSD by :mod:`._eeg_rows`;
* ``BLINK`` (16) and ``MOTION`` (32): eye blink on the frontal pair, head movement from the
  accelerometer (:mod:`.artifacts`).

A window's features are reported even when flagged; the flags travel with them and the scores
leave flagged windows out (``addiction_index.models``).
"""

from __future__ import annotations

import enum

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._jit import jit
from addiction_index.features.spec import QualityThresholds, load_feature_spec

__all__ = ["QualityFlag", "eeg_quality", "traffic_light", "window_flags"]


class QualityFlag(enum.IntFlag):
    """Per-channel quality bits of an EEG window; 0 means clean."""

    FLAT = 1
    RAILING = 2
    AMPLITUDE = 4
    LINE_NOISE = 8
    BLINK = 16
    MOTION = 32


#: Bits that mark a transient or mild problem (amber); any other bit is red.
AMBER = QualityFlag.LINE_NOISE | QualityFlag.BLINK | QualityFlag.MOTION


def traffic_light(flags: float | None) -> str:
    """``"green"`` (clean), ``"amber"`` (only line noise, blink or motion: transient or mild),
    ``"red"`` (flat, railing or excessive amplitude: no usable signal) or ``"grey"`` (no data)
    for a channel's quality flags as stored in a feature row."""
    if flags is None or flags != flags:
        return "grey"
    bits = int(flags)
    if bits == 0:
        return "green"
    return "amber" if bits & ~AMBER == 0 else "red"


@jit
def window_flags(x, start, n, flat_std, rail_abs, max_ptp, flags):
    """FLAT/RAILING/AMPLITUDE bits of rows ``start .. start + n`` of ``x`` (n_samples, n_ch),
    OR-ed into ``flags`` (n_ch,) int64 (bits 1, 2, 4 cleared first, others kept)."""
    for c in range(x.shape[1]):
        total = 0.0
        low = np.inf
        high = -np.inf
        railing = False
        for i in range(start, start + n):
            v = x[i, c]
            total += v
            low = min(low, v)
            high = max(high, v)
            if not abs(v) < rail_abs:
                railing = True
        mean = total / n
        var = 0.0
        for i in range(start, start + n):
            var += (x[i, c] - mean) ** 2
        bits = 0
        if np.sqrt(var / n) < flat_std:
            bits |= 1
        if railing:
            bits |= 2
        if high - low > max_ptp:
            bits |= 4
        flags[c] = (flags[c] & ~7) | bits


def eeg_quality(windows: np.ndarray, thresholds: QualityThresholds | None = None) -> np.ndarray:
    """Time-domain quality bits ``(n_windows, n_channels)`` int64 of µV windows
    ``(n_windows, n_channels, n_samples)`` float64: FLAT, RAILING and AMPLITUDE of
    :class:`QualityFlag`. Thresholds default to the packaged spec's ``eeg.quality``."""
    if not isinstance(windows, np.ndarray) or windows.dtype != np.float64 or windows.ndim != 3:
        shown = getattr(windows, "shape", type(windows).__name__)
        raise InputError("windows", shown, "a float64 array (n_windows, n_channels, n_samples)")
    q = thresholds if thresholds is not None else load_feature_spec().quality
    out = np.zeros(windows.shape[:2], dtype=np.int64)
    for w in range(windows.shape[0]):
        x = np.ascontiguousarray(windows[w].T)
        window_flags(x, 0, x.shape[0], q.flat_std_uv, q.rail_abs_uv, q.peak_to_peak_uv, out[w])
    return out
