"""Raw-signal recording: an incremental XDF 1.0 writer that is a session sink.

:class:`XdfRecorder` receives every raw chunk (``on_chunk``) and every protocol marker
(``on_marker``) on the asyncio loop, buffers them, and appends them to the file on ``flush()``
(called about once a second by the session runner, from a worker thread), then ``os.fsync``\\ s
the file: a crash or a killed process loses at most what arrived since the last flush. ``close()``
writes the stream footers. pyxdf, MNE (through pyxdf) and LabRecorder's tools read the result.

Layout written (XDF 1.0, https://github.com/sccn/xdf/wiki/Specifications; byte order checked
against pyxdf's reader and LabRecorder's ``xdfwriter.cpp``), all integers little-endian::

    file      := "XDF:" FileHeader { StreamHeader | Samples | Boundary } { StreamFooter }
    chunk     := [NumLengthBytes u8: 1|4|8] [Length: u8|u32|u64] [Tag u16] [Content]
                 Length counts the tag, the stream id (if any) and the content.
    FileHeader   tag 1: XML <info><version>1.0</version><datetime>…</datetime>…</info>
    StreamHeader tag 2: [StreamId u32] XML <info> name, type, channel_count, nominal_srate,
                 channel_format, source_id, created_at, desc/channels/channel{label, unit}</info>
    ClockOffset  tag 4: [StreamId u32][CollectionTime f64 s][OffsetValue f64 s], one per
                 stream, right after its header, with offset 0: every stream is stamped on the
                 recording host's clock. (With it pyxdf's default clock synchronisation is an
                 exact no-op and does not warn about missing clock segments.)
    Samples      tag 3: [StreamId u32] [NumSampleBytes u8][NumSamples] then per sample
                 [TimeStampBytes u8 = 8][TimeStamp f64 s] and the values: double64 (f64 per
                 channel) for numeric streams, for strings [NumLengthBytes][Length][UTF-8].
    Boundary     tag 5: the 16-byte UUID 43A546DC-CBF5-410F-B30E-D5467383CBE4, after each
                 flush, so a reader can resynchronise after a damaged chunk.
    StreamFooter tag 6: [StreamId u32] XML <info> first_timestamp, last_timestamp,
                 sample_count, clock_offsets (the one zero offset)</info>

Every sample carries its own float64 timestamp (host seconds), and numeric values are stored
as double64, so timestamps and values read back bit for bit (pyxdf with
``dejitter_timestamps=False``). Stream ``type`` is the :class:`StreamKind` value (``eeg``,
``hr``, ``rr``, …), ``source_id`` the device name. Markers go to one string stream named
``markers`` (type ``marker``), each sample a JSON object ``{label, block, value, meta}``.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import numpy as np

from addiction_index import __version__
from addiction_index.errors import InputError, StorageError
from addiction_index.signals.streams import Chunk, Marker, StreamInfo

__all__ = ["MARKER_STREAM", "XdfRecorder"]

MARKER_STREAM = "markers"
SPEC_URL = "https://github.com/sccn/xdf/wiki/Specifications"
# Chunk tags of XDF 1.0.
_TAG_FILE_HEADER, _TAG_STREAM_HEADER, _TAG_SAMPLES = 1, 2, 3
_TAG_OFFSET, _TAG_BOUNDARY, _TAG_FOOTER = 4, 5, 6
_BOUNDARY_UUID = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")


def _varlen(n: int) -> bytes:
    """XDF variable-length integer: a byte giving the width (1, 4 or 8), then the value."""
    if n < 1 << 8:
        return b"\x01" + struct.pack("<B", n)
    if n < 1 << 32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes, stream_id: int | None = None) -> bytes:
    body = content if stream_id is None else struct.pack("<I", stream_id) + content
    return _varlen(2 + len(body)) + struct.pack("<H", tag) + body


def _xml(root: ET.Element) -> bytes:
    return b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8", short_empty_elements=True)


def _element(parent: ET.Element, tag: str, text: str | float) -> ET.Element:
    child = ET.SubElement(parent, tag)
    # Numbers as repr(float): the shortest text that reads back to the same double.
    child.text = text if isinstance(text, str) else repr(float(text))
    return child


@dataclass(eq=False)
class _Stream:
    """One XDF stream being written: its id and format, what awaits a flush, and its totals."""

    stream_id: int
    info: StreamInfo | None  # None for the marker stream
    created_at: float
    header_written: bool = False
    pending: list[tuple[np.ndarray, np.ndarray | list[str]]] = field(default_factory=list)
    first: float = float("nan")
    last: float = float("nan")
    count: int = 0

    def header(self) -> bytes:
        info = ET.Element("info")
        s = self.info
        _element(info, "name", s.name if s else MARKER_STREAM)
        _element(info, "type", str(s.kind) if s else "marker")
        _element(info, "channel_count", str(s.n_channels if s else 1))
        _element(info, "nominal_srate", s.nominal_rate if s else 0.0)
        _element(info, "channel_format", "double64" if s else "string")
        _element(info, "source_id", s.device if s else "session")
        _element(info, "created_at", self.created_at)
        desc = ET.SubElement(info, "desc")
        channels = ET.SubElement(desc, "channels")
        for label, unit in zip(*(s.channels, s.units) if s else (("marker",), ("",)), strict=True):
            channel = ET.SubElement(channels, "channel")
            _element(channel, "label", label)
            _element(channel, "unit", unit)
        ET.SubElement(desc, "writer").text = f"addiction-index {__version__}"
        offset = struct.pack("<dd", self.created_at, 0.0)  # one host clock: offset 0 s
        return _chunk(_TAG_STREAM_HEADER, _xml(info), self.stream_id) + _chunk(
            _TAG_OFFSET, offset, self.stream_id
        )

    def samples(self, pending: list[tuple[np.ndarray, np.ndarray | list[str]]]) -> bytes:
        """One Samples chunk holding ``pending`` (and the running totals updated)."""
        stamps = np.concatenate([ts for ts, _ in pending]).astype("<f8", copy=False)
        n = stamps.size
        if self.info is None:  # strings
            parts = [_varlen(n)]
            values = [v for _, vs in pending for v in vs]
            for t, text in zip(stamps.tolist(), values, strict=True):
                raw = text.encode("utf-8")
                parts += [b"\x08", struct.pack("<d", t), _varlen(len(raw)), raw]
            content = b"".join(parts)
        else:
            n_ch = self.info.n_channels
            layout = np.dtype([("bytes", "u1"), ("t", "<f8"), ("x", "<f8", (n_ch,))])
            rows = np.empty(n, dtype=layout)
            rows["bytes"] = 8
            rows["t"] = stamps
            rows["x"] = np.concatenate([np.asarray(x, dtype=np.float64) for _, x in pending])
            content = _varlen(n) + rows.tobytes()
        if self.count == 0:
            self.first = float(stamps[0])
        self.last = float(stamps[-1])
        self.count += n
        return _chunk(_TAG_SAMPLES, content, self.stream_id)

    def footer(self) -> bytes:
        info = ET.Element("info")
        _element(info, "first_timestamp", self.first)
        _element(info, "last_timestamp", self.last)
        _element(info, "sample_count", str(self.count))
        offset = ET.SubElement(ET.SubElement(info, "clock_offsets"), "offset")
        _element(offset, "time", self.created_at)
        _element(offset, "value", 0.0)
        return _chunk(_TAG_FOOTER, _xml(info), self.stream_id)


class XdfRecorder:
    """Session sink writing raw chunks and markers to the XDF file ``path``; see the module doc.

    The file is created at once (never overwritten: an existing file is a
    :class:`~addiction_index.errors.StorageError`). ``on_chunk``/``on_marker`` only append a
    reference to the chunk's arrays under a lock (sources hand over fresh arrays and never modify
    them afterwards); encoding and writing happen in :meth:`flush`. ``on_hop`` is ignored: the
    features are recomputed from the raw signals on replay.
    """

    def __init__(self, path: str | os.PathLike[str], *, created: datetime | None = None) -> None:
        """``created``: the time written in the file header (default: now). A dataset file
        whose bytes must depend only on its content (simulations, exports) passes a fixed one."""
        self.path = Path(path)
        self._lock = threading.Lock()  # guards the stream table and pending buffers (short)
        self._io = threading.Lock()  # serialises file writes (flush from any thread, close)
        self._streams: dict[str, _Stream] = {}
        self._closed = False
        self.bytes_written = 0
        try:
            self._file = open(self.path, "xb")  # noqa: SIM115 (kept open for the session)
        except OSError as e:
            raise StorageError(f"{self.path}: cannot create the XDF recording ({e})") from e
        header = ET.Element("info")
        _element(header, "version", "1.0")
        stamp = created if created is not None else datetime.now(UTC)
        _element(header, "datetime", stamp.isoformat(timespec="seconds"))
        _element(header, "writer", f"addiction-index {__version__} ({SPEC_URL})")
        self._write(b"XDF:" + _chunk(_TAG_FILE_HEADER, _xml(header)))

    # -- sink interface (asyncio loop) -------------------------------------------------------
    def on_chunk(self, chunk: Chunk) -> None:
        """Buffer one raw chunk (timestamps host s, samples in the stream's units)."""
        if len(chunk) == 0:
            return
        with self._lock:
            stream = self._stream(chunk.stream.name, chunk.stream, float(chunk.timestamps[0]))
            stream.pending.append((chunk.timestamps, chunk.samples))

    def on_marker(self, marker: Marker) -> None:
        """Buffer one marker as a JSON string sample of the ``markers`` stream."""
        text = json.dumps(
            {
                "label": marker.label,
                "block": marker.block,
                "value": marker.value,
                "meta": marker.meta,
            },
            ensure_ascii=False,
            default=str,
        )
        with self._lock:
            stream = self._stream(MARKER_STREAM, None, marker.timestamp)
            stream.pending.append((np.array([marker.timestamp], dtype=np.float64), [text]))

    def on_hop(self, hop: object) -> None:
        """Hops are not recorded (features are recomputed from the raw signals)."""

    # -- writing (any thread) ----------------------------------------------------------------
    def flush(self) -> None:
        """Append what was buffered (new stream headers first), then flush and fsync the file."""
        with self._io:
            if self._closed:
                return
            with self._lock:
                streams = list(self._streams.values())
                batches = [(s, s.pending) for s in streams if s.pending]
                for s in streams:
                    s.pending = []
            parts = []
            for s in streams:
                if not s.header_written:
                    parts.append(s.header())
                    s.header_written = True
            parts += [s.samples(pending) for s, pending in batches]
            if parts:
                parts.append(_chunk(_TAG_BOUNDARY, _BOUNDARY_UUID))
                self._write(b"".join(parts))

    def close(self) -> None:
        """Flush, write every stream's footer and close the file; calling it again does nothing."""
        self.flush()
        with self._io:
            if self._closed:
                return
            self._closed = True
            try:
                self._write(b"".join(s.footer() for s in self._streams.values()))
            finally:
                self._file.close()

    @property
    def sample_counts(self) -> dict[str, int]:
        """Samples written so far per stream name (markers under ``markers``)."""
        with self._io:
            return {name: s.count for name, s in self._streams.items()}

    def __enter__(self) -> XdfRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------
    def _stream(self, name: str, info: StreamInfo | None, t: float) -> _Stream:
        """The stream named ``name``, created on first sight (caller holds ``self._lock``)."""
        if self._closed:
            raise StorageError(f"{self.path}: the recording is closed")
        stream = self._streams.get(name)
        if stream is None:
            stream = _Stream(len(self._streams) + 1, info, t)
            self._streams[name] = stream
        elif stream.info != info:
            raise InputError("stream", name, "one description per stream name in a recording")
        return stream

    def _write(self, data: bytes) -> None:
        try:
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as e:
            raise StorageError(f"{self.path}: cannot write the XDF recording ({e})") from e
        self.bytes_written += len(data)
