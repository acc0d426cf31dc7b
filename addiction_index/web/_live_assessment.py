"""A live assessment run by the web app: the session pipeline plus what its viewers see.

:class:`LiveAssessment` runs :func:`~addiction_index.sessions.run_simulated_assessment` (simulated
devices) or :func:`~addiction_index.sessions.run_assessment` (Bluetooth or LSL sources) as a task
on the server's event loop. The session stores everything itself, exactly as from the command
line; :class:`_BroadcastSink` publishes, on the assessment's :class:`Channel`:

- ``hello``: the protocol's schedule (session seconds), channels and the state so far (on join);
- ``eeg``: the EEG traces, decimated to about 64 Hz, with ``recv`` (server wall time the samples
  arrived: the viewer's latency is its receipt time minus ``recv``);
- ``hr``: heart rates in bpm as they arrive;
- ``hop``: every hop's block and time left, signal-quality lights, heart features and the live
  craving score with its confidence;
- ``marker``: block starts and ends, cues, ratings, cues shown by the presenter;
- ``devices``: each source's state when it changes; ``rating_request``: the question to ask
  the resident (real devices); ``state``: running, completed (with the stored session id),
  stopped or failed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from addiction_index.errors import AddictionIndexError
from addiction_index.features.quality import traffic_light
from addiction_index.sessions import HopRecord, SessionRunner
from addiction_index.sessions._protocol import ScheduledBlock, rating_question
from addiction_index.signals.streams import Chunk, Marker, StreamKind
from addiction_index.web._live_channel import Channel

__all__ = ["LiveAssessment", "WebRater"]

logger = logging.getLogger("addiction_index.web.live")

_TRACE_HZ = 64.0  # EEG sent to viewers at about this rate: enough to see the waves and artefacts
_RATING_WAIT_S = 180.0  # a rating not given in this time is skipped (the session goes on)
_RECENT_MARKERS = 64


@dataclass
class LiveAssessment:
    """One assessment running in the server; see the module docstring."""

    subject: str
    started_by: str
    simulated: bool
    speed: float
    live_id: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    channel: Channel = field(default_factory=Channel)
    state: str = "starting"
    error: str | None = None
    session_id: int | None = None
    runner: SessionRunner | None = None
    task: asyncio.Task[Any] | None = None
    origin: float | None = None
    last_hop: dict[str, Any] | None = None
    devices: list[dict[str, str]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    ratings: dict[str, float] = field(default_factory=dict)
    pending_ratings: dict[str, asyncio.Future[float | None]] = field(default_factory=dict)
    started_wall: float = field(default_factory=time.time)
    protocol: str | None = None
    channels: list[str] = field(default_factory=list)
    _schedule: list[dict[str, Any]] | None = field(default=None, repr=False)

    # -- what viewers see ------------------------------------------------------------------------
    def hello(self) -> dict[str, Any]:
        """The first message to a new viewer: everything needed to draw the page now."""
        return {
            "type": "hello",
            "live_id": self.live_id,
            "subject": self.subject,
            "simulated": self.simulated,
            "speed": self.speed,
            "state": self.state,
            "error": self.error,
            "session_id": self.session_id,
            "protocol": self.protocol,
            "channels": self.channels,
            "schedule": self.schedule(),
            "cue_pictures": self.cue_picture_counts(),
            "now_s": self.session_now(),
            "last_hop": self.last_hop,
            "devices": self.devices,
            "markers": self.markers[-_RECENT_MARKERS:],
            "ratings": self.ratings,
            "pending_ratings": [
                {"moment": m, "question": rating_question(m)} for m in self.pending_ratings
            ],
        }

    def schedule(self) -> list[dict[str, Any]]:
        """The protocol's blocks in session seconds, with their cue times (kept after the
        session ends, when the runner itself is released)."""
        if self._schedule is None:
            runner = self.runner
            if runner is None or not runner.schedule or self.origin is None:
                return []
            self._schedule = [self._block(sb) for sb in runner.schedule]
        return self._schedule

    def _block(self, sb: ScheduledBlock) -> dict[str, Any]:
        b, origin = sb.block, self.origin or 0.0
        cues = None
        if b.cues is not None:
            n = int(b.duration_s // b.cues.seconds_per_cue)
            cues = {
                "set": b.cues.set,
                "seconds_per_cue": b.cues.seconds_per_cue,
                "times_s": [sb.start - origin + i * b.cues.seconds_per_cue for i in range(n)],
            }
        return {
            "id": b.id,
            "role": str(b.role),
            "start_s": sb.start - origin,
            "end_s": sb.end - origin,
            "instructions": b.instructions,
            "cues": cues,
        }

    def release(self) -> None:
        """The session has ended: keep what viewers see, drop the runner (its hops, rings and
        sources), so finished sessions kept in the hub hold little memory."""
        self.schedule()
        self.runner = None

    def cue_picture_counts(self) -> dict[str, int]:
        """How many pictures the centre installed for each cue set of the protocol."""
        from addiction_index.web._cue_pictures import cue_pictures

        sets = {b["cues"]["set"] for b in self.schedule() if b["cues"]}
        return {s: len(cue_pictures(s)) for s in sorted(sets)}

    def session_now(self) -> float | None:
        """Seconds since the session's start on its own clock (None before it starts)."""
        if self.runner is None or self.origin is None:
            return None
        return self.runner.clock.now() - self.origin

    def publish_state(self) -> None:
        self.channel.publish(
            {
                "type": "state",
                "state": self.state,
                "session_id": self.session_id,
                "error": self.error,
            }
        )

    # -- the session's side ----------------------------------------------------------------------
    def attach(self, runner: SessionRunner) -> None:
        """Called with the runner before it starts (``on_runner``)."""
        self.runner = runner
        store_sink = runner.sinks[0]
        self.session_id = getattr(store_sink, "session_id", None)
        runner.sinks.append(_BroadcastSink(self, runner))
        runner.presenters.append(self._on_schedule)

    def _on_schedule(self, schedule: list[ScheduledBlock]) -> None:
        self.origin = schedule[0].start
        if self.runner is not None:
            self.protocol = self.runner.protocol.name
            self.channels = list(self.runner.spec.channels)
        self.state = "running"
        self.channel.publish(self.hello())

    def record_cue_shown(
        self, block: str, number: int, session_t: float, scheduled_s: float
    ) -> None:
        """The presenter showed cue ``number`` of ``block`` at ``session_t`` (session seconds on
        the session's clock, as the presenter estimated it): a ``cue_shown`` marker."""
        runner = self.runner
        if runner is None or self.origin is None or runner.state != "running":
            return
        marker = Marker(
            self.origin + session_t,
            "cue_shown",
            block,
            meta={"number": number, "offset_ms": round(1000 * (session_t - scheduled_s), 1)},
        )
        runner.record_marker(marker)

    def answer_rating(self, moment: str, value: float | None) -> bool:
        """Resolve the open rating ``moment`` (None: skipped); False when none is open."""
        future = self.pending_ratings.get(moment)
        if future is None or future.done():
            return False
        future.set_result(value)
        return True


class WebRater:
    """Craving ratings (VAS 0-100) typed in on the assessment page by the clinician."""

    def __init__(self, live: LiveAssessment, wait_s: float = _RATING_WAIT_S) -> None:
        self.live, self.wait_s = live, wait_s

    async def rate(self, moment: str, t: float) -> float | None:
        live = self.live
        future: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        live.pending_ratings[moment] = future
        live.channel.publish(
            {"type": "rating_request", "moment": moment, "question": rating_question(moment)}
        )
        try:
            async with asyncio.timeout(self.wait_s):  # not wait_for (see the runner)
                return await future
        except TimeoutError:
            return None
        finally:
            live.pending_ratings.pop(moment, None)
            live.channel.publish({"type": "rating_closed", "moment": moment})


class _BroadcastSink:
    """The session sink that turns chunks, hops and markers into viewer messages (on the loop)."""

    def __init__(self, live: LiveAssessment, runner: SessionRunner) -> None:
        self.live, self.runner = live, runner
        self._phase: dict[str, int] = {}
        self._devices: list[dict[str, str]] = []

    def on_chunk(self, chunk: Chunk) -> None:
        live, stream = self.live, chunk.stream
        if live.origin is None or not live.channel.subscribers:
            return
        if stream.kind is StreamKind.EEG:
            step = max(1, round(stream.nominal_rate / _TRACE_HZ))
            seen = self._phase.get(stream.name, 0)  # samples so far, modulo the step
            first = (-seen) % step
            self._phase[stream.name] = (seen + len(chunk.timestamps)) % step
            picked = slice(first, None, step)
            times = chunk.timestamps[picked]
            if times.size == 0:
                return
            live.channel.publish(
                {
                    "type": "eeg",
                    "t0": float(times[0]) - live.origin,
                    "fs": stream.nominal_rate / step,
                    "channels": list(stream.channels),
                    "samples": np.round(chunk.samples[picked], 1).T.tolist(),
                    "recv": time.time(),
                }
            )
        elif stream.kind in (StreamKind.HR, StreamKind.RR):
            values = chunk.samples[:, 0]
            bpm = values if stream.kind is StreamKind.HR else 60000.0 / values
            if stream.kind is StreamKind.RR and self.runner.hr is not None:
                return  # the strap's HR stream is shown; its RR only feeds the features
            live.channel.publish(
                {
                    "type": "hr",
                    "t": [float(t) - live.origin for t in chunk.timestamps],
                    "bpm": [round(float(b), 1) for b in bpm],
                    "recv": time.time(),
                }
            )

    def on_marker(self, marker: Marker) -> None:
        live = self.live
        if live.origin is None:
            return
        if marker.label == "rating" and marker.value is not None:
            live.ratings[str(marker.meta.get("moment"))] = float(marker.value)
        item = {
            "type": "marker",
            "label": marker.label,
            "block": marker.block,
            "t": marker.timestamp - live.origin,
            "value": marker.value,
            "meta": {k: v for k, v in marker.meta.items() if isinstance(v, str | int | float)},
        }
        live.markers.append(item)
        del live.markers[: -4 * _RECENT_MARKERS]
        live.channel.publish(item)

    def on_hop(self, hop: HopRecord) -> None:
        live, runner = self.live, self.runner
        if live.origin is None:
            return
        f, c = hop.features, hop.craving
        block = hop.block
        lights = {ch: traffic_light(f.get(f"eeg_quality_{ch}")) for ch in runner.spec.channels}
        lights["heart"] = traffic_light(f.get("heart_quality"))
        message = {
            "type": "hop",
            "t": hop.t - live.origin,
            "block": None if block is None else block.block.id,
            "role": None if block is None else str(block.block.role),
            "block_left_s": None if block is None else max(0.0, block.end - hop.t),
            "total_s": runner.protocol.duration_s,
            "quality": lights,
            "hr_bpm": _finite(f.get("hr_mean_bpm")),
            "rmssd_ms": _finite(f.get("hrv_rmssd_ms")),
            "craving": None if c.value is None else round(c.value, 1),
            "confidence": None if c.confidence is None else round(c.confidence, 2),
            "usable": bool(c.usable),
        }
        devices = [{"name": s.name, "state": str(s.state)} for s in runner.sources]
        if devices != live.devices:  # before the hop, which a viewer may act on
            live.devices = devices
            live.channel.publish({"type": "devices", "devices": devices})
        live.last_hop = message
        live.channel.publish(message)

    def flush(self) -> None:
        """Nothing to write: the store sink keeps the session."""


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 1)


def failure_text(exc: BaseException) -> str:
    """What the clinician is told when a live session fails (no personal data: errors name
    devices, files and fields, never residents)."""
    if isinstance(exc, AddictionIndexError):
        return str(exc)
    return f"the session stopped on an unexpected {type(exc).__name__}; see the server log"
