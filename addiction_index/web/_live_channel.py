"""Fan-out of live messages to WebSocket subscribers, never blocked by a slow one.

A :class:`Channel` serialises each message once and puts the text on every subscriber's bounded
queue. A subscriber that falls behind loses its oldest messages (counted in ``dropped``) rather
than slowing the session or the other viewers: live traces are only useful when current, and
everything that matters is stored by the session itself.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Channel", "jsonable"]

_QUEUE_MESSAGES = 512  # about 20 s of one resident's EEG and hop messages


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None (JSON has no NaN) and tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Channel:
    """Subscribers of one live stream of messages (one assessment, or every exercise session)."""

    def __init__(self, queue_messages: int = _QUEUE_MESSAGES) -> None:
        self._queues: set[asyncio.Queue[str]] = set()
        self._size = queue_messages
        self.dropped = 0
        self.published = 0

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber (call on the event loop)."""
        if not self._queues:
            return
        text = json.dumps(jsonable(message), separators=(",", ":"))
        self.published += 1
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(text)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[str]]:
        """A queue receiving every message published while the context is open."""
        queue: asyncio.Queue[str] = asyncio.Queue(self._size)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
