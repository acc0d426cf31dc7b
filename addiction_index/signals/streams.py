"""Stream descriptions, timestamped sample chunks and protocol markers.

All timestamps are host seconds on one monotonic clock (:func:`time.monotonic`, or the simulated
clock that starts from it); see :mod:`addiction_index.signals.clock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from addiction_index.errors import InputError

__all__ = ["Chunk", "Marker", "StreamInfo", "StreamKind"]


class StreamKind(StrEnum):
    """What a stream carries."""

    EEG = "eeg"  # µV, regularly sampled
    ECG = "ecg"  # µV, regularly sampled
    PPG = "ppg"  # arbitrary units, regularly sampled
    ACC = "acc"  # g, regularly sampled
    HR = "hr"  # bpm, one value per notification (irregular)
    RR = "rr"  # ms, one value per beat (irregular; timestamp = time of the closing beat)
    MARKER = "marker"  # protocol events (irregular)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """Describes one stream: kind, channel names and units, nominal rate (Hz, 0 = irregular)."""

    name: str
    kind: StreamKind
    channels: tuple[str, ...]
    units: tuple[str, ...]
    nominal_rate: float
    device: str

    def __post_init__(self) -> None:
        if not self.channels:
            raise InputError("channels", self.channels, "at least one channel name")
        if len(self.units) != len(self.channels):
            raise InputError(
                "units", self.units, f"one unit per channel ({len(self.channels)} channels)"
            )
        if self.nominal_rate < 0:
            raise InputError("nominal_rate", self.nominal_rate, "a rate >= 0 Hz (0 = irregular)")

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def regular(self) -> bool:
        return self.nominal_rate > 0


@dataclass(frozen=True, slots=True)
class Chunk:
    """A block of samples of one stream: ``timestamps`` (n,) host seconds, ``samples`` (n, n_ch)."""

    stream: StreamInfo
    timestamps: np.ndarray
    samples: np.ndarray

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.shape[1] != self.stream.n_channels:
            raise InputError(
                "samples",
                self.samples.shape,
                f"shape (n, {self.stream.n_channels}) for stream {self.stream.name}",
            )
        if self.timestamps.shape != (self.samples.shape[0],):
            raise InputError(
                "timestamps", self.timestamps.shape, f"shape ({self.samples.shape[0]},)"
            )

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def end(self) -> float:
        """Timestamp of the last sample (host seconds); -inf for an empty chunk."""
        return float(self.timestamps[-1]) if len(self) else float("-inf")


@dataclass(frozen=True, slots=True)
class Marker:
    """A protocol event at host time ``timestamp``: e.g. a block start, a cue, a craving rating."""

    timestamp: float
    label: str
    block: str | None = None
    value: float | None = None
    meta: dict[str, object] = field(default_factory=dict)
