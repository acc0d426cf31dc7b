"""Feature extraction per hop (live) and over whole recordings (batch), through the same kernels.

:class:`HopFeatures` is what the live session runner calls once per hop: one EEG window as read
from a :class:`~addiction_index.signals.RingBuffer` and the RR intervals held so far. The batch
functions cut a recording into the same windows and call the same kernels and the same
assembly code, so a recording replayed hop by hop gives the batch numbers to the last bit.
Feature names, units and definitions come from the spec registry (:mod:`.spec`).
"""

from __future__ import annotations

import numpy as np

from addiction_index.errors import InputError
from addiction_index.features._eeg_hop import HopTables, batch_rows, hop_row
from addiction_index.features._eeg_rows import EegLayout
from addiction_index.features._heart_hop import HeartExtractor, heart_rows
from addiction_index.features.eeg import WelchPlan
from addiction_index.features.spec import HEART_TEMPLATES, FeatureSpec, load_feature_spec

__all__ = [
    "EegExtractor",
    "HopFeatures",
    "eeg_feature_names",
    "eeg_features_batch",
    "eeg_hop_ends",
    "heart_feature_names",
    "heart_features_batch",
]


class EegExtractor:
    """The EEG feature row of windows of one stream: the live path and the batch path.

    Holds the Welch plan, the column layout and the per-stream state (segment periodogram cache,
    scratch, the output row), all allocated here once. :meth:`row` computes the window that ends
    at an absolute sample index; windows of the same stream share their segments' periodograms.
    """

    def __init__(self, spec: FeatureSpec | None = None) -> None:
        self.spec = spec if spec is not None else load_feature_spec()
        self.plan = WelchPlan.from_spec(self.spec)
        self.layout = EegLayout.build(self.spec, self.plan)
        self.names = self.layout.names
        n_ch = len(self.spec.channels)
        self.n = self.spec.eeg_window_samples
        self.tables = HopTables(self.spec, self.plan, self.layout)
        self.flags = np.zeros(n_ch, dtype=np.int64)
        self.out = np.empty(len(self.names), dtype=np.float64)

    def clear(self) -> None:
        """Forget the cached segment spectra and block statistics (a new stream)."""
        self.tables.clear()

    def row(self, x: np.ndarray, x_offset: int, end: int, extra_flags: int = 0) -> np.ndarray:
        """Feature row (a view of :attr:`out`, overwritten by the next call) of the window of
        ``spec`` length ending at absolute index ``end``; ``x`` (n, n_channels) float64 µV,
        C-contiguous, holds absolute rows ``x_offset .. x_offset + n``. ``extra_flags`` are
        quality bits set on every channel (e.g. motion). Shapes are the caller's promise:
        :class:`HopFeatures` checks them."""
        self.flags[:] = extra_flags
        t = self.tables
        hop_row(x, x_offset, end, t.ftab, t.itab, t.cache, t.keys, t.work, self.flags, self.out)
        return self.out

    def rows(self, x: np.ndarray, ends: np.ndarray, extra_flags: np.ndarray) -> np.ndarray:
        """Feature rows (n_windows, n_features) of the windows ending at ``ends`` of ``x``."""
        rows = np.empty((ends.size, len(self.names)), dtype=np.float64)
        t = self.tables
        batch_rows(x, ends, t.ftab, t.itab, t.cache, t.keys, t.work, extra_flags, self.flags, rows)
        return rows


class HopFeatures:
    """Per-hop feature extraction for the live path (one EEG window, the RR held so far).

    ``spec`` defaults to the packaged specification. State is allocated once here; each call
    returns a small ``dict[str, float]``.
    """

    def __init__(self, spec: FeatureSpec | None = None) -> None:
        self.spec = spec if spec is not None else load_feature_spec()
        self._eeg = EegExtractor(self.spec)
        self._shape = (self.spec.eeg_window_samples, len(self.spec.channels))
        self._heart = HeartExtractor(self.spec)

    def eeg(
        self, window: np.ndarray, end_index: int | None = None, extra_flags: int = 0
    ) -> dict[str, float]:
        """EEG features of one window ``(n_samples, n_channels)`` float64 in µV, oldest first.

        ``end_index``: absolute index (in its stream) one past the window's last sample; windows
        of one stream given with their indices reuse each other's segment spectra. Without it
        the window is computed on its own. ``extra_flags``: quality bits for every channel found
        elsewhere (e.g. ``QualityFlag.MOTION`` from the accelerometer).
        """
        if not isinstance(window, np.ndarray) or window.dtype != np.float64:
            raise InputError("window", getattr(window, "dtype", type(window)), "float64 µV array")
        if window.shape != self._shape:
            raise InputError("window.shape", window.shape, f"{self._shape} (samples, channels)")
        window = np.ascontiguousarray(window)
        if end_index is None:
            self._eeg.clear()
            end_index = window.shape[0]
        row = self._eeg.row(window, end_index - window.shape[0], end_index, extra_flags)
        return dict(zip(self._eeg.names, row.tolist(), strict=True))

    def heart(self, rr_times: np.ndarray, rr_ms: np.ndarray, t_end: float) -> dict[str, float]:
        """Heart features at ``t_end`` (s): mean HR (bpm), RMSSD (ms) and beat count over the
        time window, SDNN, pNN50, LF, HF, LF/HF after the latest beat, and heart quality.

        ``rr_times`` (s) and ``rr_ms`` (ms) are the beats held so far (at least every beat not
        seen by an earlier call); NaN with an
        :class:`~addiction_index.features.hrv.InsufficientDataWarning` under the minimum.
        """
        values = self._heart.row(rr_times, rr_ms, t_end)
        return dict(zip(self._heart.names, values, strict=True))


def eeg_feature_names(spec: FeatureSpec | None = None) -> list[str]:
    """Names of the EEG features, in the order of the rows the extraction builds."""
    spec = spec if spec is not None else load_feature_spec()
    return list(EegLayout.build(spec, WelchPlan.from_spec(spec)).names)


def heart_feature_names(spec: FeatureSpec | None = None) -> list[str]:
    """Names of the heart features, in row order."""
    spec = spec if spec is not None else load_feature_spec()
    return [name for template in HEART_TEMPLATES for name in spec.names_for(template)]


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
    extractor = EegExtractor(spec)
    extra = np.zeros((ends.size, n_ch), dtype=np.int64)
    rows = extractor.rows(np.ascontiguousarray(signal), ends.astype(np.int64), extra)
    return {name: rows[:, j].copy() for j, name in enumerate(extractor.names)}


def heart_features_batch(
    rr_times: np.ndarray, rr_ms: np.ndarray, t_ends: np.ndarray, spec: FeatureSpec | None = None
) -> dict[str, np.ndarray]:
    """Heart features (see :meth:`HopFeatures.heart`) at each window end in ``t_ends`` (s)."""
    spec = spec if spec is not None else load_feature_spec()
    return heart_rows(rr_times, rr_ms, t_ends, spec)
