"""File replay: a recording played back as a :class:`~addiction_index.devices.Source` on a clock.

:class:`ReplaySource` reads a file (XDF, Muse CSV, EDF/EDF+; see :mod:`._replay_formats`) and
yields its streams as :class:`~addiction_index.signals.Chunk` objects and its events as
:class:`~addiction_index.signals.Marker` objects, on any clock (a
:class:`~addiction_index.signals.SimulatedClock` at any speed, or the host clock).

Time is re-based: a sample stamped ``t`` in the file is emitted with timestamp
``clock_origin + (t - t0_file)``, where ``clock_origin`` is the clock's time when replay starts and
``t0_file`` the earliest timestamp over all streams and markers of the file. Packets keep the
original cadence: a regularly sampled stream is cut into packets of the size its device sends
(from the device profiles: 12 samples for Muse EEG), an irregular stream into one chunk per
sample, and each packet is emitted when the clock reaches its last (latest) sample, as a device
sends a packet once its last sample is taken; a stream's packets keep their file order. Markers
are emitted at their own times. Replaying at ``speed=inf`` or at any finite speed gives the same
chunks; only the wall time differs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from functools import lru_cache

import numpy as np

from addiction_index.devices._profiles import list_profiles, load_profile
from addiction_index.devices._replay_formats import Recording, load_recording
from addiction_index.devices._source import SourceState
from addiction_index.errors import InputError
from addiction_index.signals.clock import Clock
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["ReplaySource", "default_packet_samples"]


@lru_cache(maxsize=1)
def _profile_packets() -> dict[str, int]:
    packets: dict[str, int] = {}
    for name in list_profiles():
        for stream in load_profile(name).streams:
            if stream.rate_hz > 0 and stream.samples_per_packet:
                packets.setdefault(str(stream.kind), int(stream.samples_per_packet))
    return packets


def default_packet_samples() -> dict[str, int]:
    """Samples per packet by stream kind, from the device profiles (e.g. ``{"eeg": 12}``).

    A regular stream of a kind no profile describes is replayed one sample per chunk.
    """
    return dict(_profile_packets())


class ReplaySource:
    """Replays ``recording`` on ``clock``; see the module docstring.

    ``packet_samples`` overrides the samples per packet of regular streams, by kind
    (``{"eeg": 12}``). After its last packet the source leaves the clock but stays
    ``STREAMING`` for ``linger_s`` wall seconds (or until cancelled, as the session runner does
    once the protocol is over), so a consumer still holding packets in its queue counts them
    before the source reports ``STOPPED``; ``linger_s=0`` ends at once.

    Attributes: ``name``, ``streams`` (the data streams; markers are yielded, not listed),
    ``state``, ``recording``.
    """

    def __init__(
        self,
        recording: Recording,
        clock: Clock,
        *,
        packet_samples: Mapping[str, int] | None = None,
        name: str | None = None,
        linger_s: float = 2.0,
        t0: float | None = None,
    ) -> None:
        if not linger_s >= 0:
            raise InputError("linger_s", linger_s, "a wall time >= 0 s")
        packets = default_packet_samples() | dict(packet_samples or {})
        for kind, n in packets.items():
            if not (isinstance(n, int) and n >= 1):
                raise InputError(f"packet_samples[{kind!r}]", n, "an integer >= 1")
        self.recording = recording
        self.name = name or f"replay-{recording.fmt}"
        self.streams: tuple[StreamInfo, ...] = tuple(t.info for t in recording.tracks)
        self.state = SourceState.IDLE
        self._clock = clock
        self._linger_s = float(linger_s)
        # The file's start: pass the original recording's t0 when ``recording`` had events
        # removed, so the data keep their place against the protocol.
        self._t0 = recording.t0 if t0 is None else float(t0)
        # File time relative to t0, computed once (t - t0 is exact for nearby doubles).
        self._rel = [t.timestamps - self._t0 for t in recording.tracks]
        self._plan = self._schedule(packets)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        clock: Clock,
        *,
        fmt: str | None = None,
        channel_map: Mapping[str, str] | None = None,
        packet_samples: Mapping[str, int] | None = None,
        linger_s: float = 2.0,
    ) -> ReplaySource:
        """Read ``path`` (format from its suffix, or ``fmt``) and replay it on ``clock``.

        ``channel_map`` maps file channel names to the project's (e.g.
        ``{"T9..": "TP9", "Af7.": "AF7", "Af8.": "AF8", "T10.": "TP10"}`` for PhysioNet EDF).
        Errors: :class:`~addiction_index.errors.ConfigError` naming the file (and the line or
        column) for a file that cannot be read as its format.
        """
        recording = load_recording(path, fmt=fmt, channel_map=channel_map)
        return cls(recording, clock, packet_samples=packet_samples, linger_s=linger_s)

    def _schedule(self, packets: Mapping[str, int]) -> list[tuple[float, int, int, int]]:
        """Events ``(due s after t0, source index, start, stop)``; markers have index -1."""
        due, index, start, stop = [], [], [], []
        for k, (track, rel) in enumerate(zip(self.recording.tracks, self._rel, strict=True)):
            n = rel.size
            if n == 0:
                continue
            size = packets.get(str(track.info.kind), 1) if track.info.regular else 1
            starts = np.arange(0, n, size)
            # A packet leaves once its latest sample is taken; never before an earlier packet.
            latest = np.maximum.accumulate(np.maximum.reduceat(rel, starts))
            due.append(latest)
            index.append(np.full(starts.size, k))
            start.append(starts)
            stop.append(np.minimum(starts + size, n))
        m = len(self.recording.markers)
        due.append(np.array([mk.timestamp - self._t0 for mk in self.recording.markers]))
        index.append(np.full(m, -1))
        start.append(np.arange(m))
        stop.append(np.arange(m) + 1)
        d, i, s, e = (np.concatenate(a) for a in (due, index, start, stop))
        order = np.lexsort((s, i, d))  # by time; at equal times markers first, then streams
        return list(zip(*(a[order].tolist() for a in (d, i, s, e)), strict=True))

    async def chunks(self) -> AsyncIterator[Chunk | Marker]:
        """Yield every packet and marker when the clock reaches it; end with the file."""
        clock = self._clock
        join, leave = getattr(clock, "join", None), getattr(clock, "leave", None)
        if join:
            join()
        joined = True
        self.state = SourceState.STREAMING
        origin = clock.now()
        tracks, markers = self.recording.tracks, self.recording.markers
        try:
            for due, k, start, stop in self._plan:
                await clock.sleep_until(origin + due)
                if k < 0:
                    mk = markers[start]
                    yield Marker(
                        origin + (mk.timestamp - self._t0),
                        mk.label,
                        mk.block,
                        mk.value,
                        dict(mk.meta),
                    )
                else:
                    track = tracks[k]
                    yield Chunk(
                        track.info,
                        origin + self._rel[k][start:stop],
                        track.samples[start:stop].copy(),
                    )
            if leave:
                leave()  # the file is over: no longer hold the clock
            joined = False
            if self._linger_s > 0:
                await asyncio.sleep(self._linger_s)
        finally:
            self.state = SourceState.STOPPED
            if joined and leave:
                leave()

    def __repr__(self) -> str:
        kinds = ", ".join(f"{s.name} ({StreamKind(s.kind)})" for s in self.streams)
        return f"ReplaySource({self.recording.fmt}: {kinds}; {len(self.recording.markers)} markers)"
