"""Feature tables of whole real recordings: the batch path, the CLI, and live-vs-batch equality."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from addiction_index.cli import app
from addiction_index.errors import ConfigError
from addiction_index.features import HopFeatures, InsufficientDataWarning, load_feature_spec
from addiction_index.features.hrv_time import hrv_time
from addiction_index.features.recording_table import read_rr_file, recording_features
from addiction_index.signals import RingBuffer

SPEC = load_feature_spec()
SSVEP = ("muse_eeg_notebooks", "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv")
REST_RR = ("rr_intervals_hrv_sampledata", "rest_rri.txt")
POLAR = ("polar_h10_ecg_detectpvc", "polar_h10_ecg_130hz.csv")


def test_live_path_equals_the_batch_table_on_a_real_muse_recording(shared_file) -> None:
    """The recording fed in BLE-sized packets through a ring buffer, one hop at a time."""
    path = shared_file(*SSVEP)
    table = recording_features(path)
    signal = np.ascontiguousarray(np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4)))
    n, hop = SPEC.eeg_window_samples, SPEC.eeg_hop_samples
    ring = RingBuffer(capacity=4 * n, n_channels=4)
    window = np.empty((n, 4))
    live = HopFeatures()
    rows = []
    for start in range(0, signal.shape[0], 12):  # 12 samples per Muse notification
        stop = min(start + 12, signal.shape[0])
        ring.write(np.arange(start, stop) / SPEC.fs, signal[start:stop])
        for end in range(max(n, start + 1), stop + 1):
            if (end - n) % hop == 0:
                ring.window_until((end - 1) / SPEC.fs, n, out=window)
                rows.append(live.eeg(window, ring.index_until((end - 1) / SPEC.fs)))
    assert len(rows) == table.times.size
    for name in rows[0]:
        values = np.array([row[name] for row in rows])
        assert np.array_equal(values, table.columns[name], equal_nan=True), name


def test_live_heart_equals_the_batch_table_on_real_rr(shared_file) -> None:
    table = recording_features(shared_file(*REST_RR))
    rr = table.rr_ms
    beat_times = np.cumsum(rr) / 1000.0
    live = HopFeatures()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        for t in table.times.tolist():
            held = int(np.searchsorted(beat_times, t, side="right"))  # beats received by t
            first = max(0, int(np.searchsorted(beat_times, t - SPEC.heart_window_s)) - 1)
            rows.append(live.heart(beat_times[first:held], rr[first:held], t))
    for name in rows[0]:
        values = np.array([row[name] for row in rows])
        assert np.array_equal(values, table.columns[name], equal_nan=True), name
    assert (
        np.isfinite(table.columns["hrv_lf_ms2"][-1]) and table.columns["heart_quality"].max() == 0
    )


def test_rr_file_table_and_summary(shared_file, tmp_path: Path) -> None:
    path = shared_file(*REST_RR)
    out = tmp_path / "rest.csv"
    result = CliRunner().invoke(app, ["features", str(path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rr = read_rr_file(path)
    assert summary["hrv"]["n_intervals"] == rr.size == 910
    assert summary["hrv"]["raw"]["HRV_RMSSD"] == pytest.approx(hrv_time(rr)["HRV_RMSSD"])
    frame = pd.read_csv(out)
    assert list(frame.columns[:2]) == ["t_s", "block"] and len(frame) == summary["rows"]
    assert frame["hrv_rmssd_ms"].iloc[-1] == pytest.approx(55.0, abs=15.0)  # README: 55.1 ms


def test_ecg_csv_to_parquet(shared_file, tmp_path: Path) -> None:
    out = tmp_path / "polar.parquet"
    args = ["features", str(shared_file(*POLAR)), "--fs", "130", "--out", str(out), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert "808 R-peaks" in summary["notes"][0]  # as NeuroKit2 on the same file (README)
    frame = pd.read_parquet(out)
    assert frame["hr_mean_bpm"].dropna().between(60, 100).all()
    assert summary["hrv"]["artefacts"]["ectopic"] >= 20  # the bigeminal PVCs


def test_muse_csv_blocks_follow_the_markers(shared_file, tmp_path: Path) -> None:
    out = tmp_path / "ssvep.csv"
    args = ["features", str(shared_file(*SSVEP)), "--out", str(out), "--json"]
    result = CliRunner().invoke(app, args)
    summary = json.loads(result.stdout)
    assert set(summary["blocks"]) == {"start", "1", "2"}  # before the first stimulus, 30/20 Hz
    frame = pd.read_csv(out)
    for label, block in summary["blocks"].items():
        rows = frame[frame["block"].astype(str) == label]
        assert block["hops"] == len(rows)
        assert block["means"]["eeg_rel_alpha_AF7"] == pytest.approx(
            rows["eeg_rel_alpha_AF7"].mean()
        )


def test_bad_rr_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rr.txt"
    path.write_text("800\n810\nabc\n")
    with pytest.raises(ConfigError, match="line 3"):
        recording_features(path)
    result = CliRunner().invoke(app, ["features", str(path)])
    assert result.exit_code == 2 and "line 3" in result.output


def test_unknown_format_and_missing_ecg_column(tmp_path: Path) -> None:
    odd = tmp_path / "x.bin"
    odd.write_bytes(b"\0")
    assert CliRunner().invoke(app, ["features", str(odd)]).exit_code == 2
    csv = tmp_path / "ecg.csv"
    csv.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, ["features", str(csv), "--fs", "130"])
    assert result.exit_code == 2 and "ECG column" in result.output


def test_xdf_with_a_raw_ecg_gets_beats_from_its_r_peaks(shared_file, tmp_path: Path) -> None:
    from addiction_index.signals.streams import Chunk, StreamInfo, StreamKind
    from addiction_index.store.recording import XdfRecorder

    ecg = np.loadtxt(shared_file(*POLAR), delimiter=",", skiprows=1, usecols=1)[: 130 * 120]
    stream = StreamInfo("h10/ecg", StreamKind.ECG, ("ecg",), ("mV",), 130.0, "h10")
    path = tmp_path / "h10.xdf"
    with XdfRecorder(path) as recorder:
        for start in range(0, ecg.size, 73):  # one PMD frame: 73 samples
            stop = min(start + 73, ecg.size)
            recorder.on_chunk(
                Chunk(stream, 50.0 + np.arange(start, stop) / 130.0, ecg[start:stop, None])
            )
    table = recording_features(path)
    assert any("R-peaks" in note for note in table.notes)
    assert table.rr_ms is not None and 120 < table.rr_ms.size < 200  # 2 min at 60-90 bpm
    assert np.nanmax(table.columns["hr_mean_bpm"]) < 100


def test_project_recordings_are_split_by_block_start_markers() -> None:
    """Cues and ratings fall inside a block; block_end starts a 'between' stretch."""
    from addiction_index.features.recording_table import block_changes
    from addiction_index.signals.streams import Marker

    markers = [
        Marker(10.0, "session_start"),
        Marker(10.0, "block_start", "baseline", meta={"role": "baseline"}),
        Marker(70.0, "block_end", "baseline"),
        Marker(70.0, "rating", "neutral", 20.0),
        Marker(70.0, "block_start", "neutral"),
        Marker(80.0, "cue", "neutral"),
        Marker(130.0, "block_end", "neutral"),
    ]
    assert block_changes(markers, 10.0) == [
        (0.0, "baseline"),
        (60.0, "between"),
        (60.0, "neutral"),
        (120.0, "between"),
    ]
    foreign = [Marker(1.0, "T0"), Marker(5.0, "T2")]  # EDF annotations: each event is a block
    assert block_changes(foreign, 0.0) == [(1.0, "T0"), (5.0, "T2")]
