"""PPG systolic peaks, batch and streaming, as NeuroKit2's default ``ppg_clean`` + ``ppg_peaks``.

Elgendi et al. 2013, *PLoS ONE* 8(10):e76585, doi:10.1371/journal.pone.0076585, as implemented
in NeuroKit2 0.2.13 (Makowski et al. 2021, doi:10.3758/s13428-020-01516-y). ``fs`` in Hz, any
amplitude unit (ADC counts, a.u.).

Batch (:func:`ppg_peaks`, step for step as NeuroKit2):

1. Clean (``clean=True``): 2nd-order Butterworth band-pass 0.5-8 Hz run zero-phase as
   ``scipy.signal.sosfiltfilt`` (same numba biquad kernels as :mod:`.ecg_peaks`).
2. ``sqrd = max(x, 0) ** 2``; centred boxcars (``uniform_filter1d``, "nearest") of
   ``rint(0.111 fs)`` samples (``ma_peak``) and ``rint(0.667 fs)`` samples (``ma_beat``);
   threshold ``ma_beat + 0.02 * mean(sqrd)`` (mean over the whole signal).
3. Waves = runs where ``ma_peak`` exceeds the threshold; runs shorter than ``rint(0.111 fs)``
   samples are skipped; in each the most prominent local maximum of the clean signal is the
   systolic peak, kept if more than ``rint(0.3 fs)`` samples after the previous one (and after
   sample 0). ``correct_artifacts=False`` (NeuroKit2's default) adds nothing.

Streaming (:class:`PpgPeakStream`): the band-pass runs forward only (state from ``sosfilt_zi``
times the first sample); its group delay moves the systolic peak later by a few samples
(``shift``, measured below, is *not* subtracted: the causal peak is where the causal wave peaks).
The boxcars are computed ``D = (w_beat - 1) // 2`` samples late, ``mean(sqrd)`` is the running
mean since the stream start. A peak is reported ``latency_samples = D + 1`` samples after the last
sample of its wave run (100 Hz: 34 samples, 340 ms).
"""

from __future__ import annotations

import numpy as np

from addiction_index.features._jit import jit
from addiction_index.features.ecg_peaks import (
    I_K,
    MAX_QRS_S,
    _boxcar,
    _check_fs,
    _check_signal,
    _gate_peaks,
    _PeakStream,
    _sos_design,
    _sos_step,
    _sosfiltfilt,
    _stream_gate,
)

__all__ = ["PpgPeakStream", "ppg_clean", "ppg_peaks"]


@jit
def _ppg_detect(x: np.ndarray, w1: int, w2: int, min_delay: int) -> np.ndarray:
    sqrd = np.empty(x.size)
    for i in range(x.size):
        sqrd[i] = max(x[i], 0.0) ** 2
    offset = 0.02 * np.mean(sqrd)
    return _gate_peaks(x, _boxcar(sqrd, w1), _boxcar(sqrd, w2), 1.0, offset, 0.0, w1, min_delay)


def _ppg_windows(fs: float) -> tuple[int, int, int]:
    """Peak window, beat window and refractory lengths (samples)."""
    return int(np.rint(0.111 * fs)), int(np.rint(0.667 * fs)), int(np.rint(0.3 * fs))


def ppg_clean(ppg: np.ndarray, fs: float) -> np.ndarray:
    """``neurokit2.ppg_clean(ppg, fs)`` (method "elgendi"); empty when too short to pad."""
    fs = _check_fs(fs)
    x = _check_signal(ppg, "ppg")
    sos, zi, edge = _sos_design(2, (0.5, 8.0), "bandpass", fs)
    return _sosfiltfilt(sos, zi, x, edge) if x.size > edge else np.zeros(0)


def ppg_peaks(ppg: np.ndarray, fs: float, *, clean: bool = True) -> np.ndarray:
    """Systolic peak sample indices (int64, sorted) of a whole PPG (``fs`` in Hz).

    ``clean=True`` equals ``neurokit2.ppg_peaks(neurokit2.ppg_clean(ppg, fs), fs)``;
    ``clean=False`` detects on ``ppg`` as given (already band-passed). Too short: empty.
    """
    fs = _check_fs(fs)
    x = ppg_clean(ppg, fs) if clean else _check_signal(ppg, "ppg")
    if x.size < 3:
        return np.zeros(0, np.int64)
    return _ppg_detect(x, *_ppg_windows(fs))


@jit
def _at(q: np.ndarray, i: int) -> float:
    """Square number ``i`` from the history ring (index < 0: the first one, mode "nearest")."""
    return q[max(i, 0) % q.size]


@jit
def _ppg_stream(x, sos, zi, ring, q, scratch, ist, fst, w1, w2, min_delay, out):
    """Causal Elgendi detector over one chunk; carried state in the arrays; peaks into ``out``."""
    n, nr = 0, ring.size
    h1, r1, h2, r2 = w1 // 2, (w1 - 1) // 2, w2 // 2, (w2 - 1) // 2
    for v in x:
        k = ist[I_K]
        if k == 0:
            zi *= v
        c = _sos_step(sos, zi, v)
        ring[k % nr] = c
        ist[I_K] = k + 1
        q[k % q.size] = max(c, 0.0) ** 2
        fst[3] += q[k % q.size]
        fst[1] = w2 * q[0] if k == 0 else fst[1] + q[k % q.size] - _at(q, k - w2)
        u = k - r2  # both boxcars centred on u are complete
        if u < 0:
            continue
        if u % 4096 == 0:  # exact sums now and then: no drift of the running sums
            fst[0], fst[1] = 0.0, 0.0
            for i in range(u - h1, u + r1 + 1):
                fst[0] += _at(q, i)
            for i in range(u - h2, u + r2 + 1):
                fst[1] += _at(q, i)
        else:
            fst[0] += _at(q, u + r1) - _at(q, u - h1 - 1)
        above = fst[0] / w1 > fst[1] / w2 + 0.02 * (fst[3] / (k + 1))
        n = _stream_gate(above, ring, scratch, ist, fst, 0, 0.0, w1, min_delay, out, n)
    return n


class PpgPeakStream(_PeakStream):
    """Causal systolic-peak detector fed chunk by chunk (method in the module docstring).

    ``update(chunk)`` returns absolute sample indices (int64, from the stream start) of the peaks
    confirmed by that chunk; chunking does not change the result.
    """

    def __init__(self, fs: float, max_chunk: int = 4096) -> None:
        w1, w2, min_delay = _ppg_windows(_check_fs(fs))
        super().__init__(fs, max_chunk, min_delay)
        self._w1, self._w2 = w1, w2
        self._sos, zi0, _ = _sos_design(2, (0.5, 8.0), "bandpass", self.fs)
        self._zi = zi0.copy()
        self.latency_samples = (w2 - 1) // 2 + 1
        size = self.latency_samples + 2 + int(MAX_QRS_S * self.fs)
        self._ring, self._scratch, self._q = np.zeros(size), np.zeros(size), np.zeros(w2 + w1)

    def _run(self, part: np.ndarray) -> int:
        return _ppg_stream(
            part, self._sos, self._zi, self._ring, self._q, self._scratch, self._ist, self._fst,
            self._w1, self._w2, self._min_delay, self._out,
        )  # fmt: skip
