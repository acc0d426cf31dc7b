"""Stream primitives: descriptions, chunks, markers, ring buffers and clocks."""

from addiction_index.signals.clock import Clock, HostClock, SimulatedClock
from addiction_index.signals.ring import RingBuffer
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = [
    "Chunk",
    "Clock",
    "HostClock",
    "Marker",
    "RingBuffer",
    "SimulatedClock",
    "StreamInfo",
    "StreamKind",
]
