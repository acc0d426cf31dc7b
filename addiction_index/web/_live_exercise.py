"""A live exercise session run by the web app, shown on the coaches' zone monitor.

Every live exercise session publishes on the hub's one exercise :class:`Channel` (a coach watches
several residents at once): ``hr`` (heart rate, zone, phase and time left, about once a second),
``event`` (the zone monitor's cues, warnings and alerts, with what the coach should do) and
``ended`` (status, reason and the stored exercise session id, for the ratings form). A coach sees
heart rate and the prescription's zone only: no index, ratings or drug history travel here.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from addiction_index.prescriptions._zone_monitor import ZoneEvent, ZoneMonitor
from addiction_index.sessions._exercise_target import ExerciseTarget
from addiction_index.web._live_channel import Channel

__all__ = ["LiveExercise"]


@dataclass
class LiveExercise:
    """One exercise session running in the server; see the module docstring."""

    subject: str
    target: ExerciseTarget
    channel: Channel
    simulated: bool
    speed: float
    live_id: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    state: str = "running"
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Any] | None = None
    exercise_id: int | None = None
    status: str | None = None
    reason: str | None = None
    last: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def tile(self) -> dict[str, Any]:
        """What the monitor draws for this resident now (sent to a viewer that joins)."""
        return {
            "type": "tile",
            "live": self.live_id,
            "code": self.subject,
            "zone": list(self.target.zone_bpm),
            "ceiling": self.target.ceiling_bpm,
            "planned_s": self.target.planned_s,
            "exercise_type": self.target.exercise_type,
            "state": self.state,
            "status": self.status,
            "reason": self.reason,
            "exercise_id": self.exercise_id,
            "last": self.last,
            "events": self.events[-5:],
        }

    def on_update(self, t: float, hr: float | None, monitor: ZoneMonitor) -> None:
        planned = self.target.planned_s
        self.last = {
            "type": "hr",
            "live": self.live_id,
            "code": self.subject,
            "t": t,
            "bpm": None if hr is None else round(hr, 1),
            "phase": monitor.phase,
            "zone_class": monitor.zone_class,
            "left_s": max(0.0, planned - t),
            "recv": time.time(),
        }
        self.channel.publish(self.last)

    def on_event(self, event: ZoneEvent) -> None:
        item = event.to_dict() | {"type": "event", "live": self.live_id, "code": self.subject}
        self.events.append(item)
        self.channel.publish(item)

    def ended(
        self, *, state: str, exercise_id: int | None, status: str | None, reason: str | None
    ) -> None:
        self.state, self.exercise_id, self.status, self.reason = state, exercise_id, status, reason
        self.channel.publish(self.tile() | {"type": "ended"})
