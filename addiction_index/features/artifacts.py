"""Artefact detectors per window: eye blinks on frontal EEG, head motion from the accelerometer.

Both take a stack of windows and return one value per window; the live path is the batch of one
window (the same numba kernel, so the same bits), as in :mod:`addiction_index.features.eeg`.

Eye blinks (:func:`blink_counts`, :func:`blink_flags`). A blink moves the eyelid over the
positively charged cornea; frontal electrodes see a positive, slow (200-400 ms), 100-400 µV
deflection, the same on both sides (an artefact on one side only is not a blink). The method is
an amplitude threshold with a minimum duration on a low-passed frontal signal, as BLINKER's
candidate step (Kleifges et al. 2017, doi:10.3389/fnins.2017.00012) and MNE's
``find_eog_events`` (1-10 Hz band, amplitude threshold), adapted to short windows:

1. Derivations: each frontal channel minus each reference channel (``reference`` given), or the
   frontal channels as recorded (``reference=None``). On the Muse the recording reference is at
   Fpz, in the middle of the forehead (Krigolson et al. 2017, doi:10.3389/fnins.2017.00109), so
   a blink sits in the reference itself: in the public muse-lsl recordings it appears as a
   -300..-500 µV deflection identical on TP9 and TP10 and only +30..+170 µV on AF7/AF8. Passing
   ``frontal=(AF7, AF8), reference=(TP9, TP10)`` re-references the frontal sites to each mastoid
   (AF7-TP9, AF7-TP10, AF8-TP9, AF8-TP10), where blinks are +300..+600 µV and positive-going.
2. Low-pass: moving average over ``smooth_ms`` (50 ms: 12 samples at 256 Hz, a multiple of the
   evaluation step; -3 dB at ~9 Hz, first zero at 21 Hz), "valid" part only, so nothing crosses
   the window edge, evaluated every 4 samples (about 64 Hz, :func:`blink_steps`: a 200-400 ms
   blink spans 13-26 positions), which quarters the work of the per-hop check.
3. Baseline: the mean of each smoothed derivation in the window (a 400 µV, 300 ms blink moves a
   2 s window's mean by 60 µV, leaving 340 µV above it); the deflection is the smoothed signal
   minus it (µV). The mean, unlike a median, costs one pass, so the live path can afford it at
   every hop (:func:`window_blinks`).
4. A blink is a run of at least ``min_duration_ms`` (50 ms, 3 positions) in which the
   deflection exceeds ``threshold_uv`` (100 µV) on EVERY derivation at once (symmetry: one-sided
   electrode pops or a pop on one mastoid do not fire). The count is the number of such runs
   in the window.

``threshold_uv = 100`` µV: blinks are 100-400 µV at frontal sites and at least ~300 µV in the
Muse's frontal-minus-mastoid derivations, while 1-8 Hz EEG rarely exceeds ±50 µV; a 300 ms,
150 µV blink is above 100 µV for ~120 ms, well over ``min_duration_ms``.

Motion (:func:`motion_level`, :func:`motion_flags`). Accelerometer windows ``(n_windows, 3,
n_samples)`` in g (Muse: 52 Hz; Polar H10: 25-200 Hz). The motion level is the total standard
deviation of the acceleration vector, ``sqrt(var_x + var_y + var_z)`` (g, population variances
over the window): 0 at rest whatever the orientation (gravity is constant), invariant to how the
sensor sits on the head (trace of the covariance), and it counts both translation and rotation
(tilting the head by θ moves ~sin θ g of gravity between axes). The standard deviation of the
magnitude ``|a|`` (the basis of ENMO, van Hees et al. 2013, doi:10.1371/journal.pone.0061691)
misses rotations, since gravity keeps ``|a| = 1`` g; van Hees et al. 2015
(doi:10.1371/journal.pone.0142533) likewise use changes of sensor angle as movement.
``threshold_g = 0.03`` g: at rest the level is the sensor noise (≤ 0.005 g per axis, ≤ 0.009 g
vector); 0.03 g is a sinusoidal tilt of ~2.4° amplitude, or a slow 5° head turn within a 2 s
window, already enough to shift dry electrodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._jit import jit

__all__ = [
    "blink_counts",
    "blink_flags",
    "blink_steps",
    "motion_flags",
    "motion_level",
    "window_blinks",
]

BLINK_THRESHOLD_UV = 100.0
BLINK_SMOOTH_MS = 50.0
BLINK_MIN_DURATION_MS = 50.0
MOTION_THRESHOLD_G = 0.03


@jit
def _smoothed_pair(x, start, n, a, b, smooth_len, step, sa, sb):
    """Means of channels ``a`` and ``b`` over ``smooth_len`` samples, evaluated every ``step``
    samples (the last window ending at the window's end) into ``sa``/``sb``; returns their
    window means. ``smooth_len`` is a multiple of ``step``; the running sums advance ``step``
    samples at a time, two independent chains (``b < 0``: channel ``a`` only)."""
    n_pos = (n - smooth_len) // step + 1
    first = start + (n - smooth_len) % step
    inv = 1.0 / smooth_len
    ta, tb = 0.0, 0.0
    for j in range(smooth_len):
        ta += x[first + j, a]
        if b >= 0:
            tb += x[first + j, b]
    sa[0], sb[0] = ta * inv, tb * inv
    ma, mb = sa[0], sb[0]
    for i in range(1, n_pos):
        old = first + (i - 1) * step
        new = old + smooth_len
        da, db = 0.0, 0.0
        for j in range(step):
            da += x[new + j, a] - x[old + j, a]
            if b >= 0:
                db += x[new + j, b] - x[old + j, b]
        ta += da
        tb += db
        sa[i], sb[i] = ta * inv, tb * inv
        ma += sa[i]
        mb += sb[i]
    return ma / n_pos, mb / n_pos


@jit
def _fold(x, start, n, channels, smooth_len, step, s1, s2, acc, lowest):
    """min (``lowest``) or max over ``channels`` of (smoothed - window mean), into ``acc``."""
    n_pos = (n - smooth_len) // step + 1
    for p in range(0, channels.shape[0], 2):
        b = channels[p + 1] if p + 1 < channels.shape[0] else -1
        ma, mb = _smoothed_pair(x, start, n, channels[p], b, smooth_len, step, s1, s2)
        for i in range(n_pos):
            va = s1[i] - ma
            acc[i] = min(acc[i], va) if lowest else max(acc[i], va)
            if b >= 0:
                vb = s2[i] - mb
                acc[i] = min(acc[i], vb) if lowest else max(acc[i], vb)


@jit
def window_blinks(x, start, n, frontal, reference, smooth_len, step, threshold, min_len, scratch):
    """Blink runs in rows ``start .. start + n`` of ``x`` (n_samples, n_channels) µV.

    A position (every ``step`` samples) is in a blink when every derivation frontal -
    reference, smoothed over ``smooth_len`` samples and minus its window mean, exceeds
    ``threshold``: min over frontal channels of (smoothed - mean) minus max over reference
    channels of (smoothed - mean) > threshold (the same test as per derivation, with one running
    mean per channel). A blink is a run of ``min_len`` positions. ``scratch``: >= 4 n floats
    (no allocation: the live path calls this once per hop).
    """
    n_pos = (n - smooth_len) // step + 1
    s1, s2 = scratch[:n_pos], scratch[n_pos : 2 * n_pos]
    low, high = scratch[2 * n_pos : 3 * n_pos], scratch[3 * n_pos : 4 * n_pos]
    for i in range(n_pos):
        low[i] = np.inf
        high[i] = 0.0 if reference.shape[0] == 0 else -np.inf
    _fold(x, start, n, frontal, smooth_len, step, s1, s2, low, True)
    _fold(x, start, n, reference, smooth_len, step, s1, s2, high, False)
    count, run = 0, 0
    for i in range(n_pos):
        if low[i] - high[i] > threshold:
            run += 1
            if run == min_len:
                count += 1
        else:
            run = 0
    return count


def blink_steps(fs: float, smooth_ms: float, min_duration_ms: float) -> tuple[int, int, int]:
    """``(smooth_len, step, min_len)``: the smoothing in samples (a multiple of ``step``), the
    evaluation step in samples (about 64 Hz: blinks last 200-400 ms) and the minimum run in
    steps, for a rate ``fs`` (Hz)."""
    step = max(1, int(fs // 64))
    smooth_len = step * max(1, round(_samples("smooth_ms", smooth_ms, fs) / step))
    min_len = max(1, round(_samples("min_duration_ms", min_duration_ms, fs) / step))
    return smooth_len, step, min_len


@jit
def _blink_counts(windows, frontal, reference, smooth_len, step, threshold, min_len):
    """Blink runs per window: (n_win, n_samp, n_ch) -> (n_win,) int64 (see module docstring)."""
    n_win, n_samp = windows.shape[0], windows.shape[1]
    counts = np.zeros(n_win, dtype=np.int64)
    scratch = np.empty(4 * n_samp, dtype=np.float64)
    for w in range(n_win):
        counts[w] = window_blinks(
            windows[w], 0, n_samp, frontal, reference, smooth_len, step, threshold, min_len, scratch
        )
    return counts


@jit
def _motion_level(acc):
    """Total std of the acceleration vector (g): (n_win, n_axes, n_samp) -> (n_win,)."""
    n_win, n_ax, n_samp = acc.shape
    level = np.zeros(n_win, dtype=np.float64)
    for w in range(n_win):
        total_var = 0.0
        for a in range(n_ax):
            mean = 0.0
            for i in range(n_samp):
                mean += acc[w, a, i]
            mean /= n_samp
            var = 0.0
            for i in range(n_samp):
                var += (acc[w, a, i] - mean) ** 2
            total_var += var / n_samp
        level[w] = np.sqrt(total_var)
    return level


def _check_stack(x: object, name: str, unit: str, n_channels: int | None = None) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise InputError(name, type(x).__name__, "a numpy array")
    if x.dtype != np.float64:
        raise InputError(f"{name}.dtype", str(x.dtype), f"float64 ({unit})")
    channels = "n_channels" if n_channels is None else str(n_channels)
    if x.ndim != 3 or x.shape[2] < 1 or (n_channels is not None and x.shape[1] != n_channels):
        raise InputError(f"{name}.shape", x.shape, f"(n_windows, {channels}, n_samples >= 1)")
    if not x.flags.c_contiguous:
        raise InputError(name, "non-contiguous array", "a C-contiguous array")
    return x


def _check_indices(name: str, indices: object, n_channels: int) -> np.ndarray:
    index = np.asarray(indices)
    if (
        index.ndim != 1
        or index.size < 1
        or not np.issubdtype(index.dtype, np.integer)
        or np.any(index < 0)
        or np.any(index >= n_channels)
        or np.unique(index).size != index.size
    ):
        raise InputError(name, indices, f"distinct channel indices in [0, {n_channels})")
    return index.astype(np.int64)


def _samples(name: str, ms: float, fs: float) -> int:
    if not ms > 0:
        raise InputError(name, ms, "a duration > 0 ms")
    return max(1, round(ms * fs / 1000.0))


def blink_counts(
    windows: np.ndarray,
    frontal: Sequence[int] | np.ndarray,
    fs: float,
    threshold_uv: float = BLINK_THRESHOLD_UV,
    reference: Sequence[int] | np.ndarray | None = None,
    smooth_ms: float = BLINK_SMOOTH_MS,
    min_duration_ms: float = BLINK_MIN_DURATION_MS,
) -> np.ndarray:
    """Number of blinks (int64, ``(n_windows,)``) in EEG windows ``(n_windows, n_channels, n)`` µV.

    ``frontal``: channel indices of the frontal sites (Muse: ``(1, 2)`` = AF7, AF8);
    ``reference``: optional indices to re-reference them to (Muse: ``(0, 3)`` = TP9, TP10; see
    the module docstring for why the Muse needs it); ``fs`` in Hz. A blink cut by the window edge
    counts when at least ``min_duration_ms`` of it lies inside.
    """
    _check_stack(windows, "windows", "µV")
    n_channels, n_samples = windows.shape[1], windows.shape[2]
    if not np.isfinite(fs) or fs <= 0:
        raise InputError("fs", fs, "a sampling rate > 0 Hz")
    if not threshold_uv > 0:
        raise InputError("threshold_uv", threshold_uv, "a deflection > 0 µV")
    front = _check_indices("frontal", frontal, n_channels)
    if reference is None:
        ref = np.zeros(0, dtype=np.int64)
    else:
        ref = _check_indices("reference", reference, n_channels)
        if np.intersect1d(front, ref).size:
            raise InputError("reference", reference, "channels other than the frontal ones")
    smooth_len, step, min_len = blink_steps(fs, smooth_ms, min_duration_ms)
    if n_samples < smooth_len + (min_len - 1) * step:
        need = smooth_len + (min_len - 1) * step
        raise InputError("windows.shape", windows.shape, f"n_samples >= {need} at fs={fs:g} Hz")
    return _blink_counts(
        np.ascontiguousarray(windows.transpose(0, 2, 1)),
        np.ascontiguousarray(front),
        np.ascontiguousarray(ref),
        smooth_len,
        step,
        float(threshold_uv),
        min_len,
    )


def blink_flags(
    windows: np.ndarray,
    frontal: Sequence[int] | np.ndarray,
    fs: float,
    threshold_uv: float = BLINK_THRESHOLD_UV,
    reference: Sequence[int] | np.ndarray | None = None,
    smooth_ms: float = BLINK_SMOOTH_MS,
    min_duration_ms: float = BLINK_MIN_DURATION_MS,
) -> np.ndarray:
    """``(n_windows,)`` bool: at least one blink in the window (:func:`blink_counts` > 0)."""
    counts = blink_counts(windows, frontal, fs, threshold_uv, reference, smooth_ms, min_duration_ms)
    return counts > 0


def motion_level(acc_windows: np.ndarray) -> np.ndarray:
    """``(n_windows,)`` float64 g: ``sqrt(var_x + var_y + var_z)`` of ``(n_windows, 3, n)`` g."""
    _check_stack(acc_windows, "acc_windows", "g", n_channels=3)
    return _motion_level(acc_windows)


def motion_flags(acc_windows: np.ndarray, threshold_g: float = MOTION_THRESHOLD_G) -> np.ndarray:
    """``(n_windows,)`` bool: :func:`motion_level` above ``threshold_g`` (0.03 g, see module)."""
    if not threshold_g > 0:
        raise InputError("threshold_g", threshold_g, "a level > 0 g")
    return motion_level(acc_windows) > threshold_g
