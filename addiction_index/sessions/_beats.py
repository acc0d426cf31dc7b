"""Heart beats from a waveform when no strap sends RR: R-peaks of an ECG, or pulse peaks of a PPG.

A Polar H10 streaming raw ECG, an ECG over LSL, or a headband's PPG gives a heart stream without
RR values; :class:`BeatsFromWaveform` runs the streaming peak detector
(:class:`~addiction_index.features.ecg_peaks.EcgPeakStream`, NeuroKit2's method, or
:class:`~addiction_index.features.ppg_peaks.PpgPeakStream`, Elgendi et al. 2013) on each chunk
and turns confirmed peaks into an RR stream: the time of each beat is its sample's timestamp,
its RR the time since the previous beat (ms). An interval longer than :data:`MAX_RR_S` (a
dropout: the timestamps jump; a lost electrode) is a gap, not an RR. Beats come a constant
latency after the peak (the detector's, about 0.44 s for ECG at 130 Hz).
"""

from __future__ import annotations

import numpy as np

from addiction_index.errors import InputError
from addiction_index.signals.streams import Chunk, StreamInfo, StreamKind

__all__ = ["MAX_RR_S", "BeatsFromWaveform"]

MAX_RR_S = 3.0
"""Longest RR kept (s); 3000 ms is also the RR filter of the strap readers (20 bpm)."""

_HISTORY_S = 8.0  # timestamps kept to date confirmed peaks (>> detector latency)
_PPG_CHANNELS = ("ir", "ppg2", "infrared")  # the pulse channel of a multi-wavelength PPG


class BeatsFromWaveform:
    """Streaming beats of one ECG or PPG stream; :meth:`update` per chunk, in time order."""

    def __init__(self, source: StreamInfo) -> None:
        if source.kind not in (StreamKind.ECG, StreamKind.PPG) or not source.nominal_rate > 0:
            raise InputError("source", source.name, "a regularly sampled ECG or PPG stream")
        self.source = source
        self.fs = float(source.nominal_rate)
        if source.kind is StreamKind.ECG:
            from addiction_index.features.ecg_peaks import EcgPeakStream

            self._detector = EcgPeakStream(self.fs)
            self.channel = 0
        else:
            from addiction_index.features.ppg_peaks import PpgPeakStream

            self._detector = PpgPeakStream(self.fs)
            names = [c.casefold() for c in source.channels]
            self.channel = next((names.index(c) for c in _PPG_CHANNELS if c in names), 0)
        self.stream = StreamInfo(
            f"{source.device}/rr-from-{source.kind}", StreamKind.RR, ("rr",), ("ms",), 0.0,
            source.device,
        )  # fmt: skip
        self._times = np.zeros(max(16, int(_HISTORY_S * self.fs)))
        self._seen = 0
        self._last_t: float | None = None

    def update(self, chunk: Chunk) -> Chunk | None:
        """The RR chunk (beat times, RR ms) of the beats this waveform chunk confirmed, or None."""
        n, cap = len(chunk), self._times.size
        if n == 0:
            return None
        for start in range(0, n, cap):  # remember each sample's time, oldest overwritten
            part = chunk.timestamps[start : start + cap]
            index = (self._seen + start + np.arange(part.size)) % cap
            self._times[index] = part
        x = np.ascontiguousarray(chunk.samples[:, self.channel], dtype=np.float64)
        peaks = self._detector.update(x).tolist()
        self._seen += n
        times, rr = [], []
        for p in peaks:
            t = float(self._times[p % cap])
            if self._last_t is not None and 0.0 < t - self._last_t <= MAX_RR_S:
                times.append(t)
                rr.append((t - self._last_t) * 1000.0)
            self._last_t = t
        if not times:
            return None
        return Chunk(self.stream, np.array(times), np.array(rr)[:, None])
