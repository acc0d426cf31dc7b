"""Heart features per hop (live) and per hop of a whole recording (batch), from RR intervals.

Two windows, both from the spec's ``heart`` section:

* a time window (``window_s``, 120 s): mean heart rate, RMSSD and the beat count of the beats in
  ``(t_end - window_s, t_end]`` (:func:`~addiction_index.features.hrv.hrv_window`);
* a beat window (``hrv_window_beats``, 300 RR): SDNN, pNN50, LF, HF and LF/HF after the latest
  beat at or before ``t_end`` (:class:`~addiction_index.features.hrv_stream.HrvStream`,
  updated once per new beat, not per hop).

``heart_quality`` bit 1 (no contact) is set when no beat came within ``max_beat_gap_s`` before
the hop: a strap that loses skin contact stops sending RR. The batch path runs the same kernels
over the whole series (:func:`~addiction_index.features.hrv_stream.hrv_per_beat`), so a
recording fed beat by beat gives the batch numbers to the last bit.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from addiction_index.features.hrv import InsufficientDataWarning, _hrv_kernel, hrv_window
from addiction_index.features.hrv_stream import HrvStream, hrv_per_beat
from addiction_index.features.spec import HEART_TEMPLATES, FeatureSpec

__all__ = ["HeartExtractor", "heart_rows"]

#: Per-beat stream outputs used, as (feature template, HrvStream key).
BEAT_FEATURES = (
    ("hrv_sdnn_ms", "HRV_SDNN"),
    ("hrv_pnn50_pct", "HRV_pNN50"),
    ("hrv_lf_ms2", "HRV_LF"),
    ("hrv_hf_ms2", "HRV_HF"),
    ("hrv_lfhf", "HRV_LFHF"),
)
_TIME_INDEX = {"HRV_SDNN": 1, "HRV_pNN50": 3}
_FREQ_INDEX = {"HRV_LF": 0, "HRV_HF": 1, "HRV_LFHF": 2}
NO_CONTACT = 1


def _no_contact(last_beat_t: float, t_end: float, max_gap_s: float) -> float:
    return float(NO_CONTACT) if not t_end - last_beat_t <= max_gap_s else 0.0


class HeartExtractor:
    """Live heart features of one RR stream; feed every beat once, in time order."""

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.names = [n for t in HEART_TEMPLATES for n in spec.names_for(t)]
        self._stream = HrvStream(spec.hrv_window_beats)
        self._t_end = np.zeros(1)
        self._fed_until = -math.inf
        self._beat_values = [math.nan] * len(BEAT_FEATURES)

    def row(self, rr_times: np.ndarray, rr_ms: np.ndarray, t_end: float) -> list[float]:
        """Values in :attr:`names` order at ``t_end`` (s) from the beats held so far (times in
        s, RR in ms, float64, non-decreasing times; must include every beat not yet fed)."""
        spec = self.spec
        self._t_end[0] = t_end
        # The live path skips hrv_window's O(n) input checks: beats come from the runner's ring,
        # already checked at decoding (finite, > 0 ms, non-decreasing times).
        rr_times, rr_ms = np.ascontiguousarray(rr_times), np.ascontiguousarray(rr_ms)
        hr, rmssd, n_beats = _hrv_kernel(
            rr_times, rr_ms, self._t_end, spec.heart_window_s, spec.heart_min_s
        )
        if rmssd[0] != rmssd[0]:
            warnings.warn(
                f"the heart window holds less than {spec.heart_min_s:g} s of beats: "
                "hr_mean_bpm and hrv_rmssd_ms are NaN",
                InsufficientDataWarning,
                stacklevel=3,
            )
        first = int(np.searchsorted(rr_times, self._fed_until, side="right"))
        stop = int(np.searchsorted(rr_times, t_end, side="right"))
        if stop > first:
            self._stream.update(np.ascontiguousarray(rr_ms[first:stop]))
            self._fed_until = float(rr_times[stop - 1])
            time, freq = self._stream.time_array(), self._stream.frequency_array()
            self._beat_values = [
                float(time[_TIME_INDEX[key]] if key in _TIME_INDEX else freq[_FREQ_INDEX[key]])
                for _, key in BEAT_FEATURES
            ]
        last = float(rr_times[stop - 1]) if stop else -math.inf
        quality = _no_contact(last, t_end, spec.content.heart.max_beat_gap_s)
        return [float(hr[0]), float(rmssd[0]), float(n_beats[0]), *self._beat_values, quality]


def heart_rows(
    rr_times: np.ndarray, rr_ms: np.ndarray, t_ends: np.ndarray, spec: FeatureSpec
) -> dict[str, np.ndarray]:
    """Heart features at every ``t_ends`` (s) of a whole RR series (the batch path)."""
    hr, rmssd, n_beats = hrv_window(rr_times, rr_ms, t_ends, spec.heart_window_s, spec.heart_min_s)
    per_beat = hrv_per_beat(rr_ms, spec.hrv_window_beats) if rr_ms.size else {}
    latest = np.searchsorted(rr_times, t_ends, side="right") - 1
    values: dict[str, np.ndarray] = {"hr_mean_bpm": hr, "hrv_rmssd_ms": rmssd}
    values["hrv_n_beats"] = n_beats.astype(np.float64)
    for template, key in BEAT_FEATURES:
        column = np.full(t_ends.size, np.nan)
        if per_beat:
            column[latest >= 0] = per_beat[key][latest[latest >= 0]]
        values[template] = column
    last = np.where(latest >= 0, rr_times[np.maximum(latest, 0)] if rr_times.size else 0, -np.inf)
    gap = spec.content.heart.max_beat_gap_s
    quality = [_no_contact(b, t, gap) for b, t in zip(last.tolist(), t_ends.tolist(), strict=True)]
    values["heart_quality"] = np.array(quality, dtype=np.float64)
    return {n: values[n] for t in HEART_TEMPLATES for n in spec.names_for(t)}
