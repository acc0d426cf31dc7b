"""An exercise session: a heart-rate source, the live zone monitor, and the exercise log.

:func:`run_exercise_session` pumps one source (a strap over Bluetooth, an LSL stream, or the
simulated strap) on the asyncio loop, feeds every heart rate to a
:class:`~addiction_index.prescriptions._zone_monitor.ZoneMonitor`, passes its cues and alerts to
``on_event`` and writes them, with the running summary, to the exercise log about once a second
(in a worker thread, so the loop never blocks on the database). The session ends at the planned
minutes, on a stop alert (ceiling, lost sensor) or on a manual stop, and the reason is recorded.
Then the resident's RPE (Borg 6-20) and post-session craving (0-100) are asked of a rater.

Where the zone comes from (:func:`exercise_target`): a zone typed in, else the subject's latest
stored prescription, else age and resting heart rate (moderate, 40-59 % HRR, EVIDENCE 4.11).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.devices._source import Source
from addiction_index.errors import DeviceError, InputError
from addiction_index.prescriptions._zone_monitor import (
    ZoneEvent,
    ZoneMonitor,
    ZoneMonitorSettings,
    ZoneSummary,
)
from addiction_index.sessions._exercise_target import (
    DEFAULT_MINUTES,
    MODERATE_HRR,
    ExerciseTarget,
    exercise_target,
)
from addiction_index.signals.clock import Clock, SimulatedClock
from addiction_index.signals.streams import Chunk, Marker, StreamKind
from addiction_index.store._exercise_log import ExerciseLog, check_exercise_ratings
from addiction_index.store._repository import SessionStore

__all__ = [
    "DEFAULT_MINUTES",
    "MODERATE_HRR",
    "ExerciseRater",
    "ExerciseResult",
    "ExerciseTarget",
    "FixedRatings",
    "exercise_target",
    "run_exercise_session",
    "run_simulated_exercise",
]

_QUEUE_CHUNKS = 64
_FLUSH_EVERY_S = 1.0  # wall seconds between writes to the log
_POLL_S = 0.5  # wall seconds between checks while nothing arrives (real time only)
_STALE_AFTER_S = 120.0
# kind of the last event of a session, by (status, how the loop ended)
_END_KINDS = {
    ("completed", "planned"): "completed",
    ("stopped", "alert"): "stopped",
    ("stopped", "manual"): "manual_stop",
}


class ExerciseRater(Protocol):
    """Whoever gives the ratings after the session: the resident through the coach, or a test."""

    async def rate_after(self, summary: ZoneSummary) -> tuple[int | None, float | None]:
        """Return (RPE on Borg's 6-20 scale, craving 0-100); None for a rating not given."""
        ...


@dataclass(frozen=True)
class FixedRatings:
    """A rater with fixed answers (simulations, tests, and ``--rpe``/``--craving``)."""

    rpe: int | None = None
    craving: float | None = None

    async def rate_after(self, summary: ZoneSummary) -> tuple[int | None, float | None]:
        return self.rpe, self.craving


@dataclass
class ExerciseResult:
    """What a finished exercise session produced (also what ``--json`` prints)."""

    session_id: int
    subject: str
    database: str
    target: ExerciseTarget
    status: str
    stopped_reason: str | None
    summary: ZoneSummary
    rpe: int | None
    post_craving: float | None
    events: list[ZoneEvent] = field(default_factory=list)
    device: str = ""
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise_session_id": self.session_id,
            "subject": self.subject,
            "database": self.database,
            "device": self.device,
            "simulated": self.simulated,
            "target": self.target.to_dict(),
            "status": self.status,
            "stopped_reason": self.stopped_reason,
            "summary": self.summary.to_dict(),
            "rpe": self.rpe,
            "post_craving": self.post_craving,
            "events": [e.to_dict() for e in self.events],
            "statement": NOT_A_DIAGNOSIS,
        }


def _check_ratings(rpe: Any, craving: Any) -> tuple[int | None, float | None]:
    check_exercise_ratings(rpe, craving, craving_name="craving")
    return rpe, None if craving is None else float(craving)


class _HeartRates:
    """Heart rates (session s, bpm or None) from a source's chunks: the HR stream when the source
    has one, else 60000 / RR at each beat."""

    def __init__(self, source: Source, origin: float) -> None:
        streams = source.streams
        self.hr = next((s for s in streams if s.kind is StreamKind.HR), None)
        self.rr = (
            None
            if self.hr is not None
            else next((s for s in streams if s.kind is StreamKind.RR), None)
        )
        if self.hr is None and self.rr is None:
            raise InputError("source", source.name, "a source with a heart-rate or RR stream")
        self.origin = origin

    def of(self, chunk: Chunk) -> list[tuple[float, float | None]]:
        if chunk.stream == self.hr:
            values = chunk.samples[:, 0]
            scale = None
        elif chunk.stream == self.rr:
            values = chunk.samples[:, 0]
            scale = 60000.0
        else:
            return []
        out = []
        for ts, v in zip(chunk.timestamps.tolist(), values.tolist(), strict=True):
            bpm = (scale / v if v > 0 else math.nan) if scale else v
            out.append((ts - self.origin, bpm if math.isfinite(bpm) and bpm > 0 else None))
        return out


async def run_exercise_session(
    subject: str,
    target: ExerciseTarget,
    source: Source,
    clock: Clock,
    store: SessionStore | ExerciseLog,
    *,
    settings: ZoneMonitorSettings | None = None,
    rater: ExerciseRater | None = None,
    on_event: Callable[[ZoneEvent], None] | None = None,
    on_update: Callable[[float, float | None, ZoneMonitor], None] | None = None,
    stop: asyncio.Event | None = None,
    simulated: bool = False,
    seed: int | None = None,
    meta: Mapping[str, Any] | None = None,
) -> ExerciseResult:
    """Run one exercise session over ``source``; see the module docstring.

    ``on_event`` receives every monitor event, ``on_update(t, hr_bpm, monitor)`` every update
    (both on the loop: keep them quick). Setting ``stop`` ends the session as a manual stop.
    On cancellation or an error the session is stored as ``interrupted`` and the error raised.
    """
    log = store if isinstance(store, ExerciseLog) else ExerciseLog(store)
    monitor = ZoneMonitor(
        target.zone_bpm, target.ceiling_bpm, settings=settings, planned_s=target.planned_s
    )
    await asyncio.to_thread(log.close_interrupted, stale_after=_STALE_AFTER_S)
    session_id = await asyncio.to_thread(
        lambda: log.start(
            subject,
            zone_bpm=target.zone_bpm,
            ceiling_bpm=target.ceiling_bpm,
            planned_s=target.planned_s,
            zone_source=target.zone_source,
            device=source.name,
            exercise_type=target.exercise_type,
            prescription=target.prescription,
            prescription_session_id=target.prescription_session_id,
            settings=monitor.settings.to_dict(),
            simulated=simulated,
            seed=seed,
            meta=dict(meta or {}) | {"target": target.to_dict()},
        )
    )
    events: list[ZoneEvent] = []
    pending: list[Any] = []
    status, reason = "interrupted", "interrupted"
    try:
        ended = await _monitor_source(
            source, clock, monitor, events, pending, on_event, on_update, stop, log, session_id
        )
        if monitor.stopped is not None:
            status, reason = "stopped", str(monitor.stopped.kind)
        elif ended == "manual":
            status, reason = "stopped", "manual_stop"
        else:
            status, reason = "completed", None
        pending.append(_session_event(monitor.t, _END_KINDS[status, ended], monitor.hr_bpm))
        summary = monitor.summary()
        await asyncio.to_thread(log.add_events, session_id, pending, summary.to_dict())
        pending.clear()
        rpe, craving = (None, None)
        if rater is not None:
            rpe, craving = _check_ratings(*await rater.rate_after(summary))
        summary.stopped_reason = reason
        await asyncio.to_thread(
            lambda: log.finish(
                session_id,
                status=status,
                summary=summary.to_dict(),
                rpe=rpe,
                post_craving=craving,
                stopped_reason=reason,
            )
        )
    except BaseException:
        _finish_interrupted(log, session_id, monitor, pending)
        raise
    return ExerciseResult(
        session_id,
        subject,
        log.url,
        target,
        status,
        reason,
        summary,
        rpe,
        craving,
        events,
        device=source.name,
        simulated=simulated,
    )


def _session_event(t: float, kind: str, hr: float | None) -> dict[str, Any]:
    return {"t": t, "kind": kind, "severity": "info", "hr_bpm": hr}


def _finish_interrupted(
    log: ExerciseLog, session_id: int, monitor: ZoneMonitor, pending: list[Any]
) -> None:
    """Store what happened before an error or a cancellation (best effort, synchronous)."""
    try:
        pending.append(_session_event(monitor.t, "interrupted", monitor.hr_bpm))
        summary = monitor.summary().to_dict()
        log.add_events(session_id, pending, summary)
        log.finish(session_id, status="interrupted", summary=summary, stopped_reason="interrupted")
    except Exception:  # the original error matters more; the next start closes the row
        pass


async def _monitor_source(
    source: Source,
    clock: Clock,
    monitor: ZoneMonitor,
    events: list[ZoneEvent],
    pending: list[Any],
    on_event: Callable[[ZoneEvent], None] | None,
    on_update: Callable[[float, float | None, ZoneMonitor], None] | None,
    stop: asyncio.Event | None,
    log: ExerciseLog,
    session_id: int,
) -> str:
    """Feed the monitor until the plan ends (``"planned"``), a stop alert (``"alert"``) or a
    manual stop (``"manual"``)."""
    simulated = isinstance(clock, SimulatedClock)
    queue: asyncio.Queue[Chunk | Marker] = asyncio.Queue(_QUEUE_CHUNKS)
    join, leave = getattr(clock, "join", None), getattr(clock, "leave", None)
    if join:
        join()  # hold the clock until the source has joined it
    origin = clock.now()
    rates = _HeartRates(source, origin)
    pump = asyncio.create_task(_pump(source, queue), name=source.name)
    driver = asyncio.create_task(clock.run()) if hasattr(clock, "run") else None
    await asyncio.sleep(0)
    if leave:
        leave()
    planned = monitor.planned_s or math.inf
    last_flush = time.monotonic()
    last_update = 0.0

    def feed(t: float, hr: float | None) -> str | None:
        nonlocal last_update
        t = max(t, monitor.t)
        new = monitor.update(t, hr)
        last_update = t
        for event in new:
            events.append(event)
            pending.append(event)
            if on_event is not None:
                on_event(event)
        if on_update is not None:
            on_update(t, hr, monitor)
        if monitor.stopped is not None:
            return "alert"
        return "planned" if t >= planned else None

    try:
        while True:
            if stop is not None and stop.is_set():
                return "manual"
            item: Chunk | Marker | None
            if not queue.empty():
                item = queue.get_nowait()
            elif pump.done():
                if simulated:
                    exc = pump.exception() if not pump.cancelled() else None
                    raise DeviceError(source.name, f"the source ended ({exc!r})") from exc
                item = None  # a real source gave up: the lost-sensor alert will stop us
                await asyncio.sleep(_POLL_S)
            elif simulated:  # a simulated strap notifies every simulated second
                item = await queue.get()
            else:  # real time: look at the stop flag and the gap at least every _POLL_S
                try:
                    async with asyncio.timeout(_POLL_S):  # not wait_for: see _runner
                        item = await queue.get()
                except TimeoutError:
                    item = None
            if item is None:
                # real time only: nothing arrived; tell the monitor once a gap is long enough
                now = clock.now() - origin
                gap = now - last_update >= monitor.settings.max_interval_s
                if not simulated and gap and (done := feed(now, None)) is not None:
                    return done
            elif isinstance(item, Chunk):
                for t, hr in rates.of(item):
                    if (done := feed(t, hr)) is not None:
                        return done
            if pending and time.monotonic() - last_flush >= _FLUSH_EVERY_S:
                batch = list(pending)
                pending.clear()
                await asyncio.to_thread(
                    log.add_events, session_id, batch, monitor.summary().to_dict()
                )
                last_flush = time.monotonic()
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        if driver is not None:
            clock.close()  # type: ignore[attr-defined]
            await driver


async def _pump(source: Source, queue: asyncio.Queue[Chunk | Marker]) -> None:
    async for item in source.chunks():
        await queue.put(item)


async def run_simulated_exercise(
    subject: str,
    target: ExerciseTarget,
    store: SessionStore | ExerciseLog,
    *,
    speed: float = math.inf,
    seed: int = 0,
    script: Any = (),
    settings: ZoneMonitorSettings | None = None,
    rater: ExerciseRater | None = None,
    resting_hr: float | None = None,
    on_event: Callable[[ZoneEvent], None] | None = None,
    on_update: Callable[[float, float | None, ZoneMonitor], None] | None = None,
    stop: asyncio.Event | None = None,
    on_source: Callable[[Any], None] | None = None,
) -> ExerciseResult:
    """The same session on a simulated strap (:class:`SimulatedExerciseStrap`) at ``speed``.

    ``script`` is a sequence of :class:`Deviation` or text for :func:`parse_script`; the
    resident rests at ``resting_hr`` (default: the target's, else 45 bpm under the zone, at most
    72 bpm; convention). ``on_source`` receives the simulated strap (its ``hr_trace``).
    """
    from addiction_index.devices._exercise_sim import (
        ExercisePlan,
        SimulatedExerciseStrap,
        deviations_summary,
        parse_script,
    )

    deviations = parse_script(script) if isinstance(script, str) else tuple(script)
    settings = settings or ZoneMonitorSettings()
    phases = ZoneMonitor(
        target.zone_bpm, target.ceiling_bpm, settings=settings, planned_s=target.planned_s
    )
    rest = resting_hr or target.resting_hr or min(72.0, target.zone_bpm[0] - 45.0)
    plan = ExercisePlan(
        zone_bpm=target.zone_bpm,
        ceiling_bpm=target.ceiling_bpm,
        planned_s=target.planned_s,
        main_start_s=phases.main_start_s,
        cooldown_start_s=min(phases.cooldown_start_s, target.planned_s),
        resting_hr=rest,
    )
    clock = SimulatedClock(speed)
    source = SimulatedExerciseStrap(plan, clock, seed=seed, script=deviations)
    if on_source is not None:
        on_source(source)
    return await run_exercise_session(
        subject,
        target,
        source,
        clock,
        store,
        settings=settings,
        rater=rater,
        on_event=on_event,
        on_update=on_update,
        stop=stop,
        simulated=True,
        seed=seed,
        meta={"script": deviations_summary(deviations), "resting_hr": rest},
    )
