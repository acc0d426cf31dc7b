"""Lab Streaming Layer input: list the streams on the network, and read one as a :class:`Source`.

The only module of the device layer that imports :mod:`pylsl`; errors from pylsl are translated
here into :class:`~addiction_index.errors.DeviceError`. Buffering and features stay with the
consumer (the session runner), as mne-lsl keeps its thin ``lsl`` binding apart from ``stream``.

Clocks. The project stamps everything in host seconds of :func:`time.monotonic`. liblsl's
``local_clock()`` is ``std::chrono::steady_clock`` (LSL FAQ, "What clock does LSL use?"); with
libstdc++ on Linux that is ``clock_gettime(CLOCK_MONOTONIC)``, the very clock behind
:func:`time.monotonic` (``time.get_clock_info("monotonic")``). Measured on the development host
(Linux 6.18, liblsl 1.18.0): the two readings agree to within the ~1 µs it takes to read them,
while ``CLOCK_MONOTONIC_RAW`` differs by 0.3 s. Other platforms need not agree (Python < 3.13 on
Windows reads ``GetTickCount64``, steady_clock reads ``QueryPerformanceCounter``), so
:func:`host_clock_offset` measures the offset once and it is added to every LSL timestamp (and
subtracted by the outlets); it is exactly 0.0 when the clocks agree within the measurement.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass

import numpy as np
import pylsl

from addiction_index.devices._source import SourceState
from addiction_index.errors import DeviceError, InputError
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["LslSource", "LslStreamSummary", "host_clock_offset", "list_lsl_streams"]

# LSL content types (XDF conventions and common tools), lower-cased without " _-".
_KINDS = {
    "eeg": StreamKind.EEG,
    "ecg": StreamKind.ECG,
    "ppg": StreamKind.PPG,
    "hr": StreamKind.HR,
    "heartrate": StreamKind.HR,
    "rr": StreamKind.RR,
    "rri": StreamKind.RR,
    "markers": StreamKind.MARKER,
    "marker": StreamKind.MARKER,
    "acc": StreamKind.ACC,
    "accelerometer": StreamKind.ACC,
}
# liblsl channel formats, indexed by their cf_* codes (a protocol constant since LSL 1.0).
_FORMATS = ("undefined", "float32", "double64", "string", "int32", "int16", "int8", "int64")
_DTYPES = {1: np.float32, 2: np.float64, 4: np.int32, 5: np.int16, 6: np.int8, 7: np.int64}
# Units the features rely on (µV, ms) and the factors that bring other spellings to them.
_CANONICAL_UNIT = {StreamKind.EEG: "uV", StreamKind.ECG: "uV", StreamKind.HR: "bpm"}
_CANONICAL_UNIT[StreamKind.RR] = "ms"
_VOLTS = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "microvolt": 1.0, "microvolts": 1.0}
_VOLTS |= {"mv": 1e3, "millivolt": 1e3, "millivolts": 1e3, "v": 1e6, "volt": 1e6, "volts": 1e6}
_SCALES = {StreamKind.EEG: _VOLTS, StreamKind.ECG: _VOLTS}
_SCALES[StreamKind.RR] = {"ms": 1.0, "millisecond": 1.0, "milliseconds": 1.0, "s": 1e3}
_MAX_CHUNK = 1024  # samples per pull
_MAX_PENDING = 64  # items handed to the loop and not yet taken; then LSL buffers


def _type_key(lsl_type: str) -> str:
    return "".join(c for c in lsl_type.lower() if c not in " _-")


@functools.cache
def host_clock_offset() -> float:
    """Seconds to add to an LSL ``local_clock()`` time to get :func:`time.monotonic` time.

    Measured once (the tightest of 20 bracketed readings); 0.0 when the two clocks agree within
    the bracket, as they do on Linux (see the module docstring).
    """
    best = (np.inf, 0.0)
    for _ in range(20):
        before = time.monotonic()
        lsl = pylsl.local_clock()
        after = time.monotonic()
        best = min(best, (after - before, (before + after) / 2 - lsl))
    width, offset = best
    return 0.0 if abs(offset) <= width + 1e-6 else offset


@dataclass(frozen=True, slots=True)
class LslStreamSummary:
    """One stream visible on the network (rate in Hz, 0 = irregular)."""

    name: str
    type: str
    channel_count: int
    nominal_rate: float
    channel_format: str
    source_id: str
    hostname: str

    @classmethod
    def from_info(cls, info: pylsl.StreamInfo) -> LslStreamSummary:
        fmt = info.channel_format()
        core = (info.name(), info.type(), info.channel_count(), info.nominal_srate())
        fmt_name = _FORMATS[fmt] if 0 <= fmt < len(_FORMATS) else "undefined"
        return cls(*core, fmt_name, info.source_id(), info.hostname())

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def list_lsl_streams(wait_s: float = 1.0) -> list[LslStreamSummary]:
    """The LSL streams visible within ``wait_s`` seconds (< 0.5 s may miss some), sorted by name."""
    if not wait_s > 0:
        raise InputError("wait_s", wait_s, "a positive number of seconds")
    try:
        infos = pylsl.resolve_streams(wait_s)
    except RuntimeError as exc:
        raise DeviceError("lsl", f"cannot list LSL streams: {exc}") from exc
    return sorted((LslStreamSummary.from_info(i) for i in infos), key=lambda s: (s.name, s.type))


def _literal(key: str, value: str) -> str:
    """An XPath 1.0 string literal (which cannot escape quotes: pick the one not in the value)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise InputError(key, value, "a value without both ' and \" (LSL queries cannot hold both)")


class LslSource:
    """One LSL stream, chosen by name and/or type and/or source_id, as a :class:`Source`.

    :meth:`connect` resolves the stream (waiting up to ``timeout_s``), opens an inlet with clock
    synchronisation and dejittering and fills :attr:`streams`; call it before building a session
    runner (it blocks: from async code use ``await asyncio.to_thread(source.connect)``); samples
    are buffered by LSL from then on. :meth:`chunks` connects if needed, then one worker thread
    pulls with a blocking ``pull_chunk(timeout=poll_s)`` and hands each chunk to the loop with
    ``call_soon_threadsafe``. Timestamps are host monotonic seconds (:func:`host_clock_offset`).

    The LSL type gives the kind, case-insensitively (EEG, ECG, PPG, HR/HeartRate, RR/RRI,
    Markers, ACC/Accelerometer) unless ``kind`` is given. Channel names and units come from the
    stream's ``desc/channels/channel`` (``label``, ``unit``), else ch1..chN. EEG and ECG are
    brought to µV (from V or mV) and RR to ms (from s); a missing unit is taken to be that
    unit. String streams yield :class:`Marker` objects: label = first channel; a second channel
    holding a JSON object (as ``sessions._lsl_outlets.LslPublisher`` sends) gives block, value
    and meta. Numeric streams yield :class:`Chunk` objects (float64). The stream is named
    ``<LSL name>/<kind>`` (device: the LSL name); :attr:`summary_` describes what was found.

    ``timeout_s`` bounds each step of connecting; ``poll_s`` is the pull timeout (how soon the
    worker notices a stop); ``max_buffer_s`` is the inlet's buffer (LSL: seconds for a regular
    stream, hundreds of samples for an irregular one).

    State: connecting, then streaming; reconnecting after ``stall_s`` without data on a regular
    or HR stream (the inlet recovers by itself, ``recover=True``); lost if the stream cannot be
    recovered (no source_id), and the iterator raises :class:`DeviceError`; stopped on exit.
    """

    def __init__(
        self,
        stream_name: str | None = None,
        *,
        stream_type: str | None = None,
        source_id: str | None = None,
        kind: StreamKind | None = None,
        timeout_s: float = 5.0,
        stall_s: float = 3.0,
        poll_s: float = 0.05,
        max_buffer_s: int = 360,
    ) -> None:
        query = {"name": stream_name, "type": stream_type, "source_id": source_id}
        self.query = {k: v for k, v in query.items() if v is not None}
        if not self.query:
            raise InputError("stream_name", None, "a stream name, type or source_id to look for")
        for key, value in (("timeout_s", timeout_s), ("stall_s", stall_s), ("poll_s", poll_s)):
            if not value > 0:
                raise InputError(key, value, "a positive number of seconds")
        self.name = "lsl:" + ",".join(f"{k}={v}" for k, v in self.query.items())
        self.kind, self.timeout_s, self.stall_s, self.poll_s = kind, timeout_s, stall_s, poll_s
        self.max_buffer_s = max_buffer_s
        self.streams: tuple[StreamInfo, ...] = ()
        self.state = SourceState.IDLE
        self.summary_: LslStreamSummary | None = None
        self._inlet: pylsl.StreamInlet | None = None
        self._scale = 1.0

    # -- connection ----------------------------------------------------------------------------
    def connect(self) -> tuple[StreamInfo, ...]:
        """Find the stream, open its inlet and describe it; blocking (up to ~2 x ``timeout_s``)."""
        if self._inlet is not None:
            return self.streams
        self.state = SourceState.CONNECTING
        found = self._resolve()
        try:
            inlet = pylsl.StreamInlet(
                found,
                max_buflen=self.max_buffer_s,
                recover=True,
                processing_flags=pylsl.proc_clocksync | pylsl.proc_dejitter,
            )
            full = inlet.info(self.timeout_s)
            inlet.open_stream(self.timeout_s)
            inlet.time_correction(self.timeout_s)  # first estimate now, not on the first pull
        except RuntimeError as exc:  # pylsl's TimeoutError, LostError, ... derive from it
            self.state = SourceState.LOST
            raise DeviceError(self.name, f"cannot open the LSL stream: {exc}") from exc
        try:
            self.streams = (self._describe(full),)
        except DeviceError:
            self.state = SourceState.LOST
            inlet.close_stream()
            raise
        self.summary_ = LslStreamSummary.from_info(full)
        self._inlet = inlet
        return self.streams

    def _resolve(self) -> pylsl.StreamInfo:
        terms = [f"{k}={_literal(k, v)}" for k, v in self.query.items() if k != "type"]
        if "type" in self.query:  # case-insensitive: LSL itself compares exactly
            lower, upper = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            wanted = _literal("stream_type", self.query["type"].upper())
            terms.append(f"translate(type,'{lower}','{upper}')={wanted}")
        try:
            found = pylsl.resolve_bypred(" and ".join(terms), 1, self.timeout_s)
        except RuntimeError as exc:
            raise DeviceError(self.name, f"cannot search for LSL streams: {exc}") from exc
        wanted_text = ", ".join(f"{k}={v!r}" for k, v in self.query.items())
        if len(found) == 1:
            return found[0]
        self.state = SourceState.LOST
        if found:
            listed = "; ".join(_show(LslStreamSummary.from_info(i)) for i in found)
            raise DeviceError(self.name, f"{len(found)} LSL streams match {wanted_text}: {listed}")
        visible = "; ".join(_show(s) for s in list_lsl_streams(1.0)) or "none"
        raise DeviceError(
            self.name,
            f"no LSL stream with {wanted_text} within {self.timeout_s} s; visible: {visible}",
        )

    def _describe(self, info: pylsl.StreamInfo) -> StreamInfo:
        n, fmt = info.channel_count(), info.channel_format()
        kind = StreamKind.MARKER if fmt == pylsl.cf_string else self.kind
        kind = kind or _KINDS.get(_type_key(info.type()))
        if fmt != pylsl.cf_string and fmt not in _DTYPES:
            raise DeviceError(self.name, f"LSL channel format {fmt} is not supported")
        if kind is None:
            known = ", ".join(sorted(_KINDS))
            raise DeviceError(self.name, f"LSL type {info.type()!r} is not one of: {known}")
        labels, units = [f"ch{i + 1}" for i in range(n)], [""] * n
        channel, i = info.desc().child("channels").child("channel"), 0
        found_labels = []
        while not channel.empty() and i < n:
            found_labels.append(channel.child_value("label"))
            units[i] = channel.child_value("unit")
            channel, i = channel.next_sibling("channel"), i + 1
        if len(found_labels) == n and all(found_labels) and len(set(found_labels)) == n:
            labels = found_labels
        canonical, scales = _CANONICAL_UNIT.get(kind), _SCALES.get(kind, {})
        if canonical and len(set(units)) == 1:
            given = units[0].strip().lower()
            if given in scales or not given:
                self._scale = scales.get(given, 1.0)
                units = [canonical] * n
        rate = info.nominal_srate()
        return StreamInfo(
            f"{info.name()}/{kind}", kind, tuple(labels), tuple(units), rate, info.name()
        )

    # -- acquisition ---------------------------------------------------------------------------
    async def chunks(self) -> AsyncIterator[Chunk | Marker]:
        """Yield chunks (and markers) as they arrive; see the class docstring."""
        inlet = self._inlet
        while inlet is None:  # connect() sets the inlet or raises
            await asyncio.to_thread(self.connect)
            inlet = self._inlet
        info = self.streams[0]
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Chunk | list[Marker] | BaseException] = asyncio.Queue()
        stop, slots = threading.Event(), threading.BoundedSemaphore(_MAX_PENDING)

        def post(item: Chunk | list[Marker] | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                stop.set()

        worker = threading.Thread(
            target=self._pull, args=(inlet, info, post, stop, slots), name=self.name, daemon=True
        )
        watch = info.regular or info.kind is StreamKind.HR
        worker.start()
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                    # cancellation that lands as the get completes (the source then never stops)
                    async with asyncio.timeout(self.stall_s if watch else None):
                        item = await queue.get()
                except TimeoutError:
                    if self.state is SourceState.STREAMING:
                        self.state = SourceState.RECONNECTING
                    continue
                if isinstance(item, BaseException):
                    self.state = SourceState.LOST
                    raise DeviceError(self.name, f"LSL stream failed: {item}") from item
                slots.release()
                self.state = SourceState.STREAMING
                if isinstance(item, Chunk):
                    yield item
                else:
                    for marker in item:
                        yield marker
        finally:
            stop.set()
            try:
                while worker.is_alive():  # ends within one poll_s; the loop keeps running
                    await asyncio.sleep(self.poll_s / 4)
            finally:
                worker.join()
                self.close()
                if self.state is not SourceState.LOST:
                    self.state = SourceState.STOPPED

    def close(self) -> None:
        """Close the inlet (the next :meth:`chunks` connects again); call only when not pulling."""
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()
            del inlet  # pylsl destroys the inlet with its last reference

    def _pull(
        self,
        inlet: pylsl.StreamInlet,
        info: StreamInfo,
        post: Callable[[Chunk | list[Marker] | BaseException], None],
        stop: threading.Event,
        slots: threading.BoundedSemaphore,
    ) -> None:
        """Worker thread: pull, convert, wait for a free slot, post. Touches no asyncio object."""
        offset = host_clock_offset()
        dtype = _DTYPES.get(inlet.channel_format)
        buf = None if dtype is None else np.empty((_MAX_CHUNK, info.n_channels), dtype)
        try:
            while not stop.is_set():
                # Wait up to poll_s for one sample, then take what else has arrived (liblsl's
                # pull_chunk with a timeout would otherwise wait for a full buffer).
                if buf is None:
                    first, t1 = inlet.pull_chunk(self.poll_s, 1)
                    more, t2 = inlet.pull_chunk(0.0, _MAX_CHUNK - 1) if t1 else ([], [])
                else:
                    _, t1 = inlet.pull_chunk(self.poll_s, 1, buf[:1])
                    _, t2 = inlet.pull_chunk(0.0, _MAX_CHUNK - 1, buf[1:]) if t1 else (0, [])
                if not t1:
                    continue
                times = np.concatenate([t1, t2]) + offset
                if buf is None:
                    item: Chunk | list[Marker] = [
                        _marker(t, v) for t, v in zip(times.tolist(), first + more, strict=True)
                    ]
                else:
                    samples = buf[: times.size].astype(np.float64)
                    if self._scale != 1.0:
                        samples *= self._scale
                    item = Chunk(info, times, samples)
                while not slots.acquire(timeout=self.poll_s):
                    if stop.is_set():
                        return
                post(item)
        except Exception as exc:  # pylsl errors end the stream; the loop raises DeviceError
            if not stop.is_set():
                post(exc)


def _marker(t: float, values: list[str]) -> Marker:
    """A marker from one string sample: label, and optional JSON {block, value, meta}."""
    try:
        extra = json.loads(values[1]) if len(values) > 1 else {}
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        extra = {"meta": {"values": values[1:]}}
    block, value, meta = extra.get("block"), extra.get("value"), extra.get("meta")
    return Marker(
        t,
        values[0],
        None if block is None else str(block),
        float(value) if isinstance(value, int | float) else None,
        meta if isinstance(meta, dict) else {},
    )


def _show(s: LslStreamSummary) -> str:
    rate = f"{s.nominal_rate:g} Hz" if s.nominal_rate else "irregular"
    return f"{s.name!r} ({s.type or 'no type'}, {s.channel_count} ch, {rate}, host {s.hostname})"
