"""Recordings read from files for replay: XDF (pyxdf), EDF/EDF+ (MNE) and Muse CSV.

:func:`load_recording` turns a file into a :class:`Recording`: one :class:`Track` per stream
(its :class:`~addiction_index.signals.StreamInfo`, timestamps in the file's seconds, float64
samples in the project's units) and the file's events as :class:`~addiction_index.signals.Marker`
objects. EEG is always in µV: XDF channels declared in V or mV are scaled, and MNE's volts are
multiplied by 1e6. Readers that need big libraries import them on first use.

- XDF 1.0 (https://github.com/sccn/xdf/wiki/Specifications), read with
  ``pyxdf.load_xdf(dejitter_timestamps=False)`` so recorded timestamps come back exactly; clock
  synchronisation runs only for files whose ClockOffset chunks are not all zero (LabRecorder
  files from several hosts; the recorder here writes one zero offset per stream).
  Stream ``type`` names the kind (``EEG``/``eeg``, ``hr``, ``rr``, …); string streams and
  ``Markers`` streams become markers; the ``markers`` stream written by
  :class:`~addiction_index.store.recording.XdfRecorder` gives back the original markers.
- EDF/EDF+ (Kemp et al. 1992, doi:10.1016/0013-4694(92)90009-7; Kemp & Olivan 2003,
  doi:10.1016/S1388-2457(03)00123-8) through ``mne.io.read_raw_edf``; annotations become
  markers (label = description, ``meta["duration_s"]``).
- Muse CSV from muse-lsl and Mind Monitor: see :mod:`._replay_csv`.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from addiction_index.errors import ConfigError, InputError
from addiction_index.signals.streams import Marker, StreamInfo, StreamKind

__all__ = ["FORMATS", "Recording", "Track", "apply_channel_map", "load_recording"]

FORMATS = {".xdf": "xdf", ".xdfz": "xdf", ".csv": "csv", ".edf": "edf"}
_MARKER_TYPES = {"marker", "markers", "stringmarker", "event", "events"}
# Unit spellings met in XDF/LSL metadata, with the factor that turns them into µV.
_TO_MICROVOLT = {
    "": 1.0,
    "uv": 1.0,
    "µv": 1.0,
    "μv": 1.0,
    "microvolt": 1.0,
    "microvolts": 1.0,
    "mv": 1e3,
    "millivolt": 1e3,
    "millivolts": 1e3,
    "v": 1e6,
    "volt": 1e6,
    "volts": 1e6,
}


@dataclass(frozen=True, eq=False)
class Track:
    """One stream of a file: ``timestamps`` (n,) file seconds, ``samples`` (n, n_ch) float64."""

    info: StreamInfo
    timestamps: np.ndarray
    samples: np.ndarray


@dataclass(frozen=True, eq=False)
class Recording:
    """A file's streams and events on its own time axis; ``skipped`` says what was left out."""

    path: Path
    fmt: str
    tracks: tuple[Track, ...]
    markers: tuple[Marker, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def t0(self) -> float:
        """The earliest timestamp over all streams and markers (file seconds)."""
        firsts = [float(t.timestamps.min()) for t in self.tracks if t.timestamps.size]
        firsts += [m.timestamp for m in self.markers]
        if not firsts:
            raise ConfigError(self.path, "the file holds no samples and no events")
        return min(firsts)


def load_recording(
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    channel_map: Mapping[str, str] | None = None,
) -> Recording:
    """Read ``path`` as ``fmt`` (``xdf``, ``csv``, ``edf``; default: from the suffix).

    ``channel_map`` maps file channel names to the project's (``{"Af7.": "AF7", …}``); the EEG
    stream then holds exactly those channels, in the map's order.
    """
    path = Path(path)
    if fmt is None:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise InputError("path", str(path), f"a file ending in {', '.join(FORMATS)} (or fmt=)")
    if fmt not in set(FORMATS.values()):
        raise InputError("fmt", fmt, f"one of {sorted(set(FORMATS.values()))}")
    if not path.is_file():
        raise ConfigError(path, "no such file", expected=f"a readable {fmt.upper()} file")
    if fmt == "xdf":
        return _read_xdf(path, channel_map)
    if fmt == "edf":
        return _read_edf(path, channel_map)
    from addiction_index.devices._replay_csv import read_muse_csv

    return read_muse_csv(path, channel_map)


def apply_channel_map(
    path: Path, names: list[str], channel_map: Mapping[str, str]
) -> tuple[list[int], tuple[str, ...]]:
    """Indices of the mapped file channels (in the map's order) and their new names.

    Names match exactly, else ignoring case, spaces and trailing dots (EDF labels like ``Af7.``).
    Raises :class:`ConfigError` naming the file and every channel that is missing.
    """

    def norm(name: str) -> str:
        return name.replace(" ", "").rstrip(".").casefold()

    loose = {norm(n): i for i, n in reversed(list(enumerate(names)))}
    picks, missing = [], []
    for file_name in channel_map:
        index = names.index(file_name) if file_name in names else loose.get(norm(file_name))
        if index is None:
            missing.append(file_name)
        else:
            picks.append(index)
    if missing:
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        raise ConfigError(
            path,
            f"channel_map names channels the file does not have: {', '.join(missing)}",
            key="channel_map",
            expected=f"channels of the file ({shown})",
        )
    return picks, tuple(channel_map.values())


def _first(info: Mapping[str, list], key: str, default: str = "") -> str:
    value = info.get(key) or [default]
    return default if value[0] is None else str(value[0])


def _channel_desc(info: Mapping[str, list], n_ch: int) -> tuple[list[str], list[str]]:
    """Channel labels and units from ``desc/channels/channel`` (defaults ``ch1``…, ``""``)."""
    desc = (info.get("desc") or [None])[0] or {}
    channels = ((desc.get("channels") or [None])[0] or {}).get("channel") or []
    labels = [f"ch{i + 1}" for i in range(n_ch)]
    units = [""] * n_ch
    for i, ch in enumerate(channels[:n_ch]):
        labels[i] = _first(ch or {}, "label") or _first(ch or {}, "name") or labels[i]
        units[i] = _first(ch or {}, "unit")
    return labels, units


def _xdf_markers(
    path: Path, name: str, kind: str, stamps: np.ndarray, series: Sequence[Sequence[object]]
) -> list[Marker]:
    """Markers from a string (or ``Markers``-typed numeric) XDF stream."""
    ours = name == "markers" and kind == "marker"
    out = []
    for i, (t, sample) in enumerate(zip(stamps.tolist(), series, strict=True)):
        if isinstance(sample[0], str):
            text = sample[0]
            if ours:
                try:
                    d = json.loads(text)
                    out.append(
                        Marker(t, d["label"], d.get("block"), d.get("value"), d.get("meta") or {})
                    )
                except (ValueError, KeyError, TypeError) as e:
                    raise ConfigError(
                        path,
                        f"marker {i} of stream 'markers' is not valid: {e}",
                        expected="a JSON object with a label",
                    ) from e
                continue
            meta = {"stream": name} | ({"values": list(sample[1:])} if len(sample) > 1 else {})
            out.append(Marker(t, text, meta=meta))
        else:
            value = float(sample[0])
            out.append(Marker(t, f"{value:g}", value=value, meta={"stream": name}))
    return out


def _read_xdf(path: Path, channel_map: Mapping[str, str] | None) -> Recording:
    import pyxdf

    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
        if any(np.any(np.asarray(s["clock_values"]) != 0) for s in streams):  # map the clocks
            streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as e:  # pyxdf raises bare Exception/OSError/ValueError for bad files
        raise ConfigError(path, f"cannot read it as XDF: {e}", expected="an XDF 1.0 file") from e
    tracks: list[Track] = []
    markers: list[Marker] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for s in streams:
        info = s["info"]
        name = _first(info, "name") or f"stream {info['stream_id']}"
        if name in seen:
            name = f"{name}#{info['stream_id']}"
        seen.add(name)
        kind = _first(info, "type").strip().lower()
        stamps = np.asarray(s["time_stamps"], dtype=np.float64)
        series = s["time_series"]
        if stamps.size == 0:
            skipped[name] = "no samples"
            continue
        if _first(info, "channel_format") == "string" or kind in _MARKER_TYPES:
            markers += _xdf_markers(path, name, kind, stamps, series)
            continue
        if kind not in {k.value for k in StreamKind}:
            skipped[name] = f"type {kind!r} is not a stream kind ({', '.join(StreamKind)})"
            continue
        n_ch = int(_first(info, "channel_count", "1"))
        labels, units = _channel_desc(info, n_ch)
        samples = np.asarray(series, dtype=np.float64).reshape(stamps.size, n_ch)
        if kind in (StreamKind.EEG, StreamKind.ECG):
            factors = []
            for label, unit in zip(labels, units, strict=True):
                if unit.strip().lower() not in _TO_MICROVOLT:
                    raise ConfigError(
                        path,
                        f"channel {label!r} of stream {name!r} is in {unit!r}",
                        expected="µV, mV or V",
                    )
                factors.append(_TO_MICROVOLT[unit.strip().lower()])
            if any(f != 1.0 for f in factors):
                samples = samples * np.asarray(factors)
            units = ["uV"] * n_ch
        if channel_map and kind == StreamKind.EEG:
            picks, names = apply_channel_map(path, labels, channel_map)
            samples = np.ascontiguousarray(samples[:, picks])
            labels, units = list(names), [units[i] for i in picks]
        rate = float(_first(info, "nominal_srate", "0"))
        device = _first(info, "source_id") or name
        stream = StreamInfo(name, StreamKind(kind), tuple(labels), tuple(units), rate, device)
        tracks.append(Track(stream, stamps, samples))
    return Recording(path, "xdf", tuple(tracks), tuple(markers), skipped)


def _read_edf(path: Path, channel_map: Mapping[str, str] | None) -> Recording:
    import mne

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # MNE's notes on unusual headers
            raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    except Exception as e:  # MNE raises ValueError/OSError/NotImplementedError for bad files
        raise ConfigError(
            path, f"cannot read it as EDF: {e}", expected="an EDF or EDF+ file"
        ) from e
    names = list(raw.ch_names)
    if channel_map:
        picks, labels = apply_channel_map(path, names, channel_map)
    else:
        picks = [i for i, t in enumerate(raw.get_channel_types()) if t == "eeg"]
        labels = tuple(names[i] for i in picks)
    if not picks:
        raise ConfigError(path, "no EEG channel", key="channel_map", expected="EEG channels")
    sfreq = float(raw.info["sfreq"])
    # MNE returns volts (SI); the project's EEG unit is µV.
    samples = np.ascontiguousarray(raw.get_data(picks=picks).T * 1e6)
    first = raw.first_samp
    stamps = (first + np.arange(samples.shape[0], dtype=np.float64)) / sfreq
    ann = raw.annotations
    shift = first / sfreq if ann.orig_time is None else 0.0  # onsets to the file's time axis
    markers = tuple(
        Marker(float(onset) + shift, str(desc), meta={"duration_s": float(duration)})
        for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if math.isfinite(onset)
    )
    info = StreamInfo("edf/eeg", StreamKind.EEG, labels, ("uV",) * len(labels), sfreq, "edf")
    return Recording(path, "edf", (Track(info, stamps, samples),), markers)
