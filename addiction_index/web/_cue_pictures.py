"""The centre's cue pictures: ``<data folder>/cues/<set>/`` (``$ADDICTION_INDEX_DATA_DIR``).

No picture set ships with the software: drug-cue pictures must come from a validated set the
centre is licensed to use. A protocol block names its set (``cues: {set: drug}``); cue ``n`` of
the block shows the set's ``n``-th picture in file-name order (cycling when the set is shorter).
Without pictures the presenter shows a neutral placeholder card, and the markers are the same.
"""

from __future__ import annotations

from pathlib import Path

from addiction_index.resources import data_root

__all__ = ["PICTURE_SUFFIXES", "cue_picture", "cue_pictures"]

PICTURE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})


def cue_pictures(cue_set: str) -> list[Path]:
    """The pictures of ``cue_set``, in file-name order (empty when the set is not installed)."""
    folder = data_root() / "cues" / cue_set
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES)


def cue_picture(cue_set: str, number: int) -> Path | None:
    """The picture of cue ``number`` (from 1) of ``cue_set``, or None."""
    pictures = cue_pictures(cue_set)
    if not pictures or number < 1:
        return None
    return pictures[(number - 1) % len(pictures)]
