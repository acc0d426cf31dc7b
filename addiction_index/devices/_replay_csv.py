"""Muse CSV recordings: muse-lsl (and eeg-notebooks) files and Mind Monitor files.

- muse-lsl (alexandrebarachant/muse-lsl, ``muselsl/record.py``): header
  ``timestamps,TP9,AF7,AF8,TP10,Right AUX`` then optional ``Marker0``, ``Marker1``… columns
  (eeg-notebooks writes them; some older files call the column ``Marker``); ``timestamps`` are LSL
  seconds (3 decimals), channels µV (muse-lsl's 0.48828125 µV × (code − 2048)); a marker cell
  of 0 means no event.
- Mind Monitor (mind-monitor.com): header ``TimeStamp,Delta_TP9,…,RAW_TP9,RAW_AF7,RAW_AF8,
  RAW_TP10,AUX_RIGHT[,AUX_LEFT],…,Elements``; ``TimeStamp`` is local date-time
  ``YYYY-MM-DD HH:MM:SS.fff``; ``RAW_*`` are µV as the Muse SDK gives them (0 to 1682.8 µV, so
  NOT centred on 0: about +800 µV of offset is kept as recorded); rows whose RAW cells are empty
  carry only an ``Elements`` event (``/muse/elements/blink``, ``/Marker/1``, a connection
  event…), which becomes a marker. Raw EEG is present only when the app records every sample
  (its "Constant" recording interval); a file with far fewer raw rows than 256 Hz is refused.

The EEG stream holds TP9, AF7, AF8, TP10 at the rate of the ``muse-2`` device profile; the AUX
columns, when they hold data, form a second stream (kind EEG, µV) after it. Timestamps are kept
as written (Muse CSV timestamps are not strictly increasing: per-chunk re-timestamping).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np

from addiction_index.devices._profiles import load_profile
from addiction_index.devices._replay_formats import Recording, Track
from addiction_index.errors import ConfigError
from addiction_index.signals.streams import Marker, StreamInfo, StreamKind

__all__ = ["read_muse_csv"]

_MUSE_LSL_EXPECTED = "a muse-lsl header 'timestamps,TP9,AF7,AF8,TP10[,Right AUX][,Marker0…]'"
_MIND_MONITOR_EXPECTED = "a Mind Monitor header 'TimeStamp,…,RAW_TP9,RAW_AF7,RAW_AF8,RAW_TP10,…'"
_MARKER_COLUMN = re.compile(r"^Marker\d*$")
_EPOCH = datetime(1970, 1, 1)


def read_muse_csv(path: Path, channel_map: Mapping[str, str] | None = None) -> Recording:
    """Read a muse-lsl or Mind Monitor CSV (told apart by the first header cell)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        header = [h.strip() for h in next(rows, [])]
        first = header[0] if header else ""
        if first == "timestamps":
            return _muse_lsl(path, header, rows, channel_map)
        if first == "TimeStamp":
            return _mind_monitor(path, header, rows, channel_map)
    raise ConfigError(
        path,
        f"line 1 starts with {first!r}",
        line=1,
        expected=f"{_MUSE_LSL_EXPECTED} or {_MIND_MONITOR_EXPECTED}",
    )


def _columns(path: Path, header: list[str], wanted: list[str], expected: str) -> list[int]:
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ConfigError(
            path, f"the header has no column {', '.join(missing)}", line=1, expected=expected
        )
    return [header.index(c) for c in wanted]


def _float(path: Path, line: int, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(
            path, f"column {column!r} holds {text[:20]!r}", line=line, expected="a number"
        ) from None


def _eeg_tracks(
    path: Path,
    device: str,
    stamps: list[float],
    eeg: list[list[float]],
    aux_names: list[str],
    aux: list[list[float]],
    channel_map: Mapping[str, str] | None,
) -> tuple[Track, ...]:
    if not stamps:
        raise ConfigError(path, "no EEG rows", expected="at least one row of samples")
    profile = load_profile("muse-2").stream("eeg")
    channels, rate = tuple(profile.channels), float(profile.rate_hz)
    if channel_map:  # the names are fixed by the format; a map may only rename them
        channels = tuple(channel_map.get(c, c) for c in channels)
    t = np.asarray(stamps, dtype=np.float64)
    info = StreamInfo(f"{device}/eeg", StreamKind.EEG, channels, ("uV",) * 4, rate, device)
    tracks = [Track(info, t, np.asarray(eeg, dtype=np.float64).reshape(t.size, 4))]
    if aux_names:
        values = np.asarray(aux, dtype=np.float64).reshape(t.size, len(aux_names))
        keep = [i for i in range(len(aux_names)) if not np.all(np.isnan(values[:, i]))]
        if keep:
            names = tuple(aux_names[i] for i in keep)
            aux_info = StreamInfo(
                f"{device}/aux", StreamKind.EEG, names, ("uV",) * len(names), rate, device
            )
            tracks.append(Track(aux_info, t, np.ascontiguousarray(values[:, keep])))
    return tuple(tracks)


def _muse_lsl(
    path: Path, header: list[str], rows: Iterator[list[str]], channel_map: Mapping[str, str] | None
) -> Recording:
    eeg_cols = _columns(path, header, ["TP9", "AF7", "AF8", "TP10"], _MUSE_LSL_EXPECTED)
    aux_names = [h for h in header if h == "Right AUX"]
    aux_cols = [header.index(h) for h in aux_names]
    marker_cols = [i for i, h in enumerate(header) if _MARKER_COLUMN.match(h)]
    stamps: list[float] = []
    eeg: list[list[float]] = []
    aux: list[list[float]] = []
    markers: list[Marker] = []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ConfigError(
                path,
                f"{len(row)} fields",
                line=line,
                expected=f"{len(header)} fields as in the header",
            )
        t = _float(path, line, "timestamps", row[0])
        stamps.append(t)
        eeg.append([_float(path, line, header[i], row[i]) for i in eeg_cols])
        aux.append([_float(path, line, header[i], row[i]) for i in aux_cols])
        for i in marker_cols:
            cell = row[i].strip()
            if cell in ("", "0", "0.0", "0.000"):
                continue
            try:
                value: float | None = float(cell)
                label = f"{value:g}"
            except ValueError:
                value, label = None, cell
            markers.append(Marker(t, label, value=value, meta={"column": header[i]}))
    tracks = _eeg_tracks(path, "muse-lsl", stamps, eeg, aux_names, aux, channel_map)
    return Recording(path, "csv", tracks, tuple(markers))


def _mind_monitor(
    path: Path, header: list[str], rows: Iterator[list[str]], channel_map: Mapping[str, str] | None
) -> Recording:
    raw_names = ["RAW_TP9", "RAW_AF7", "RAW_AF8", "RAW_TP10"]
    eeg_cols = _columns(path, header, raw_names, _MIND_MONITOR_EXPECTED)
    aux_names = [h for h in header if h.upper() in ("AUX_RIGHT", "AUX_LEFT")]
    aux_cols = [header.index(h) for h in aux_names]
    elements = header.index("Elements") if "Elements" in header else None
    stamps: list[float] = []
    eeg: list[list[float]] = []
    aux: list[list[float]] = []
    markers: list[Marker] = []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        try:
            t = (datetime.fromisoformat(row[0].strip()) - _EPOCH).total_seconds()
        except ValueError:
            raise ConfigError(
                path,
                f"column 'TimeStamp' holds {row[0][:30]!r}",
                line=line,
                expected="a date-time YYYY-MM-DD HH:MM:SS.fff",
            ) from None
        cells = [row[i].strip() if i < len(row) else "" for i in eeg_cols]
        if all(cells):
            stamps.append(t)
            eeg.append(
                [_float(path, line, header[i], c) for i, c in zip(eeg_cols, cells, strict=True)]
            )
            aux.append(
                [
                    _float(path, line, header[i], row[i])
                    if i < len(row) and row[i].strip()
                    else math.nan
                    for i in aux_cols
                ]
            )
        elif any(cells):
            raise ConfigError(
                path,
                "some RAW_ cells are empty and others not",
                line=line,
                expected="all four RAW_ values or none",
            )
        event = row[elements].strip() if elements is not None and elements < len(row) else ""
        if event:
            label, _, rest = event.partition(" ")
            markers.append(Marker(t, label, meta={"text": rest} if rest else {}))
    tracks = _eeg_tracks(path, "mind-monitor", stamps, eeg, aux_names, aux, channel_map)
    duration = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = tracks[0].info.nominal_rate
    if len(stamps) > 1 and len(stamps) < 0.5 * rate * duration:
        raise ConfigError(
            path,
            f"{len(stamps)} raw EEG rows over {duration:.1f} s "
            f"({len(stamps) / duration:.1f} rows/s)",
            key="RAW_TP9",
            expected=f"raw EEG at about {rate:g} Hz (Mind Monitor's 'Constant' recording interval)",
        )
    return Recording(path, "csv", tracks, tuple(markers))
