"""Causal EEG filters: a Butterworth band-pass and mains notches, streamed chunk by chunk in numba.

Method, step by step:

1. Design (once, with scipy): :func:`design_eeg_filters` returns one second-order-section (SOS)
   array ``(n_sections, 6)`` float64: a Butterworth band-pass of ``order``
   (``scipy.signal.butter(order, band_hz, btype="bandpass", fs=fs, output="sos")``, ``order``
   sections; Butterworth 1930, "On the theory of filter amplifiers") followed by one second-order
   IIR notch per mains frequency below Nyquist (``scipy.signal.iirnotch(f0, Q, fs)`` then
   ``tf2sos``; the notch of the RBJ "Audio EQ Cookbook", -3 dB width ``f0 / Q`` Hz).
2. Filtering (every chunk, in numba): the cascade runs sample by sample in direct form II
   transposed, exactly the recursion and operation order of ``scipy.signal.sosfilt``
   (Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed., 2010, §6.5)::

       y      = b0 x + z0
       z0     = b1 x - a1 y + z1
       z1     = b2 x - a2 y

   The state ``z`` of every section and channel is ``zi[section, channel, :]`` and is carried
   from one chunk to the next (as mne-lsl's ``zi``), so a recording cut into any chunks gives the
   same bits as one pass over it (:func:`filter_recording`).

Layouts: signals are time-major ``(n_samples, n_channels)`` float64 C-contiguous in µV, as LSL
chunks arrive (the feature windows of :mod:`addiction_index.features.eeg` are channel-major).
Our state ``zi`` is ``(n_sections, n_channels, 2)``; scipy's for ``axis=0`` is
``(n_sections, 2, n_channels)``, i.e. ``zi.transpose(0, 2, 1)``.

Defaults, with reasons:

- ``band_hz = (1.0, 45.0)`` Hz: the feature spec's ``eeg.total_hz`` (band powers 1-45 Hz); 1 Hz
  removes electrode drift and sweat (< 0.5 Hz), 45 Hz stays below 50 Hz mains.
- ``order = 4``: 24 dB/octave per edge, stable in SOS form; ~-15 dB at 70 Hz, < -50 dB at 0.2 Hz.
- ``notch_hz = (50.0,)``: mains in China, where the first centres are; pass ``(60.0,)`` for the
  Americas, or add harmonics ``(50.0, 100.0)``. Frequencies at or above Nyquist are dropped.
- ``notch_q = 30``: 1.7 Hz wide at 50 Hz (mains drifts by ±0.2 Hz), settles in ~0.2 s
  (time constant ``Q / (π f0)``).

Start-up (``initial``): ``"first_sample"`` (default) scales ``scipy.signal.sosfilt_zi`` by each
channel's first sample, i.e. the filter starts in the steady state of a signal that had been
constant at that value (a Muse channel may sit tens to hundreds of µV off zero), so there is no
step transient; ``"zero"`` starts from rest (``zi = 0``) and the DC step rings through the 1 Hz
high-pass for several seconds. Either way allow ~1-2 s of settling before trusting band powers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.signal

from addiction_index.errors import InputError
from addiction_index.features._jit import jit

__all__ = ["StreamingFilter", "design_eeg_filters", "filter_recording", "sos_filter"]

Initial = Literal["first_sample", "zero"]


def design_eeg_filters(
    fs: float,
    notch_hz: Sequence[float] = (50.0,),
    band_hz: tuple[float, float] = (1.0, 45.0),
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """SOS ``(n_sections, 6)`` float64: Butterworth band-pass ``band_hz`` (Hz), then notches.

    ``order`` Butterworth sections (a band-pass of ``order`` has ``2 order`` poles), then one
    section per ``notch_hz`` entry with ``0 < f0 < fs / 2`` (others are dropped), width
    ``f0 / notch_q`` Hz. ``a0`` of every section is 1.
    """
    if not np.isfinite(fs) or fs <= 0:
        raise InputError("fs", fs, "a sampling rate > 0 Hz")
    nyquist = fs / 2.0
    lo, hi = band_hz
    if not 0 < lo < hi < nyquist:
        raise InputError("band_hz", band_hz, f"0 < lo < hi < {nyquist:g} Hz (Nyquist)")
    if int(order) != order or order < 1:
        raise InputError("order", order, "an integer >= 1")
    if not notch_q > 0:
        raise InputError("notch_q", notch_q, "a quality factor > 0")
    sections = [scipy.signal.butter(int(order), (lo, hi), btype="bandpass", fs=fs, output="sos")]
    for f0 in notch_hz:
        if not f0 > 0:
            raise InputError("notch_hz", tuple(notch_hz), "mains frequencies > 0 Hz")
        if f0 >= nyquist:
            continue
        b, a = scipy.signal.iirnotch(f0, notch_q, fs=fs)
        sections.append(scipy.signal.tf2sos(b, a))
    return np.ascontiguousarray(np.vstack(sections), dtype=np.float64)


@jit
def _sosfilt_kernel(sos, x, zi, out):
    """Direct form II transposed cascade over (n_samples, n_channels); zi updated in place."""
    n_samp, n_ch = x.shape
    n_sec = sos.shape[0]
    for n in range(n_samp):
        for c in range(n_ch):
            x_cur = x[n, c]
            for s in range(n_sec):
                x_new = sos[s, 0] * x_cur + zi[s, c, 0]
                zi[s, c, 0] = sos[s, 1] * x_cur - sos[s, 4] * x_new + zi[s, c, 1]
                zi[s, c, 1] = sos[s, 2] * x_cur - sos[s, 5] * x_new
                x_cur = x_new
            out[n, c] = x_cur


def _check_sos(sos: object) -> np.ndarray:
    if not isinstance(sos, np.ndarray) or sos.dtype != np.float64:
        raise InputError("sos", type(sos).__name__, "a float64 numpy array (n_sections, 6)")
    if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] < 1 or not sos.flags.c_contiguous:
        raise InputError("sos.shape", sos.shape, "C-contiguous (n_sections >= 1, 6)")
    if not np.all(sos[:, 3] == 1.0):
        raise InputError("sos[:, 3]", sos[:, 3].tolist(), "normalised sections (a0 == 1)")
    return sos


def _check_signal(x: object, name: str, n_channels: int | None = None) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise InputError(name, type(x).__name__, "a numpy array")
    if x.dtype != np.float64:
        raise InputError(f"{name}.dtype", str(x.dtype), "float64 (µV)")
    if x.ndim != 2 or (n_channels is not None and x.shape[1] != n_channels):
        channels = "n_channels" if n_channels is None else str(n_channels)
        raise InputError(f"{name}.shape", x.shape, f"(n_samples, {channels})")
    if not x.flags.c_contiguous:
        raise InputError(name, "non-contiguous array", "a C-contiguous array")
    return x


def sos_filter(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter ``x`` ``(n_samples, n_channels)`` with ``sos``; ``zi`` updated in place.

    ``zi`` is float64 C-contiguous ``(n_sections, n_channels, 2)``. Equals
    ``scipy.signal.sosfilt(sos, x, axis=0, zi=zi.transpose(0, 2, 1))`` (to rounding; the same
    recursion in the same order) and leaves in ``zi`` scipy's ``zf`` transposed back.
    """
    _check_sos(sos)
    _check_signal(x, "x")
    expected = (sos.shape[0], x.shape[1], 2)
    if not isinstance(zi, np.ndarray) or zi.dtype != np.float64 or not zi.flags.c_contiguous:
        raise InputError("zi", type(zi).__name__, "a float64 C-contiguous numpy array")
    if zi.shape != expected:
        raise InputError("zi.shape", zi.shape, f"(n_sections, n_channels, 2) = {expected}")
    out = np.empty_like(x)
    _sosfilt_kernel(sos, x, zi, out)
    return out


def _initial_state(sos: np.ndarray, first: np.ndarray, initial: Initial, zi: np.ndarray) -> None:
    """Write the start state for ``first`` (n_channels,) into ``zi`` (no allocation)."""
    if initial == "zero":
        zi[...] = 0.0
    else:
        unit = scipy.signal.sosfilt_zi(sos)  # (n_sections, 2), steady state for a unit step
        np.multiply(unit[:, None, :], first[None, :, None], out=zi)


def _check_initial(initial: object) -> Initial:
    if initial not in ("first_sample", "zero"):
        raise InputError("initial", initial, "'first_sample' or 'zero'")
    return initial  # type: ignore[return-value]


def filter_recording(
    sos: np.ndarray, x: np.ndarray, initial: Initial = "first_sample"
) -> np.ndarray:
    """Batch reference: the streaming kernel over a whole ``(n_samples, n_channels)`` recording.

    Starts from the same state as :class:`StreamingFilter` (``initial``), so it equals any
    chunking of the same recording bit for bit. Returns a new array.
    """
    _check_sos(sos)
    _check_signal(x, "x")
    _check_initial(initial)
    zi = np.zeros((sos.shape[0], x.shape[1], 2), dtype=np.float64)
    out = np.empty_like(x)
    if x.shape[0] == 0:
        return out
    _initial_state(sos, x[0], initial, zi)
    _sosfilt_kernel(sos, x, zi, out)
    return out


class StreamingFilter:
    """Causal SOS filter over a stream of ``(n_samples, n_channels)`` chunks, state carried.

    State ``zi`` ``(n_sections, n_channels, 2)`` and the output buffer ``(max_chunk, n_channels)``
    are allocated here once. :meth:`process` returns a VIEW of the output buffer, valid until the
    next call: copy it (or write it into a ring buffer) if it must be kept.
    """

    def __init__(
        self,
        sos: np.ndarray,
        n_channels: int,
        max_chunk: int = 4096,
        initial: Initial = "first_sample",
    ) -> None:
        self.sos = _check_sos(np.ascontiguousarray(sos, dtype=np.float64)).copy()
        if int(n_channels) != n_channels or n_channels < 1:
            raise InputError("n_channels", n_channels, "an integer >= 1")
        if int(max_chunk) != max_chunk or max_chunk < 1:
            raise InputError("max_chunk", max_chunk, "an integer >= 1 (samples)")
        self.n_channels = int(n_channels)
        self.max_chunk = int(max_chunk)
        self.initial: Initial = _check_initial(initial)
        self.zi = np.zeros((self.sos.shape[0], self.n_channels, 2), dtype=np.float64)
        self._unit_zi = scipy.signal.sosfilt_zi(self.sos)[:, None, :].copy()
        self._out = np.empty((self.max_chunk, self.n_channels), dtype=np.float64)
        self._started = False

    def reset(self) -> None:
        """Forget the past: the next chunk starts the filter afresh (``initial``)."""
        self.zi[...] = 0.0
        self._started = False

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Filter ``chunk`` float64 C-contiguous ``(n_samples <= max_chunk, n_channels)`` in µV.

        Returns a view ``(n_samples, n_channels)`` of the preallocated output buffer.
        """
        _check_signal(chunk, "chunk", self.n_channels)
        n = chunk.shape[0]
        if n > self.max_chunk:
            raise InputError("chunk.shape", chunk.shape, f"at most max_chunk={self.max_chunk} rows")
        out = self._out[:n]
        if n == 0:
            return out
        if not self._started:
            if self.initial == "first_sample":
                np.multiply(self._unit_zi, chunk[0][None, :, None], out=self.zi)
            self._started = True
        _sosfilt_kernel(self.sos, chunk, self.zi, out)
        return out
