"""Feature extraction per hop (live) and over whole recordings (batch), through the same kernels.

:class:`HopFeatures` is what the live session runner calls once per hop: one EEG window as read
from a :class:`~addiction_index.signals.RingBuffer` and the RR intervals held so far. The batch
functions cut a recording into the same windows and call the same kernels and the same
assembly code, so a recording replayed hop by hop gives the batch numbers to the last bit.
Feature names, units and definitions come from the spec registry (:mod:`.spec`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._jit import jit
from addiction_index.features.eeg import WelchPlan, eeg_bandpower, eeg_quality
from addiction_index.features.hrv import hrv_window
from addiction_index.features.spec import FeatureSpec, load_feature_spec

__all__ = [
    "HopFeatures",
    "eeg_feature_names",
    "eeg_features_batch",
    "eeg_hop_ends",
    "heart_feature_names",
    "heart_features_batch",
]

_HEART_TEMPLATES = ("hr_mean_bpm", "hrv_rmssd_ms", "hrv_n_beats")
_BATCH_BLOCK = 1024  # windows per kernel call in batch mode (bounds memory, same numbers)


@dataclass(frozen=True, eq=False)
class _EegLayout:
    """Column order and channel indices of the EEG feature rows, derived from a spec."""

    names: tuple[str, ...]
    regions: np.ndarray
    asym_band: int
    asym_left: int
    asym_right: int
    frontal: np.ndarray
    faa_column: int

    @classmethod
    def from_spec(cls, spec: FeatureSpec) -> _EegLayout:
        eeg = spec.content.eeg
        channel = {name: i for i, name in enumerate(eeg.channels)}
        names = [
            *spec.names_for("eeg_abs_{band}_{channel}"),
            *spec.names_for("eeg_rel_{band}_{channel}"),
            *spec.names_for("eeg_rel_{band}_{region}"),
            *spec.names_for("eeg_faa"),
            *spec.names_for("eeg_quality_{channel}"),
            *spec.names_for("eeg_usable_frontal"),
            *spec.names_for("eeg_usable"),
        ]
        width = max(len(chans) for chans in eeg.regions.values())
        regions = np.full((len(eeg.regions), width), -1, dtype=np.int64)
        for r, chans in enumerate(eeg.regions.values()):
            regions[r, : len(chans)] = [channel[c] for c in chans]
        return cls(
            names=tuple(names),
            regions=regions,
            asym_band=[b.name for b in eeg.bands].index(eeg.asymmetry.band),
            asym_left=channel[eeg.asymmetry.left],
            asym_right=channel[eeg.asymmetry.right],
            frontal=np.array([channel[c] for c in eeg.regions["frontal"]], dtype=np.int64),
            faa_column=names.index(spec.names_for("eeg_faa")[0]),
        )


@jit
def _assemble_rows(abs_power, total, flags, regions, frontal):
    """Feature rows in layout order; the FAA column is left NaN (filled by :func:`_eeg_rows`).

    ``regions``: (n_regions, k) channel indices padded with -1; ``frontal``: channel indices.
    Element-wise IEEE arithmetic only, so a window gives the same bits alone or in a batch.
    """
    n_win, n_ch, n_bands = abs_power.shape
    n_reg = regions.shape[0]
    rows = np.empty((n_win, 2 * n_bands * n_ch + n_bands * n_reg + n_ch + 3), dtype=np.float64)
    for w in range(n_win):
        col = 0
        for b in range(n_bands):
            for c in range(n_ch):
                rows[w, col] = abs_power[w, c, b]
                col += 1
        for b in range(n_bands):
            for c in range(n_ch):
                rows[w, col] = abs_power[w, c, b] / total[w, c]
                col += 1
        for b in range(n_bands):
            for r in range(n_reg):
                acc, count, clean = 0.0, 0, True
                for c in regions[r]:
                    if c >= 0:
                        acc += abs_power[w, c, b] / total[w, c]
                        count += 1
                        clean = clean and flags[w, c] == 0
                rows[w, col] = acc / count if clean else np.nan
                col += 1
        rows[w, col] = np.nan  # eeg_faa
        col += 1
        for c in range(n_ch):
            rows[w, col] = flags[w, c]
            col += 1
        rows[w, col] = 1.0 if np.all(flags[w, frontal] == 0) else 0.0
        rows[w, col + 1] = 1.0 if np.all(flags[w] == 0) else 0.0
    return rows


def _ln_ratio(right: float, left: float) -> float:
    """ln(right) - ln(left) with math.log (the same libm call live and batch), NaN if <= 0."""
    if right > 0 and left > 0:
        return math.log(right) - math.log(left)
    return math.nan


def _eeg_rows(
    abs_power: np.ndarray, total: np.ndarray, flags: np.ndarray, layout: _EegLayout
) -> np.ndarray:
    """Assemble ``(n_windows, n_features)`` rows in ``layout.names`` order."""
    rows = _assemble_rows(abs_power, total, flags, layout.regions, layout.frontal)
    band, left, right = layout.asym_band, layout.asym_left, layout.asym_right
    clean = (flags[:, left] == 0) & (flags[:, right] == 0)
    right_alpha = abs_power[:, right, band].tolist()
    left_alpha = abs_power[:, left, band].tolist()
    for w in np.flatnonzero(clean).tolist():
        rows[w, layout.faa_column] = _ln_ratio(right_alpha[w], left_alpha[w])
    return rows


class HopFeatures:
    """Per-hop feature extraction for the live path (one EEG window, the RR held so far).

    ``spec`` defaults to the packaged specification. The ``(1, n_channels, n_samples)`` scratch
    window is allocated once here; each call returns a small ``dict[str, float]``.
    """

    def __init__(self, spec: FeatureSpec | None = None) -> None:
        self.spec = spec if spec is not None else load_feature_spec()
        self._plan = WelchPlan.from_spec(self.spec)
        self._layout = _EegLayout.from_spec(self.spec)
        self._shape = (self.spec.eeg_window_samples, len(self.spec.channels))
        self._scratch = np.zeros((1, self._shape[1], self._shape[0]), dtype=np.float64)
        self._t_end = np.zeros(1, dtype=np.float64)
        self._heart_names = heart_feature_names(self.spec)

    def eeg(self, window: np.ndarray) -> dict[str, float]:
        """EEG features of one window ``(n_samples, n_channels)`` float64 in µV, oldest first."""
        if not isinstance(window, np.ndarray) or window.dtype != np.float64:
            raise InputError("window", getattr(window, "dtype", type(window)), "float64 µV array")
        if window.shape != self._shape:
            raise InputError("window.shape", window.shape, f"{self._shape} (samples, channels)")
        self._scratch[0] = window.T
        abs_power, total = eeg_bandpower(self._scratch, self._plan)
        flags = eeg_quality(self._scratch, self.spec.quality)
        row = _eeg_rows(abs_power, total, flags, self._layout)[0]
        return dict(zip(self._layout.names, row.tolist(), strict=True))

    def heart(self, rr_times: np.ndarray, rr_ms: np.ndarray, t_end: float) -> dict[str, float]:
        """Mean HR (bpm), RMSSD (ms) and beat count over the heart window ending at ``t_end`` (s).

        ``rr_times`` (s) and ``rr_ms`` (ms) are the beats held so far; NaN with an
        :class:`~addiction_index.features.hrv.InsufficientDataWarning` under the minimum.
        """
        self._t_end[0] = t_end
        hr, rmssd, n_beats = hrv_window(
            rr_times, rr_ms, self._t_end, self.spec.heart_window_s, self.spec.heart_min_s
        )
        values = (float(hr[0]), float(rmssd[0]), float(n_beats[0]))
        return dict(zip(self._heart_names, values, strict=True))


def eeg_feature_names(spec: FeatureSpec | None = None) -> list[str]:
    """Names of the EEG features, in the order of the rows the extraction builds."""
    return list(_EegLayout.from_spec(spec if spec is not None else load_feature_spec()).names)


def heart_feature_names(spec: FeatureSpec | None = None) -> list[str]:
    """Names of the heart features (mean HR, RMSSD, beat count)."""
    spec = spec if spec is not None else load_feature_spec()
    return [name for template in _HEART_TEMPLATES for name in spec.names_for(template)]


def eeg_hop_ends(n_samples: int, spec: FeatureSpec | None = None) -> np.ndarray:
    """End indices (exclusive, samples) of every full window, one per hop, as the live runner."""
    spec = spec if spec is not None else load_feature_spec()
    return np.arange(spec.eeg_window_samples, n_samples + 1, spec.eeg_hop_samples, dtype=np.int64)


def eeg_features_batch(
    signal: np.ndarray, hop_end_indices: np.ndarray, spec: FeatureSpec | None = None
) -> dict[str, np.ndarray]:
    """EEG features of a whole recording ``signal`` ``(n_samples, n_channels)`` float64 µV.

    ``hop_end_indices``: exclusive end sample of each window (e.g. :func:`eeg_hop_ends`).
    Returns one float64 array per feature name, of length ``len(hop_end_indices)``.
    """
    spec = spec if spec is not None else load_feature_spec()
    n_samp, n_ch = spec.eeg_window_samples, len(spec.channels)
    if not isinstance(signal, np.ndarray) or signal.dtype != np.float64 or signal.ndim != 2:
        raise InputError("signal", getattr(signal, "dtype", type(signal)), "2-D float64 µV array")
    if signal.shape[1] != n_ch:
        raise InputError("signal.shape", signal.shape, f"(n_samples, {n_ch}) for {spec.channels}")
    ends = np.asarray(hop_end_indices)
    if ends.ndim != 1 or (ends.size and not np.issubdtype(ends.dtype, np.integer)):
        raise InputError("hop_end_indices", ends.dtype, "a 1-D integer array")
    if ends.size and (ends.min() < n_samp or ends.max() > signal.shape[0]):
        raise InputError(
            "hop_end_indices", (ends.min(), ends.max()), f"ends in [{n_samp}, {signal.shape[0]}]"
        )
    plan, layout = WelchPlan.from_spec(spec), _EegLayout.from_spec(spec)
    rows = np.empty((ends.size, len(layout.names)), dtype=np.float64)
    offsets = np.arange(-n_samp, 0)
    for start in range(0, ends.size, _BATCH_BLOCK):
        block = ends[start : start + _BATCH_BLOCK]
        windows = np.ascontiguousarray(signal[block[:, None] + offsets].transpose(0, 2, 1))
        abs_power, total = eeg_bandpower(windows, plan)
        flags = eeg_quality(windows, spec.quality)
        rows[start : start + block.size] = _eeg_rows(abs_power, total, flags, layout)
    return {name: rows[:, j].copy() for j, name in enumerate(layout.names)}


def heart_features_batch(
    rr_times: np.ndarray, rr_ms: np.ndarray, t_ends: np.ndarray, spec: FeatureSpec | None = None
) -> dict[str, np.ndarray]:
    """Mean HR (bpm), RMSSD (ms) and beat count for each window end in ``t_ends`` (s)."""
    spec = spec if spec is not None else load_feature_spec()
    hr, rmssd, n_beats = hrv_window(rr_times, rr_ms, t_ends, spec.heart_window_s, spec.heart_min_s)
    values = (hr, rmssd, n_beats.astype(np.float64))
    return dict(zip(heart_feature_names(spec), values, strict=True))
