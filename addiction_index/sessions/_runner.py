"""The session runner: drives a protocol over any set of sources on one asyncio loop.

Sources are pumped into one bounded queue by their own tasks; one consumer writes each chunk into
its stream's ring buffer and, every hop, once every stream has data up to the hop's time (the
watermark), computes the hop's features and live craving score in a worker thread, so heavy work
never blocks the loop that receives notifications. Protocol markers (block starts and ends, cues,
ratings) are emitted as the watermark crosses their times. At the end the session index is scored.
"""

from __future__ import annotations

import asyncio
import math
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np

from addiction_index.devices._source import Source, SourceState
from addiction_index.errors import DeviceError, InputError
from addiction_index.features.artifacts import motion_level
from addiction_index.features.extract import HopFeatures
from addiction_index.features.hrv import InsufficientDataWarning
from addiction_index.features.quality import QualityFlag
from addiction_index.features.spec import FeatureSpec
from addiction_index.models._craving import CravingEstimate, LiveCraving
from addiction_index.models._definition import ModelDefinition
from addiction_index.models._session_index import BlockData, IndexResult, score_session
from addiction_index.sessions._beats import BeatsFromWaveform
from addiction_index.sessions._protocol import Protocol, ScheduledBlock
from addiction_index.sessions._usability import block_usability
from addiction_index.signals.clock import Clock
from addiction_index.signals.ring import RingBuffer
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["HopRecord", "Rater", "SessionOutcome", "SessionRunner", "SessionSink"]

_EEG_RING_S = 30.0
_EVENT_RING = 8192
_QUEUE_CHUNKS = 64
_FLUSH_EVERY_S = 1.0
_IDLE_S = 1.0  # wall seconds without a chunk before the watermark is checked again
_LATENCY_S = 1.0  # how far behind the clock the protocol runs when no source is streaming


@dataclass(frozen=True, slots=True)
class HopRecord:
    """One hop: its time (host s), the block it fell in, its features and live craving score."""

    t: float
    block: ScheduledBlock | None
    features: dict[str, float]
    craving: CravingEstimate


@dataclass
class SessionOutcome:
    """What a finished (or stopped) session produced."""

    origin: float
    duration_s: float
    index: IndexResult
    ratings: dict[str, float]
    resting_hr_bpm: float | None
    hops: int
    completed: bool
    markers: list[Marker] = field(default_factory=list)
    usability: list[dict[str, Any]] = field(default_factory=list)


class SessionSink(TypingProtocol):
    """Consumes what a session produces; methods are called on the loop and must be quick.

    A sink that also defines ``on_chunk(chunk)`` receives every raw chunk as it arrives (a
    recorder, an LSL outlet); the runner looks for that method once, when :meth:`run` starts.
    """

    def on_marker(self, marker: Marker) -> None: ...

    def on_hop(self, hop: HopRecord) -> None: ...

    def flush(self) -> None:
        """Write what was buffered; called about once a second from a worker thread."""
        ...


class Rater(TypingProtocol):
    """Whoever gives the craving ratings: the resident through the clinician, or a simulation."""

    async def rate(self, moment: str, t: float) -> float | None: ...


class SessionRunner:
    """Runs ``protocol`` over ``sources``; see the module docstring."""

    def __init__(
        self,
        protocol: Protocol,
        sources: Sequence[Source],
        *,
        definition: ModelDefinition,
        spec: FeatureSpec,
        clock: Clock,
        rater: Rater | None = None,
        sinks: Sequence[SessionSink] = (),
        presenters: Sequence[Callable[[list[ScheduledBlock]], None]] = (),
        bootstrap_seed: int = 0,
        wait_for_beats: bool = True,
        index_model: Any | None = None,
        craving_model: Any | None = None,
    ) -> None:
        if not sources:
            raise InputError("sources", sources, "at least one source")
        self.protocol, self.sources, self.definition, self.spec = (
            protocol,
            sources,
            definition,
            spec,
        )
        self.clock, self.rater, self.sinks = clock, rater, list(sinks)
        # A promoted trained index model (models promote NAME), or None: the transparent default.
        self.index_model = index_model
        # The index's bootstrap is part of the analysis, not of the data: one fixed seed, so a
        # recording replayed later gives the same interval and confidence.
        self.bootstrap_seed = bootstrap_seed
        self.presenters = list(presenters)
        self._chunk_sinks: list[Callable[[Chunk], None]] = []
        streams = [s for src in sources for s in src.streams]
        self.eeg = next((s for s in streams if s.kind is StreamKind.EEG), None)
        self.hr = next((s for s in streams if s.kind is StreamKind.HR), None)
        self.rr = next((s for s in streams if s.kind is StreamKind.RR), None)
        # The headband's own accelerometer (Muse) flags head motion in the EEG windows.
        self.acc = next(
            (
                s
                for s in streams
                if s.kind is StreamKind.ACC and self.eeg is not None and s.device == self.eeg.device
            ),
            None,
        )
        if self.eeg is not None and tuple(self.eeg.channels) != tuple(spec.channels):
            raise InputError("EEG channels", self.eeg.channels, f"the spec's {spec.channels}")
        # No strap RR: beats from an ECG's R-peaks, else from a PPG's pulse peaks.
        waveform = None
        if self.rr is None:
            waveform = next((s for s in streams if s.kind is StreamKind.ECG), None) or next(
                (s for s in streams if s.kind is StreamKind.PPG), None
            )
        self._beats_from = BeatsFromWaveform(waveform) if waveform is not None else None
        if self._beats_from is not None:
            self.rr = self._beats_from.stream
        self.rings: dict[str, RingBuffer] = {}
        for s in [*streams, *([self.rr] if self._beats_from is not None else [])]:
            capacity = int(_EEG_RING_S * s.nominal_rate) if s.regular else _EVENT_RING
            self.rings[s.name] = RingBuffer(capacity, s.n_channels)
        # Streams whose last timestamp says how far a source has delivered (RR beats lag).
        # Streams whose delivery a hop waits for. With ``wait_for_beats`` the strap's once-a-
        # second notifications are waited for too, so a hop's heart features hold every beat up
        # to its time and a session gives the same numbers however it is scheduled (simulation,
        # replay); without it a hop is computed as soon as the EEG is in (live use: lower
        # latency; the 120 s heart window then ends at the last notification, < 1 s earlier).
        # Only the streams the features use count (a headband's PPG or accelerometer do not).
        waited = {self.eeg, self.hr} if (wait_for_beats or self.eeg is None) else {self.eeg}
        self._clock_streams = [
            (src, s) for src in sources for s in src.streams if s in waited and s is not None
        ]
        self._features = HopFeatures(spec)
        if craving_model is None:
            self._craving: Any = LiveCraving(definition)
        else:  # a promoted trained model (models promote NAME)
            from addiction_index.models._trained_craving import TrainedLiveCraving

            self._craving = TrainedLiveCraving(craving_model, spec)
        self._window = np.empty((spec.eeg_window_samples, len(spec.channels)))
        self._window_times = np.empty(spec.eeg_window_samples)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="features")
        self.hops: list[HopRecord] = []
        self.markers: list[Marker] = []
        self.ratings: dict[str, float] = {}
        self.beats: tuple[list[float], list[float]] = ([], [])
        self.schedule: list[ScheduledBlock] = []
        self.state = "idle"

    # -- public ------------------------------------------------------------------------------
    async def run(self) -> SessionOutcome:
        """Run the whole protocol; on cancellation the sources are stopped and the error raised."""
        loop = asyncio.get_running_loop()
        clock = self.clock
        origin = clock.now()
        self.schedule = self.protocol.schedule(origin)
        # sinks added after construction (a web viewer joining through ``on_runner``) count too
        self._chunk_sinks = [s.on_chunk for s in self.sinks if hasattr(s, "on_chunk")]
        for present in self.presenters:  # whoever shows the cues follows the same schedule
            present(self.schedule)
        end = origin + self.protocol.duration_s
        queue: asyncio.Queue[Chunk | Marker] = asyncio.Queue(_QUEUE_CHUNKS)
        join, leave = getattr(clock, "join", None), getattr(clock, "leave", None)
        if join:
            join()  # hold the clock until every source has joined it
        pumps = [asyncio.create_task(self._pump(src, queue), name=src.name) for src in self.sources]
        driver = asyncio.create_task(clock.run()) if hasattr(clock, "run") else None
        await asyncio.sleep(0)
        if leave:
            leave()
        self.state = "running"
        pending = self._timeline_markers(origin)
        next_hop = origin + self.spec.hop_s
        first_hop = origin + self.spec.eeg_window_samples / self.spec.fs
        last_flush = time.monotonic()
        try:
            await self._emit(Marker(origin, "session_start", meta={"protocol": self.protocol.name}))
            while True:
                item = await self._next_chunk(queue, pumps)
                if item is not None:
                    self._store(item)
                while not queue.empty():  # take everything already delivered
                    self._store(queue.get_nowait())
                watermark = self._watermark()
                # Hops and markers up to the watermark, in time order (a hop at a block's end
                # belongs to that block and comes before its end marker). The hops due before
                # the next marker are computed in one call to the worker thread.
                while True:
                    t_marker = pending[0].timestamp if pending else math.inf
                    due = []
                    while next_hop <= min(watermark, end, t_marker):
                        if next_hop >= first_hop - 1e-9:
                            due.append(next_hop)
                        next_hop += self.spec.hop_s
                    if due:
                        hops = await loop.run_in_executor(self._executor, self._hops, due)
                        self.hops.extend(hops)
                        for hop in hops:
                            for sink in self.sinks:
                                sink.on_hop(hop)
                    if t_marker <= watermark:
                        await self._emit(pending.pop(0))
                    else:
                        break
                if time.monotonic() - last_flush >= _FLUSH_EVERY_S:
                    await loop.run_in_executor(self._executor, self._flush)
                    last_flush = time.monotonic()
                if watermark >= end:
                    break
                if item is None and queue.empty() and all(task.done() for task in pumps):
                    raise self._sources_ended(pumps)
            while pending:
                await self._emit(pending.pop(0))
            self.state = "scoring"
            index = await loop.run_in_executor(self._executor, self._score)
            await loop.run_in_executor(self._executor, self._flush)
            self.state = "completed"
            return SessionOutcome(
                origin,
                self.protocol.duration_s,
                index,
                dict(self.ratings),
                self._resting_hr(),
                len(self.hops),
                True,
                list(self.markers),
                block_usability(self.schedule, self.hops, self.spec.channels),
            )
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            if driver is not None:
                clock.close()  # type: ignore[attr-defined]
                await driver
            self._executor.shutdown(wait=True)
            if self.state != "completed":
                self.state = "stopped"
                self._flush()

    def record_marker(self, marker: Marker) -> None:
        """Add an event that happened outside the sources (a cue shown on the presenter's screen,
        at its time on this session's clock): kept with the session's markers and passed to
        every sink. Call on the session's event loop."""
        self._store(marker)

    def block_at(self, t: float) -> ScheduledBlock | None:
        for block in self.schedule:
            if block.start <= t < block.end:
                return block
        return None

    # -- acquisition ---------------------------------------------------------------------------
    @staticmethod
    async def _pump(source: Source, queue: asyncio.Queue[Chunk | Marker]) -> None:
        async for item in source.chunks():
            await queue.put(item)

    @staticmethod
    async def _next_chunk(
        queue: asyncio.Queue[Chunk | Marker], pumps: list[asyncio.Task]
    ) -> Chunk | Marker | None:
        """The next chunk, or None after a second without one (the caller then re-checks the
        watermark: a source may have changed state without sending anything)."""
        if not queue.empty():
            return queue.get_nowait()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that lands as get() completes, and a stopped session would run on to its end
            async with asyncio.timeout(_IDLE_S):
                return await queue.get()
        except TimeoutError:
            return None

    @staticmethod
    def _sources_ended(pumps: list[asyncio.Task]) -> DeviceError:
        failed = [t for t in pumps if not t.cancelled() and t.exception() is not None]
        cause = failed[0].exception() if failed else None
        names = ", ".join(t.get_name() for t in pumps)
        error = DeviceError(names, f"every source ended before the protocol did ({cause!r})")
        error.__cause__ = cause
        return error

    def _store(self, chunk: Chunk | Marker) -> None:
        if isinstance(chunk, Marker):  # an event from a source: passed on as it is
            self.markers.append(chunk)
            for sink in self.sinks:
                sink.on_marker(chunk)
            return
        if self.rr is not None and chunk.stream.name == self.rr.name:
            rr = chunk.samples[:, 0]
            ok = np.isfinite(rr) & (rr > 0)  # any source: an RR of 0 or NaN is no beat
            if not ok.all():
                chunk = Chunk(chunk.stream, chunk.timestamps[ok], chunk.samples[ok])
        self.rings[chunk.stream.name].write(chunk.timestamps, chunk.samples)
        for on_chunk in self._chunk_sinks:
            on_chunk(chunk)
        if self.rr is not None and chunk.stream.name == self.rr.name:
            self.beats[0].extend(chunk.timestamps.tolist())
            self.beats[1].extend(chunk.samples[:, 0].tolist())
        elif self._beats_from is not None and chunk.stream == self._beats_from.source:
            beats = self._beats_from.update(chunk)
            if beats is not None:
                self._store(beats)

    def _watermark(self) -> float:
        """How far every streaming source has delivered (host s).

        A source that is reconnecting, lost or finished does not hold the session back: a gap
        shows as missing features. With no source streaming, the protocol follows the clock
        (or the data already delivered, when that is further on: a finished recording).
        """
        live = [
            self.rings[s.name].last_timestamp
            for src, s in self._clock_streams
            if src.state is SourceState.STREAMING
        ]
        if live:
            return min(live)
        delivered = [self.rings[s.name].last_timestamp for _, s in self._clock_streams]
        return max([*delivered, self.clock.now() - _LATENCY_S])

    # -- protocol ------------------------------------------------------------------------------
    def _timeline_markers(self, origin: float) -> list[Marker]:
        markers: list[Marker] = []
        for sb in self.schedule:
            b = sb.block
            if b.rating_before:
                markers.append(Marker(sb.start, "rating", b.id, meta={"moment": b.rating_before}))
            markers.append(Marker(sb.start, "block_start", b.id, meta={"role": str(b.role)}))
            if b.cues is not None:
                n = int(b.duration_s // b.cues.seconds_per_cue)
                for i in range(n):
                    markers.append(
                        Marker(
                            sb.start + i * b.cues.seconds_per_cue,
                            "cue",
                            b.id,
                            meta={"set": b.cues.set, "number": i + 1},
                        )
                    )
            markers.append(Marker(sb.end, "block_end", b.id, meta={"role": str(b.role)}))
            if b.rating_after:
                markers.append(Marker(sb.end, "rating", b.id, meta={"moment": b.rating_after}))
        markers.sort(key=lambda m: m.timestamp)  # stable: keeps the order above at equal times
        return markers

    async def _emit(self, marker: Marker) -> None:
        if marker.label == "rating":
            moment = str(marker.meta["moment"])
            value = await self.rater.rate(moment, marker.timestamp) if self.rater else None
            if value is None:
                return
            self.ratings[moment] = float(value)
            marker = Marker(marker.timestamp, "rating", marker.block, float(value), marker.meta)
        self.markers.append(marker)
        for sink in self.sinks:
            sink.on_marker(marker)
        if marker.label == "block_end" and marker.meta.get("role") == "baseline":
            block = next(b for b in self.schedule if b.block.id == marker.block)
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._set_baseline, block
            )

    # -- features and scores (worker thread) ----------------------------------------------------
    def _window_complete(self, times: np.ndarray, t: float) -> bool:
        """True when the EEG window ends at ``t`` and holds no gap (else its features are NaN)."""
        period = 1.0 / self.spec.fs
        span = times[-1] - times[0]
        return times[-1] >= t - 2 * period and span <= (times.size - 1) * period * 1.01 + period

    def _motion_bits(self, t: float) -> int:
        """MOTION (32) when the headband's accelerometer moved during the EEG window ending at t."""
        if self.acc is None:
            return 0
        ring = self.rings[self.acc.name]
        n = round(self.spec.eeg_window_s * self.acc.nominal_rate)
        if n < 2 or ring.rows_until(t) < n:
            return 0
        samples = ring.window_until(t, n)[0]
        level = motion_level(np.ascontiguousarray(samples[:, :3].T[None]))[0]
        return int(QualityFlag.MOTION) if level > self.spec.quality.motion.threshold_g else 0

    def _hops(self, times: list[float]) -> list[HopRecord]:
        return [self._hop(t) for t in times]

    def _hop(self, t: float) -> HopRecord:
        features: dict[str, float] = {}
        if self.eeg is not None:
            ring = self.rings[self.eeg.name]
            n = self.spec.eeg_window_samples
            if ring.rows_until(t) >= n:
                times = ring.window_until(t, n, out=self._window, times_out=self._window_times)[1]
                if self._window_complete(times, t):
                    end = ring.index_until(t)  # windows of one stream share segment spectra
                    features.update(self._features.eeg(self._window, end, self._motion_bits(t)))
        if self.rr is not None:
            rr_times, rr = self.rings[self.rr.name].since(t - self.spec.heart_window_s)
            with warnings.catch_warnings():
                # Until 30 s of beats are in, HR and RMSSD are NaN by design (shown as "—").
                warnings.simplefilter("ignore", InsufficientDataWarning)
                features.update(self._features.heart(rr_times, rr[:, 0], t))
        return HopRecord(t, self.block_at(t - 1e-9), features, self._craving.score(features))

    def _hop_table(self, hops: list[HopRecord]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        names = sorted({k for h in hops for k in h.features})
        times = np.array([h.t for h in hops])
        table = {k: np.array([h.features.get(k, math.nan) for h in hops]) for k in names}
        return times, table

    def _set_baseline(self, block: ScheduledBlock) -> None:
        settle = block.start + self.definition.quality.settle_s
        window_s = self.spec.eeg_window_samples / self.spec.fs
        hops = [h for h in self.hops if h.t - window_s >= settle and h.t <= block.end]
        if not hops:
            return
        times, table = self._hop_table(hops)
        self._craving.set_baseline(table, np.ones(times.size, dtype=bool))

    def _blocks(self) -> list[BlockData]:
        times, table = self._hop_table(self.hops)
        rr_t, rr = np.array(self.beats[0]), np.array(self.beats[1])
        out = []
        for sb in self.schedule:
            in_hops = (times > sb.start) & (times <= sb.end + 1e-9)
            in_beats = (rr_t > sb.start) & (rr_t <= sb.end)
            out.append(
                BlockData(
                    sb.block.id,
                    str(sb.block.role),
                    sb.start,
                    sb.end,
                    times[in_hops],
                    {k: v[in_hops] for k, v in table.items()},
                    rr_t[in_beats],
                    rr[in_beats],
                )
            )
        return out

    def _score(self) -> IndexResult:
        blocks = self._blocks()
        default = score_session(
            self.definition,
            blocks,
            self.ratings,
            eeg_window_s=self.spec.eeg_window_samples / self.spec.fs,
            hop_s=self.spec.hop_s,
            seed=self.bootstrap_seed,
        )
        if self.index_model is None:
            return default
        from addiction_index.models._trained_index import trained_index

        return trained_index(self.index_model, blocks, self.spec, default)

    def _resting_hr(self) -> float | None:
        """Mean heart rate over the baseline block's beats (bpm), the prescription's resting HR."""
        base = next((b for b in self.schedule if str(b.block.role) == "baseline"), None)
        rr_t, rr = np.array(self.beats[0]), np.array(self.beats[1])
        if base is None or rr.size == 0:
            return None
        inside = (rr_t > base.start) & (rr_t <= base.end)
        if inside.sum() < 10:
            return None
        return float(60000.0 / rr[inside].mean())

    def _flush(self) -> None:
        for sink in self.sinks:
            sink.flush()

    @property
    def stream_infos(self) -> list[StreamInfo]:
        return [s for src in self.sources for s in src.streams]
