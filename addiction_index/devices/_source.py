"""The Source seam: anything that yields timestamped chunks and reports its state.

The simulator, the Bluetooth collectors, LSL inlets and file replay all implement :class:`Source`;
the session runner does not know which one it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Protocol, runtime_checkable

from addiction_index.signals.streams import Chunk, Marker, StreamInfo

__all__ = ["Source", "SourceState"]


class SourceState(StrEnum):
    """What a source is doing, shown to the user and stored with the session."""

    IDLE = "idle"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    STOPPED = "stopped"


@runtime_checkable
class Source(Protocol):
    """A device or file that produces chunks of one or more streams."""

    name: str
    streams: tuple[StreamInfo, ...]
    state: SourceState

    def chunks(self) -> AsyncIterator[Chunk | Marker]:
        """Yield chunks as they arrive, until cancelled or the source ends.

        A source that carries events (an LSL marker stream, a recording's markers, a device's
        gap) yields them as :class:`Marker` objects between its chunks.
        """
        ...
