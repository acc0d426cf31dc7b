"""Writing whole recordings to XDF with :class:`~addiction_index.store.recording.XdfRecorder`.

A dataset file must depend only on its content (its SHA-256 is the feature-cache key and
simulations must be reproducible), so its header carries a fixed time, not the time of writing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from addiction_index.signals.streams import Chunk, Marker
from addiction_index.store.recording import XdfRecorder

__all__ = ["FIXED_DATETIME", "write_xdf"]

#: The file-header time of dataset files whose real start time is not to be kept.
FIXED_DATETIME = datetime(2000, 1, 1, tzinfo=UTC)


def write_xdf(
    path: str | os.PathLike[str],
    chunks: Iterable[Chunk],
    markers: Iterable[Marker],
    stamp: datetime = FIXED_DATETIME,
) -> Path:
    """Write ``chunks`` and ``markers`` to a new XDF file at ``path`` (never overwrites)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recorder = XdfRecorder(path, created=stamp)
    try:
        for marker in markers:
            recorder.on_marker(marker)
        for chunk in chunks:
            recorder.on_chunk(chunk)
    except BaseException:
        recorder.close()
        path.unlink(missing_ok=True)
        raise
    recorder.close()
    return path
