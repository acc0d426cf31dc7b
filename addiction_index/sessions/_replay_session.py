"""Replaying a recording through the live pipeline: protocol and ratings come from the file."""

from __future__ import annotations

import dataclasses

from addiction_index.devices._replay_formats import Recording
from addiction_index.signals.streams import Marker

__all__ = ["PROTOCOL_LABELS", "RecordedRater", "recorded_protocol", "without_protocol_markers"]

# Markers the session runner writes itself from the protocol: replaying them would double them.
PROTOCOL_LABELS = frozenset({"session_start", "block_start", "block_end", "cue", "rating"})


def recorded_protocol(recording: Recording) -> str | None:
    """The protocol name the recorded session ran, from its ``session_start`` marker."""
    for marker in recording.markers:
        if marker.label == "session_start" and marker.meta.get("protocol"):
            return str(marker.meta["protocol"])
    return None


def without_protocol_markers(recording: Recording) -> Recording:
    """The recording with its protocol markers left out (device and external events stay)."""
    kept = tuple(m for m in recording.markers if m.label not in PROTOCOL_LABELS)
    return dataclasses.replace(recording, markers=kept)


class RecordedRater:
    """Gives back the craving ratings that were given during the recorded session."""

    def __init__(self, markers: tuple[Marker, ...]) -> None:
        self.ratings = {
            str(m.meta.get("moment")): float(m.value)
            for m in markers
            if m.label == "rating" and m.value is not None
        }

    async def rate(self, moment: str, t: float) -> float | None:
        return self.ratings.get(moment)
