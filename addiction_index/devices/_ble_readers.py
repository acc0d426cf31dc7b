"""From decoded notifications to timestamped chunks: one reader per stream of a device profile.

A profile names, for each stream, the characteristic(s) it arrives on, the decoder and the field
of the decoded packet that holds its samples. Readers keep each stream's position (samples since
the start, counting packets the device's counter says were lost), its
:class:`~addiction_index.signals.dejitter.StreamClock`, and, for streams with one characteristic
per channel (Muse EEG), the packets of one counter value until every channel has arrived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from addiction_index.devices._profiles import DeviceProfile, StreamProfile
from addiction_index.devices.decoders import DECODERS
from addiction_index.signals.dejitter import StreamClock
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["CharacteristicReader", "readers_for", "selected_streams"]

_COUNTER_MODULO = 65536  # Muse packet counters are uint16
_PENDING_PACKETS = 4  # counters kept waiting for their other channels before giving up
RR_MIN_MS, RR_MAX_MS = 200.0, 3000.0  # physiological RR (300-20 bpm, with margin); else dropped
_RR_BEHIND_S = 2.5  # beats this far behind their notification mean beats were missed


@dataclass
class _Stream:
    """One stream's position and clock."""

    profile: StreamProfile
    info: StreamInfo
    clock: StreamClock
    position: float = 0.0  # next sample index (regular) or RR seconds so far (beats)
    last_time: float = -np.inf  # host time of the last sample emitted
    last_sequence: int | None = None
    resync: bool = False
    pending: dict[int, dict[int, np.ndarray]] = field(default_factory=dict)

    @property
    def n_per_packet(self) -> int:
        return int(self.profile.samples_per_packet or 1)


def selected_streams(profile: DeviceProfile) -> list[StreamProfile]:
    """Streams that flow with the profile's start commands (a preset they need must be sent)."""
    sent = {c.hex for c in profile.commands.start}
    out = []
    for s in profile.streams:
        if not s.characteristic or s.decoder is None or s.kind not in set(StreamKind):
            continue
        preset = profile.commands.presets.get(s.requires_preset) if s.requires_preset else None
        if s.requires_preset and (preset is None or preset.hex not in sent):
            continue
        out.append(s)
    return out


class CharacteristicReader:
    """Decodes one characteristic's notifications and feeds every stream that uses it."""

    def __init__(self, uuid: str, decoder: str, streams: list[tuple[_Stream, int | None]]) -> None:
        self.uuid, self.decoder_name = uuid, decoder
        self._decode = DECODERS[decoder]
        self._streams = streams

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return tuple(s.info for s, _ in self._streams)

    def expect_gap(self) -> None:
        """After a reconnection: the next packet's position comes from its arrival time."""
        for stream, _ in self._streams:
            stream.resync = True
            stream.pending.clear()

    def read(self, payload: bytes, arrival: float) -> list[Chunk | Marker]:
        """Decode ``payload`` (raises DecodeError) and return the chunks and gap markers."""
        packet = self._decode(payload)
        out: list[Chunk | Marker] = []
        # Beats before the heart rate of the same notification: the HR chunk's time tells the
        # runner the strap has delivered up to there.
        ordered = sorted(self._streams, key=lambda sc: sc[0].info.kind is StreamKind.HR)
        for stream, channel in ordered:
            kind = stream.info.kind
            if kind is StreamKind.HR:
                out.extend(_heart_rate(stream, packet, arrival))
            elif kind is StreamKind.RR:
                out.extend(_beats(stream, packet, arrival))
            else:
                samples = np.asarray(getattr(packet, stream.profile.field), dtype=np.float64)
                sequence = getattr(packet, "sequence", None)
                if channel is None:
                    out.extend(_regular(stream, sequence, samples, arrival))
                else:
                    out.extend(_assemble(stream, channel, sequence, samples, arrival))
        return out


def readers_for(profile: DeviceProfile, device: str) -> dict[str, CharacteristicReader]:
    """One reader per subscribed characteristic, for the streams that flow by default."""
    by_uuid: dict[str, list[tuple[_Stream, int | None]]] = {}
    decoders: dict[str, str] = {}
    for sp in selected_streams(profile):
        period = 1.0 / sp.rate_hz if sp.rate_hz > 0 else 1.0
        stream = _Stream(sp, sp.stream_info(device), StreamClock(period))
        per_channel = len(sp.characteristic) > 1
        for i, uuid in enumerate(sp.characteristic):
            by_uuid.setdefault(uuid, []).append((stream, i if per_channel else None))
            decoders[uuid] = str(sp.decoder)
    return {u: CharacteristicReader(u, decoders[u], s) for u, s in by_uuid.items()}


def _gap(stream: _Stream, arrival: float, lost_samples: float, lost_packets: int) -> Marker:
    rate = stream.profile.rate_hz or 1.0
    return Marker(
        arrival,
        "gap",
        value=lost_samples / rate,
        meta={
            "stream": stream.info.name,
            "lost_samples": round(lost_samples),
            "lost_packets": lost_packets,
        },
    )


def _advance(stream: _Stream, sequence: int | None, n: int, arrival: float) -> list[Marker]:
    """Move the position for a packet of ``n`` samples; gap markers for what was lost."""
    markers: list[Marker] = []
    step = None
    if sequence is not None and stream.last_sequence is not None:
        step = (sequence - stream.last_sequence) % _COUNTER_MODULO
    if stream.resync and stream.clock.started:
        # After a reconnection: trust the device counter if it agrees with the time that
        # passed (the link dropped, the device kept counting); else the device restarted and
        # the arrival time gives the position.
        by_time = stream.clock.resync(arrival, n)
        packets_by_time = (by_time - stream.position) / n + 1
        if step is None or abs(step - packets_by_time) > max(2.0, 0.2 * packets_by_time):
            start = max(by_time, stream.position)
            markers.append(_gap(stream, arrival, start - stream.position, 0))
            stream.position = start
            step = None
    if step is not None and step > 1:
        markers.append(_gap(stream, arrival, (step - 1) * n, step - 1))
        stream.position += (step - 1) * n
    stream.resync = False
    if sequence is not None:
        stream.last_sequence = sequence
    return markers


def _regular(
    stream: _Stream, sequence: int | None, samples: np.ndarray, arrival: float
) -> list[Chunk | Marker]:
    if sequence is not None and sequence == stream.last_sequence and not stream.resync:
        return []  # a repeated notification
    n = samples.shape[0]
    out: list[Chunk | Marker] = [*_advance(stream, sequence, n, arrival)]
    start = stream.position
    stream.position += n
    stream.clock.update(stream.position - 1, arrival)
    times = _forward(
        stream, stream.clock.time_of(start + np.arange(n)), 1.0 / stream.profile.rate_hz
    )
    out.append(Chunk(stream.info, times, samples.reshape(n, -1)))
    return out


def _forward(stream: _Stream, times: object, min_step: float) -> np.ndarray:
    """Timestamps that never go back: while the clock fit settles (first minute) or when it is
    refitted, a packet may come out a few ms before the previous one ended; it is moved on."""
    times = np.asarray(times, dtype=np.float64)
    if times[0] <= stream.last_time:  # move on only the samples that would overlap
        floor = stream.last_time + min_step * np.arange(1, times.size + 1)
        times = np.maximum(times, floor)
    stream.last_time = float(times[-1])
    return times


def _assemble(
    stream: _Stream, channel: int, sequence: int | None, samples: np.ndarray, arrival: float
) -> list[Chunk | Marker]:
    """Collect one channel's packet; emit the packet once every channel of its counter is in."""
    key = -1 if sequence is None else sequence
    parts = stream.pending.setdefault(key, {})
    parts[channel] = samples.reshape(-1)
    if len(parts) < stream.info.n_channels:
        while len(stream.pending) > _PENDING_PACKETS:  # a channel's packet never came
            del stream.pending[next(iter(stream.pending))]
        return []
    del stream.pending[key]
    if sequence is not None:  # a channel lost for an older counter must not wait for a wrap
        for old in [k for k in stream.pending if 0 < (sequence - k) % _COUNTER_MODULO < 32768]:
            del stream.pending[old]
    block = np.column_stack([parts[c] for c in range(stream.info.n_channels)])
    return _regular(stream, sequence, block, arrival)


def _heart_rate(stream: _Stream, packet: object, arrival: float) -> list[Chunk | Marker]:
    contact = getattr(packet, "sensor_contact_detected", None)
    bpm = float(getattr(packet, stream.profile.field))
    value = math.nan if contact is False or bpm <= 0 else bpm
    return [Chunk(stream.info, np.array([arrival]), np.array([[value]]))]


def _beats(stream: _Stream, packet: object, arrival: float) -> list[Chunk | Marker]:
    """RR intervals (ms): each beat at the cumulative RR time, dejittered to host time."""
    rr = np.asarray(getattr(packet, stream.profile.field), dtype=np.float64).reshape(-1)
    rr = rr[(rr > RR_MIN_MS) & (rr <= RR_MAX_MS)]  # a strap can send 0 or absurd values
    if rr.size == 0:
        return []
    out: list[Chunk | Marker] = []
    total = float(rr.sum()) / 1000.0
    if stream.clock.started and not stream.resync:
        # Beats stopped coming (no skin contact) while the notifications went on: the sum of
        # RR intervals fell behind the clock. Treat it as a gap rather than stamping early.
        behind = arrival - float(stream.clock.time_of(stream.position + total))
        stream.resync = behind > _RR_BEHIND_S
    if stream.resync and stream.clock.started:
        start = max(stream.clock.position_at(arrival) - total, stream.position)
        out.append(_gap(stream, arrival, start - stream.position, 0))
        stream.position = start
    stream.resync = False
    positions = stream.position + np.cumsum(rr) / 1000.0
    stream.position = float(positions[-1])
    stream.clock.update(stream.position, arrival)
    times = _forward(stream, stream.clock.time_of(positions), 0.001)
    out.append(Chunk(stream.info, times, rr[:, None]))
    return out
