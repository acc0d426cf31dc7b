"""A centre's music library (CSV) and playlists that fill a music prescription from it.

The library file has one track per row with the columns ``title``, ``artist`` (may be empty),
``tempo_bpm``, ``tags`` (semicolon-separated mood tags: calm, uplifting, energetic, traditional,
...), ``valence`` (-1..1), ``arousal`` (0..1) and ``duration_s``. :func:`load_music_library`
checks every row and reports every bad one with its row number (the header is row 1) and column.

:func:`playlist` chooses tracks for a :class:`~addiction_index.prescriptions.MusicPrescription`:

- tempo: inside the prescription's ``tempo_bpm`` range; or, when a ``cadence`` (per minute) is
  given for synchronous music during exercise, within ±3 % of the cadence, of half of it or of
  twice it (one beat per step, per two steps, or per pedal push). The ±3 % tolerance is a
  convention (no EVIDENCE item gives one); synchronising music with movement tempo follows
  EVIDENCE 5.5 (Lim, Karageorghis et al. 2014).
- mood: at least one tag of the purpose (calm: calm, relaxing, soothing, slow; activate:
  uplifting, energetic, happy, bright; synchronise: energetic, uplifting, rhythmic, upbeat) and
  arousal in the prescription's band (low <= 0.4, moderate 0.3-0.7, high >= 0.6; convention).
- it fills the prescription's minutes (at least the low end when the library allows; past the
  high end only by one last track when no track fits exactly) without repeating a track,
  best-matching tracks first, deterministically (ties broken by title and artist).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addiction_index.errors import ConfigError, InputError
from addiction_index.prescriptions._engine import MusicPrescription

__all__ = [
    "CADENCE_TOLERANCE",
    "PURPOSE_TAGS",
    "MusicLibrary",
    "Playlist",
    "Track",
    "centre_library",
    "load_music_library",
    "playlist",
]

#: The centre's own library in the prescriptions folder; the shipped example is used without it.
CENTRE_LIBRARY, EXAMPLE_LIBRARY = "music-library.csv", "music-library.example.csv"

COLUMNS = ("title", "artist", "tempo_bpm", "tags", "valence", "arousal", "duration_s")
CADENCE_TOLERANCE = 0.03  # ±3 % around the cadence, its half or its double (convention)
PURPOSE_TAGS: dict[str, tuple[str, ...]] = {
    "calm": ("calm", "relaxing", "soothing", "slow"),
    "activate": ("uplifting", "energetic", "happy", "bright"),
    "synchronise": ("energetic", "uplifting", "rhythmic", "upbeat"),
}
AROUSAL_BANDS: dict[str, tuple[float, float]] = {
    "low": (0.0, 0.4),
    "moderate": (0.3, 0.7),
    "high": (0.6, 1.0),
}


@dataclass(frozen=True)
class Track:
    """One row of the library: tempo in bpm (musical beats), duration in seconds."""

    row: int  # row number in the file (header = 1)
    title: str
    artist: str | None
    tempo_bpm: float
    tags: tuple[str, ...]
    valence: float
    arousal: float
    duration_s: int


@dataclass(frozen=True)
class MusicLibrary:
    """A checked music library and the file it came from."""

    tracks: tuple[Track, ...]
    source: str


@dataclass(frozen=True)
class Playlist:
    """Tracks chosen for a prescription, with the total and what was asked."""

    tracks: tuple[Track, ...]
    seconds: int
    minutes_asked: tuple[int, int]
    tempo_rule: str  # how tempo was matched
    complete: bool  # True when at least the low end of the minutes is filled
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "tracks": [
                {"title": t.title, "artist": t.artist, "tempo_bpm": t.tempo_bpm,
                 "duration_s": t.duration_s, "tags": list(t.tags)}
                for t in self.tracks
            ],
            "seconds": self.seconds,
            "minutes_asked": list(self.minutes_asked),
            "tempo_rule": self.tempo_rule,
            "complete": self.complete,
            "notes": list(self.notes),
        }  # fmt: skip


def load_music_library(path: str | os.PathLike[str]) -> MusicLibrary:
    """Read and check a library CSV; a :class:`ConfigError` lists every bad row and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, f"cannot read file: {exc.strerror or exc}") from exc
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ConfigError(
            path, f"missing column(s) {', '.join(missing)}", line=1, key="header",
            expected="columns " + ", ".join(COLUMNS),
        )  # fmt: skip
    at = {name: header.index(name) for name in COLUMNS}
    tracks: list[Track] = []
    problems: list[tuple[int, str, str]] = []
    for row, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            problems.append((row, "(row)", f"{len(cells)} cells, expected {len(header)}"))
            continue
        value = {name: cells[i].strip() for name, i in at.items()}
        before = len(problems)
        title = value["title"] or _bad(problems, row, "title", "", "a title")
        tempo = _number(problems, row, "tempo_bpm", value["tempo_bpm"], 30, 250)
        valence = _number(problems, row, "valence", value["valence"], -1, 1)
        arousal = _number(problems, row, "arousal", value["arousal"], 0, 1)
        duration = _number(problems, row, "duration_s", value["duration_s"], 10, 3600)
        tags = tuple(t.strip().lower() for t in value["tags"].split(";") if t.strip())
        if not tags:
            _bad(problems, row, "tags", value["tags"], "one or more tags separated by ';'")
        if len(problems) == before:
            tracks.append(
                Track(row, title, value["artist"] or None, tempo, tags, valence, arousal,
                      int(duration))
            )  # fmt: skip
    if problems:
        first_row, column, message = problems[0]
        more = "; ".join(f"row {r} column '{c}': {m}" for r, c, m in problems[1:])
        raise ConfigError(
            path,
            f"row {first_row} column '{column}': {message}"
            + (f" (and {len(problems) - 1} more: {more})" if more else ""),
            line=first_row,
            key=column,
        )
    if not tracks:
        raise ConfigError(path, "the library has no tracks", line=2)
    return MusicLibrary(tuple(tracks), str(path))


def centre_library(folder: str | os.PathLike[str] | None = None) -> MusicLibrary:
    """The centre's library (``music-library.csv`` in the prescriptions folder), else the shipped
    example (``music-library.example.csv``)."""
    from addiction_index.resources import content_dir

    base = content_dir("prescriptions", folder)
    own = base / CENTRE_LIBRARY
    return load_music_library(own if own.is_file() else base / EXAMPLE_LIBRARY)


def _bad(problems: list, row: int, column: str, value: str, expected: str) -> Any:
    problems.append((row, column, f"bad value {value!r} (expected {expected})"))
    return None


def _number(problems: list, row: int, column: str, text: str, low: float, high: float) -> Any:
    try:
        number = float(text)
    except ValueError:
        return _bad(problems, row, column, text, f"a number from {low} to {high}")
    if math.isnan(number) or not low <= number <= high:
        return _bad(problems, row, column, text, f"a number from {low} to {high}")
    return number


def _tempo_distance(tempo: float, music: MusicPrescription, cadence: tuple[float, float] | None):
    """How far ``tempo`` is from what is asked, as a fraction (0 = on target); None = no match."""
    if cadence is None:
        low, high = music.tempo_bpm
        if not low <= tempo <= high:
            return None
        return abs(tempo - (low + high) / 2) / ((low + high) / 2)
    best = None
    for target in _cadence_targets(cadence):
        low, high = target[0] * (1 - CADENCE_TOLERANCE), target[1] * (1 + CADENCE_TOLERANCE)
        if low <= tempo <= high:
            centre = (target[0] + target[1]) / 2
            distance = abs(tempo - centre) / centre
            best = distance if best is None else min(best, distance)
    return best


def _cadence_targets(cadence: tuple[float, float]) -> list[tuple[float, float]]:
    low, high = cadence
    return [(low, high), (low / 2, high / 2), (low * 2, high * 2)]


def playlist(
    music: MusicPrescription,
    library: MusicLibrary,
    minutes: tuple[int, int] | int | None = None,
    cadence: tuple[float, float] | float | None = None,
) -> Playlist:
    """Tracks from ``library`` for ``music``, filling ``minutes`` (default: the prescription's).

    ``cadence`` (per minute; a number or a (low, high) range) matches tempo to movement: a
    track fits when its tempo is within ±3 % of the cadence, half or double it. Without it the
    prescription's ``tempo_bpm`` range is used (and ``music.cadence`` when the prescription
    asks for synchronous music during exercise). Deterministic; never repeats a track.
    """
    if minutes is None:
        minutes = music.minutes
    if isinstance(minutes, int | float):
        minutes = (int(minutes), int(minutes))
    if not (len(minutes) == 2 and 0 < minutes[0] <= minutes[1]):
        raise InputError("minutes", minutes, "(low, high) minutes with 0 < low <= high")
    if cadence is None and music.cadence is not None:
        cadence = music.cadence
    if isinstance(cadence, int | float):
        cadence = (float(cadence), float(cadence))
    if cadence is not None and not (0 < cadence[0] <= cadence[1] <= 400):
        raise InputError("cadence", cadence, "a cadence per minute, 0 < low <= high <= 400")
    wanted = set(PURPOSE_TAGS.get(music.purpose, ()))
    band = AROUSAL_BANDS.get(music.arousal, (0.0, 1.0))
    scored = []
    for track in library.tracks:
        distance = _tempo_distance(track.tempo_bpm, music, cadence)
        if distance is None or not wanted.intersection(track.tags):
            continue
        if not band[0] <= track.arousal <= band[1]:
            continue
        scored.append((distance, -len(wanted.intersection(track.tags)), track.title,
                       track.artist or "", track.row, track))  # fmt: skip
    scored.sort(key=lambda item: item[:5])
    chosen: list[Track] = []
    total = 0
    low_s, high_s = minutes[0] * 60, minutes[1] * 60
    for *_, track in scored:
        if total >= low_s:
            break
        if total + track.duration_s > high_s:
            continue  # would run past the high end: try a shorter track
        chosen.append(track)
        total += track.duration_s
    if total < low_s:  # nothing fits exactly: one more track may run past the high end
        extra = next((t for *_, t in scored if t not in chosen), None)
        if extra is not None:
            chosen.append(extra)
            total += extra.duration_s
    if cadence is not None:
        rule = (f"tempo within ±{CADENCE_TOLERANCE:.0%} of cadence {cadence[0]:g}-{cadence[1]:g}"
                "/min, its half or double (tolerance: convention)")  # fmt: skip
    else:
        rule = f"tempo {music.tempo_bpm[0]}-{music.tempo_bpm[1]} bpm"
    notes = []
    complete = total >= low_s
    if not complete:
        notes.append(
            f"The library has only {total // 60} min of matching music for {minutes[0]} min: "
            "add tracks, or repeat the playlist."
        )
    return Playlist(tuple(chosen), total, tuple(minutes), rule, complete, tuple(notes))
