"""The live sessions a server runs: assessments for clinicians, exercise sessions for coaches.

Sessions run as tasks on the server's event loop (their heavy work already runs in worker
threads) and store everything through the same pipeline as the command line, so a session
started in the browser and one started in a terminal are the same record. One resident has at
most one live assessment and one live exercise session at a time. Finished sessions stay in
the hub for ``keep_s`` so a page opened late still sees how they ended.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from addiction_index.errors import InputError, StorageError
from addiction_index.sessions._exercise_target import ExerciseTarget
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.web._live_assessment import LiveAssessment, WebRater, failure_text
from addiction_index.web._live_channel import Channel
from addiction_index.web._live_exercise import LiveExercise

__all__ = ["LiveHub", "LiveSessionConflict"]

logger = logging.getLogger("addiction_index.web.live")

_KEEP_S = 3600.0
_MAX_SPEED = 100.0


class LiveSessionConflict(Exception):
    """The resident already has a live session of this kind."""


def check_speed(speed: float) -> float:
    """A simulation speed factor: real time (1) up to :data:`_MAX_SPEED` times faster."""
    if not (isinstance(speed, int | float) and math.isfinite(speed) and 1 <= speed <= _MAX_SPEED):
        raise InputError("speed", speed, f"a speed factor from 1 (real time) to {_MAX_SPEED:g}")
    return float(speed)


class LiveHub:
    """Every live session of one server; see the module docstring."""

    def __init__(self, db_url: str, exercise_log: ExerciseLog, keep_s: float = _KEEP_S) -> None:
        self.db_url, self.exercise_log, self.keep_s = db_url, exercise_log, keep_s
        self.assessments: dict[str, LiveAssessment] = {}
        self.exercises: dict[str, LiveExercise] = {}
        self.exercise_channel = Channel()
        self._ended_at: dict[str, float] = {}
        # (wall time, message) of the last live session stopped by a store write that failed
        self.last_write_error: tuple[float, str] | None = None

    # -- assessments ------------------------------------------------------------------------------
    def live_assessment_of(self, subject: str) -> LiveAssessment | None:
        return next(
            (
                a
                for a in self.assessments.values()
                if a.subject == subject and a.state in ("starting", "running")
            ),
            None,
        )

    def start_simulated_assessment(
        self,
        subject: str,
        *,
        started_by: str,
        craving: float,
        seed: int,
        speed: float,
        protocol: str = "demo",
    ) -> LiveAssessment:
        """Start a simulated resident (simulated headband and strap) at ``speed`` × real time."""
        from addiction_index.sessions import run_simulated_assessment

        live = self._new_assessment(subject, started_by, simulated=True, speed=check_speed(speed))
        coro = run_simulated_assessment(
            subject=subject,
            craving=craving,
            seed=seed,
            speed=live.speed,
            protocol=protocol,
            db=self.db_url,
            on_runner=live.attach,
        )
        self._launch_assessment(live, coro)
        return live

    def start_device_assessment(
        self,
        subject: str,
        *,
        started_by: str,
        devices: Sequence[tuple[str, str | None]],
        age: int | None,
        protocol: str = "cue-reactivity",
    ) -> LiveAssessment:
        """Start an assessment on real sources (``--eeg``/``--hr`` device arguments, as on the
        command line); the ratings are asked on the page."""
        from addiction_index.devices._factory import open_sources
        from addiction_index.sessions import run_assessment
        from addiction_index.signals import HostClock

        live = self._new_assessment(subject, started_by, simulated=False, speed=1.0)

        async def run() -> Any:
            sources = await open_sources(devices)
            return await run_assessment(
                sources,
                HostClock(),
                subject=subject,
                age=age,
                protocol=protocol,
                db=self.db_url,
                rater=WebRater(live),
                on_runner=live.attach,
            )

        self._launch_assessment(live, run())
        return live

    def _new_assessment(
        self, subject: str, started_by: str, *, simulated: bool, speed: float
    ) -> LiveAssessment:
        self._forget_old()
        if self.live_assessment_of(subject) is not None:
            raise LiveSessionConflict(subject)
        live = LiveAssessment(subject, started_by, simulated, speed)
        self.assessments[live.live_id] = live
        return live

    def _launch_assessment(self, live: LiveAssessment, coro: Any) -> None:
        async def run() -> None:
            try:
                result = await coro
                live.session_id = result.session_id
                live.state = "completed"
            except asyncio.CancelledError:
                live.state = "stopped"
                raise
            except Exception as exc:  # shown to the clinician; logged without personal data
                live.state, live.error = "failed", failure_text(exc)
                self._note_write_error(exc)
                logger.warning("live assessment %s failed: %s", live.live_id, type(exc).__name__)
            finally:
                self._ended_at[live.live_id] = time.monotonic()
                live.publish_state()
                live.release()

        live.task = asyncio.get_running_loop().create_task(run(), name=f"assessment {live.live_id}")

    # -- exercise ---------------------------------------------------------------------------------
    def live_exercise_of(self, subject: str) -> LiveExercise | None:
        return next(
            (e for e in self.exercises.values() if e.subject == subject and e.state == "running"),
            None,
        )

    def start_exercise(
        self,
        subject: str,
        target: ExerciseTarget,
        *,
        simulated: bool,
        speed: float = 1.0,
        seed: int = 0,
        script: str = "",
        device: str | None = None,
    ) -> LiveExercise:
        """Start an exercise session on the simulated strap (``script``: deviations, as for
        ``exercise --simulate``) or on a real strap (``device``: ``hrm``, ``polar-h10@ADDR``,
        ``lsl:NAME``)."""
        from addiction_index.sessions._exercise import run_exercise_session, run_simulated_exercise

        self._forget_old()
        if self.live_exercise_of(subject) is not None:
            raise LiveSessionConflict(subject)
        speed = check_speed(speed) if simulated else 1.0
        live = LiveExercise(subject, target, self.exercise_channel, simulated, speed)
        hooks = {"on_event": live.on_event, "on_update": live.on_update, "stop": live.stop}
        if simulated:
            coro = run_simulated_exercise(
                subject, target, self.exercise_log, speed=speed, seed=seed, script=script, **hooks
            )
        else:
            from addiction_index.devices._factory import open_sources
            from addiction_index.signals import HostClock

            async def real() -> Any:
                (source,) = await open_sources([("hr", device)])
                return await run_exercise_session(
                    subject, target, source, HostClock(), self.exercise_log, **hooks
                )

            coro = real()

        async def run() -> None:
            try:
                result = await coro
                live.ended(
                    state="ended",
                    exercise_id=result.session_id,
                    status=result.status,
                    reason=result.stopped_reason,
                )
            except asyncio.CancelledError:
                live.ended(state="ended", exercise_id=None, status="interrupted", reason="server")
                raise
            except Exception as exc:
                live.ended(
                    state="failed", exercise_id=None, status="failed", reason=failure_text(exc)
                )
                self._note_write_error(exc)
                logger.warning("live exercise %s failed: %s", live.live_id, type(exc).__name__)
            finally:
                self._ended_at[live.live_id] = time.monotonic()

        self.exercises[live.live_id] = live
        live.channel.publish(live.tile())
        live.task = asyncio.get_running_loop().create_task(run(), name=f"exercise {live.live_id}")
        return live

    # -- housekeeping -----------------------------------------------------------------------------
    def _note_write_error(self, exc: BaseException) -> None:
        """Keep a failed store write (full disk, read-only file) for ``/health``."""
        if isinstance(exc, StorageError):
            self.last_write_error = (time.time(), str(exc))

    def _forget_old(self) -> None:
        now = time.monotonic()
        for live_id, ended in list(self._ended_at.items()):
            if now - ended > self.keep_s:
                self.assessments.pop(live_id, None)
                self.exercises.pop(live_id, None)
                del self._ended_at[live_id]

    async def close(self) -> None:
        """Stop every live session (server shutdown): each is stored as interrupted."""
        tasks = [
            s.task
            for s in [*self.assessments.values(), *self.exercises.values()]
            if s.task is not None and not s.task.done()
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
