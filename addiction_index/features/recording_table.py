"""The feature table of a whole recording: the batch path behind ``addiction-index features FILE``.

Inputs: Muse CSV, XDF and EDF recordings (:func:`~addiction_index.devices.load_recording`), an
RR-interval text file (one interval in ms per line, or a Polar ``.hrm`` file's ``[HRData]``
section) and an ECG CSV whose rate is given (R-peaks by
:func:`~addiction_index.features.ecg_peaks.ecg_peaks`, as NeuroKit2). One row per hop of the
feature spec: EEG features of the window ending at the hop, heart features at the hop, the
label of the latest marker ("block"). Times are seconds from the first sample; EEG time is the
sample index / rate (file timestamps of Muse CSVs jitter). EEG at another rate than the spec's
is resampled (polyphase, ``scipy.signal.resample_poly``) and the table's notes say so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.signal

from addiction_index.errors import ConfigError, InputError
from addiction_index.features.ecg_peaks import ecg_peaks, rr_intervals_ms
from addiction_index.features.extract import (
    eeg_features_batch,
    eeg_hop_ends,
    heart_features_batch,
)
from addiction_index.features.hrv import InsufficientDataWarning
from addiction_index.features.hrv_frequency import hrv_frequency
from addiction_index.features.hrv_time import hrv_time
from addiction_index.features.rr_artifacts import rr_artifacts, rr_correct
from addiction_index.features.spec import FeatureSpec, load_feature_spec

__all__ = ["FeatureTable", "block_changes", "read_rr_file", "recording_features"]

RR_SUFFIXES = (".txt", ".rr", ".hrm")


@dataclass
class FeatureTable:
    """Hop times (s from the first sample), one array per feature, the block label per hop."""

    source: Path
    times: np.ndarray
    columns: dict[str, np.ndarray]
    blocks: np.ndarray
    rr_ms: np.ndarray | None = None
    beat_times: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def to_frame(self):  # -> pandas.DataFrame (pandas imported lazily)
        import pandas as pd

        return pd.DataFrame({"t_s": self.times, "block": self.blocks, **self.columns})

    def write(self, path: Path) -> None:
        """Write CSV (``.csv``) or Parquet (``.parquet``)."""
        frame = self.to_frame()
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        elif path.suffix.lower() == ".csv":
            frame.to_csv(path, index=False)
        else:
            raise InputError("out", str(path), "a file ending in .csv or .parquet")

    def summary(self) -> dict[str, object]:
        """Per-block means of every feature (NaN-ignoring) and HRV over the whole recording."""
        per_block = {}
        for label in dict.fromkeys(self.blocks.tolist()):
            rows = self.blocks == label
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                per_block[label] = {
                    "hops": int(rows.sum()),
                    "means": {k: _finite(np.nanmean(v[rows])) for k, v in self.columns.items()},
                }
        return {
            "source": self.source.name,
            "hops": int(self.times.size),
            "duration_s": _finite(self.times[-1]) if self.times.size else 0.0,
            "blocks": per_block,
            "hrv": _whole_hrv(self.rr_ms) if self.rr_ms is not None else None,
            "notes": self.notes,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _whole_hrv(rr_ms: np.ndarray) -> dict[str, object]:
    """Time and frequency HRV of the whole series, raw and after Kubios correction."""
    found = rr_artifacts(rr_ms)
    corrected = rr_correct(rr_ms)
    out: dict[str, object] = {
        "n_intervals": int(rr_ms.size),
        "artefacts": found.counts,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        for name, series in (("raw", rr_ms), ("corrected", corrected)):
            values = hrv_time(series) | hrv_frequency(series)
            out[name] = {k: _finite(v) for k, v in values.items()}
    return out


def read_rr_file(path: Path) -> np.ndarray:
    """RR intervals (ms) of a text file (one per line) or a Polar ``.hrm`` ``[HRData]`` section."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    start = 0
    if path.suffix.lower() == ".hrm":
        try:
            start = next(i for i, line in enumerate(lines) if line.strip() == "[HRData]") + 1
        except StopIteration:
            raise ConfigError(path, "no [HRData] section", expected="a Polar HRM file") from None
    values = []
    for number, line in enumerate(lines[start:], start=start + 1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("["):
            break
        try:
            value = float(text.split()[0])
        except ValueError:
            raise ConfigError(path, f"not an RR interval: {text!r}", line=number,
                              expected="one RR interval in ms per line") from None  # fmt: skip
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(path, f"RR interval {value} ms", line=number, expected="> 0 ms")
        values.append(value)
    if len(values) < 2:
        raise ConfigError(path, "fewer than two RR intervals", expected="an RR series")
    return np.array(values, dtype=np.float64)


def _table_times(duration_s: float, spec: FeatureSpec) -> np.ndarray:
    first = spec.eeg_window_samples / spec.fs
    return np.arange(first, duration_s + 1e-9, spec.hop_s)


def _heart(table: dict[str, np.ndarray], beats: tuple[np.ndarray, np.ndarray], times, spec) -> None:
    beat_times, rr_ms = beats
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)  # NaN until 30 s of beats
        table.update(heart_features_batch(beat_times, rr_ms, times, spec))


def _eeg(track, spec: FeatureSpec, notes: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    labels = list(track.info.channels)
    missing = [c for c in spec.channels if c not in labels]
    if missing:
        raise InputError("channels", labels, f"EEG channels {list(spec.channels)} (use --channels)")
    x = np.ascontiguousarray(track.samples[:, [labels.index(c) for c in spec.channels]], np.float64)
    fs = float(track.info.nominal_rate)
    if abs(fs - spec.fs) > 1e-6:
        ratio = Fraction(spec.fs / fs).limit_denominator(1000)
        x = np.ascontiguousarray(scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator))
        notes.append(f"EEG resampled from {fs:g} Hz to {spec.fs:g} Hz (polyphase)")
    ends = eeg_hop_ends(x.shape[0], spec)
    return ends / spec.fs, eeg_features_batch(x, ends, spec)


PROTOCOL_MARKERS = frozenset({"session_start", "block_start", "block_end", "rating", "cue"})


def block_changes(markers, t0: float) -> list[tuple[float, str]]:
    """(seconds from ``t0``, block label) at each change of block.

    A recording made by this project carries protocol markers: only ``block_start`` (its block
    id) and ``block_end`` ("between") change the block; cues and ratings fall inside one. In other
    files (EDF annotations, stimulus channels) every event starts a block named by its label.
    """
    if any(m.label == "block_start" and m.block for m in markers):
        out = []
        for m in markers:
            if m.label == "block_start" and m.block:
                out.append((m.timestamp - t0, str(m.block)))
            elif m.label == "block_end":
                out.append((m.timestamp - t0, "between"))
        return out
    return [(m.timestamp - t0, m.label) for m in markers]


def recording_features(
    path: str | Path,
    *,
    fmt: str | None = None,
    fs: float | None = None,
    column: str | None = None,
    channel_map: dict[str, str] | None = None,
    spec: FeatureSpec | None = None,
) -> FeatureTable:
    """Feature table of the recording at ``path`` (formats in the module docstring).

    ``fs`` (Hz) marks a CSV as an ECG file at that rate (``column`` names its ECG column;
    default: the first column whose name contains "ecg"). ``channel_map`` renames EEG channels
    of XDF/EDF files to the spec's (``{"Af7.": "AF7", ...}``).
    """
    from addiction_index.devices import load_recording

    path, spec, notes = Path(path), spec if spec is not None else load_feature_spec(), []
    if not path.is_file():
        raise ConfigError(path, "no such file", expected="a recording to read")
    columns: dict[str, np.ndarray] = {}
    rr = None
    blocks_at: list[tuple[float, str]] = []
    beats: tuple[np.ndarray, np.ndarray] | None = None
    if path.suffix.lower() in RR_SUFFIXES and fmt is None:
        rr = read_rr_file(path)
        beats = (np.cumsum(rr) / 1000.0, rr)
        times = _table_times(float(rr.sum()) / 1000.0, spec)
    elif fs is not None:
        beats, duration = _ecg_beats(path, fs, column, notes)
        times = _table_times(duration, spec)
    else:
        recording = load_recording(path, fmt=fmt, channel_map=channel_map)
        eeg = next((t for t in recording.tracks if t.info.kind == "eeg"), None)
        rr_track = next((t for t in recording.tracks if t.info.kind == "rr"), None)
        t0 = float(eeg.timestamps[0]) if eeg is not None else recording.t0
        if eeg is not None:
            times, columns = _eeg(eeg, spec, notes)
        ecg_track = next((t for t in recording.tracks if t.info.kind == "ecg"), None)
        if rr_track is not None:
            rr = np.ascontiguousarray(rr_track.samples[:, 0], dtype=np.float64)
            beats = (np.ascontiguousarray(rr_track.timestamps - t0, dtype=np.float64), rr)
        elif ecg_track is not None:  # no strap RR: R-peaks of the ECG (e.g. a Polar H10's)
            fs_ecg = float(ecg_track.info.nominal_rate)
            peaks = ecg_peaks(np.ascontiguousarray(ecg_track.samples[:, 0], np.float64), fs_ecg)
            notes.append(f"{peaks.size} R-peaks found in {ecg_track.info.name} at {fs_ecg:g} Hz")
            beats = (ecg_track.timestamps[peaks[1:]] - t0, rr_intervals_ms(peaks, fs_ecg))
        if eeg is None:
            if beats is None:
                raise ConfigError(path, "no EEG or RR stream", expected="a recording")
            times = _table_times(float(beats[0][-1]), spec)
        blocks_at = block_changes(recording.markers, t0)
        notes += [f"skipped {k}: {v}" for k, v in recording.skipped.items()]
    if beats is not None:
        _heart(columns, beats, times, spec)
    blocks = np.full(times.size, "start", dtype=object)
    for t_marker, label in sorted(blocks_at, key=lambda change: change[0]):  # stable
        blocks[times >= t_marker] = label
    rr = beats[1] if beats is not None else None
    beat_times = beats[0] if beats is not None else None
    return FeatureTable(path, times, columns, blocks.astype(str), rr, beat_times, notes)


def _ecg_beats(
    path: Path, fs: float, column: str | None, notes: list[str]
) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    import pandas as pd

    frame = pd.read_csv(path)
    if column is None:
        column = next((c for c in frame.columns if "ecg" in str(c).lower()), None)
    if column is None or column not in frame.columns:
        raise InputError("column", column, f"an ECG column of {path.name}: {list(frame.columns)}")
    ecg = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(ecg)):
        bad = int(np.flatnonzero(~np.isfinite(ecg))[0]) + 2  # header is line 1
        raise ConfigError(path, f"column {column!r} is not a number", line=bad, expected="ECG")
    peaks = ecg_peaks(ecg, fs)
    notes.append(f"{peaks.size} R-peaks found in {column!r} at {fs:g} Hz")
    return (peaks[1:] / fs, rr_intervals_ms(peaks, fs)), ecg.size / fs
