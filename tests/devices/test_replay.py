"""File replay: real Muse CSV, EDF+ and XDF files, re-based time, packet cadence, speed, errors."""

from __future__ import annotations

import asyncio
import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from addiction_index.devices import Source, SourceState
from addiction_index.devices._replay import ReplaySource
from addiction_index.errors import ConfigError, DeviceError, InputError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.sessions import SessionRunner, load_protocol
from addiction_index.signals import Chunk, Marker, SimulatedClock, StreamInfo, StreamKind
from addiction_index.store.recording import XdfRecorder

N170 = ("muse_eeg_notebooks", "muse2016_n170_subject1_session1_2017-09-13-15.30.01.csv")
EDF = ("edf_eegmmidb", "S001R04.edf")
EDF_MAP = {"T9..": "TP9", "Af7.": "AF7", "Af8.": "AF8", "T10.": "TP10"}
ORIGIN = 4096.0  # a whole second, as SimulatedClock uses


async def _collect(source: ReplaySource, clock: SimulatedClock) -> list[tuple[float, object]]:
    driver = asyncio.create_task(clock.run())
    out = []
    try:
        async for item in source.chunks():
            out.append((clock.now(), item))
    finally:
        clock.close()
        await driver
    return out


def _replay(path: Path, speed: float = math.inf, **kwargs) -> tuple[ReplaySource, list]:
    clock = SimulatedClock(speed, origin=ORIGIN)
    source = ReplaySource.open(path, clock, linger_s=0, **kwargs)
    return source, asyncio.run(_collect(source, clock))


def _chunks(items: list, name: str) -> list[tuple[float, Chunk]]:
    return [(now, c) for now, c in items if isinstance(c, Chunk) and c.stream.name == name]


def test_muse_lsl_csv_replays_with_its_cadence_channels_and_timestamps(shared_file) -> None:
    path = shared_file(*N170)
    with path.open() as f:
        header = next(csv.reader(f))
    table = np.loadtxt(path, delimiter=",", skiprows=1)  # an independent parse of the file
    source, items = _replay(path)
    assert isinstance(source, Source)
    eeg, aux = _chunks(items, "muse-lsl/eeg"), _chunks(items, "muse-lsl/aux")
    assert eeg[0][1].stream.channels == tuple(header[1:5]) == ("TP9", "AF7", "AF8", "TP10")
    assert aux[0][1].stream.channels == ("Right AUX",) == tuple(header[5:6])
    assert eeg[0][1].stream.units == ("uV",) * 4 and eeg[0][1].stream.nominal_rate == 256.0
    assert {len(c) for _, c in eeg} == {12} and len(eeg) == len(table) // 12 == 2561
    samples = np.concatenate([c.samples for _, c in eeg])
    assert np.array_equal(samples, table[:, 1:5])
    assert np.array_equal(np.concatenate([c.samples for _, c in aux])[:, 0], table[:, 5])
    # Re-based: origin + (t - t0), spacing as in the file (its backward steps included).
    stamps = np.concatenate([c.timestamps for _, c in eeg])
    t_file = table[:, 0]
    assert stamps.size == t_file.size and stamps.min() == ORIGIN
    np.testing.assert_allclose(stamps - ORIGIN, t_file - t_file.min(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.diff(stamps), np.diff(t_file), rtol=0, atol=1e-9)
    assert (np.diff(t_file) < 0).sum() == 47  # the README's count: kept, not smoothed
    # Each packet leaves when the clock reaches its latest sample, in file order.
    emitted = np.array([now for now, _ in eeg])
    latest = np.maximum.accumulate([c.timestamps.max() for _, c in eeg])
    assert np.array_equal(emitted, latest)
    markers = [m for _, m in items if isinstance(m, Marker)]
    codes = table[:, 6]
    assert len(markers) == int((codes != 0).sum()) == 197
    assert [m.label for m in markers].count("1") == 108 and {m.label for m in markers} == {"1", "2"}
    np.testing.assert_allclose(
        [m.timestamp - ORIGIN for m in markers], t_file[codes != 0] - t_file.min(), atol=1e-9
    )


def test_edf_replay_maps_channels_converts_to_microvolts_and_gives_annotations(
    shared_file,
) -> None:
    mne = pytest.importorskip("mne", reason="EDF replay reads files with MNE")
    path = shared_file(*EDF)
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    _, items = _replay(path, channel_map=EDF_MAP)
    eeg = _chunks(items, "edf/eeg")
    assert eeg[0][1].stream.channels == ("TP9", "AF7", "AF8", "TP10")
    assert eeg[0][1].stream.units == ("uV",) * 4 and eeg[0][1].stream.nominal_rate == 160.0
    assert [len(c) for _, c in eeg] == [12] * (20000 // 12) + [20000 % 12]
    samples = np.concatenate([c.samples for _, c in eeg])
    assert np.array_equal(samples, raw.get_data(picks=list(EDF_MAP)).T * 1e6)
    assert 5 < np.abs(samples).mean() < 500  # µV, not V
    markers = [m for _, m in items if isinstance(m, Marker)]
    assert [m.label for m in markers] == list(raw.annotations.description)
    assert {k: [m.label for m in markers].count(k) for k in ("T0", "T1", "T2")} == {
        "T0": 15,
        "T1": 8,
        "T2": 7,
    }
    np.testing.assert_allclose([m.timestamp - ORIGIN for m in markers], raw.annotations.onset)
    assert markers[1].meta == {"duration_s": 4.1}


def test_edf_channel_map_naming_absent_channels_is_refused(shared_file) -> None:
    pytest.importorskip("mne", reason="EDF replay reads files with MNE")
    path = shared_file(*EDF)
    with pytest.raises(ConfigError) as err:
        ReplaySource.open(path, SimulatedClock(), channel_map={"TP9": "TP9", "Af7.": "AF7"})
    assert err.value.file == str(path) and err.value.key == "channel_map"
    assert "TP9" in str(err.value) and "Af7." not in err.value.message


def test_minimal_xdf_yields_its_streams(shared_file) -> None:
    path = shared_file("xdf_examples", "minimal.xdf")
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    ref = {s["info"]["name"][0]: s for s in streams}
    t0 = min(s["time_stamps"].min() for s in streams)
    source, items = _replay(path)
    assert [s.name for s in source.streams] == ["SendDataC"]
    (_, chunk), *rest = _chunks(items, "SendDataC")
    assert not rest and chunk.stream.kind is StreamKind.EEG
    assert np.array_equal(chunk.samples, ref["SendDataC"]["time_series"].astype(float))
    assert chunk.samples[0].tolist() == [192.0, 255.0, 238.0]
    np.testing.assert_allclose(chunk.timestamps - ORIGIN, ref["SendDataC"]["time_stamps"] - t0)
    markers = [m for _, m in items if isinstance(m, Marker)]
    assert [m.label for m in markers][1:5] == ["Hello", "World", "from", "LSL"]
    assert len(markers) == 9 and markers[0].meta["stream"] == "SendDataString"


def _small_recording(path: Path) -> None:
    """3 s of EEG packets, HR once a second, irregular RR beats and a few markers."""
    eeg = StreamInfo(
        "dev/eeg", StreamKind.EEG, ("TP9", "AF7", "AF8", "TP10"), ("uV",) * 4, 256.0, "dev"
    )
    hr = StreamInfo("strap/hr", StreamKind.HR, ("hr",), ("bpm",), 0.0, "strap")
    rr = StreamInfo("strap/rr", StreamKind.RR, ("rr",), ("ms",), 0.0, "strap")
    rng = np.random.default_rng(7)
    with XdfRecorder(path) as rec:
        rec.on_marker(Marker(100.0, "session_start", meta={"protocol": "t"}))
        for k in range(64):
            rec.on_chunk(
                Chunk(eeg, 100.0 + (12 * k + np.arange(12)) / 256, rng.normal(size=(12, 4)))
            )
            if k % 21 == 20:
                t = 100.0 + (k + 1) // 21
                rec.on_chunk(Chunk(hr, np.array([t]), np.array([[70.0 + k]])))
                rec.on_chunk(Chunk(rr, t - np.array([0.61, 0.17]), np.array([[850.0], [822.5]])))
                rec.on_marker(Marker(t - 0.5, "cue", "drug", float(k), {"n": k}))
                rec.flush()


def test_replay_at_any_speed_gives_the_same_chunks_at_their_times(tmp_path: Path) -> None:
    path = tmp_path / "small.xdf"
    _small_recording(path)
    start = time.perf_counter()
    _, fast = _replay(path)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    _, slow = _replay(path, speed=40.0)
    slow_s = time.perf_counter() - start
    assert slow_s >= 3.0 / 40 * 0.9 and fast_s < slow_s

    def key(item: tuple[float, object]) -> tuple:
        now, x = item
        if isinstance(x, Chunk):
            return now, x.stream.name, x.timestamps.tolist(), x.samples.tolist()
        return now, x

    assert [key(i) for i in fast] == [key(i) for i in slow]
    # Time re-based on the clock origin, each chunk emitted when the clock reaches its last sample.
    assert fast[0][1] == Marker(ORIGIN, "session_start", meta={"protocol": "t"})
    for now, x in fast:
        assert now == (x.timestamps[-1] if isinstance(x, Chunk) else x.timestamp)
    eeg = _chunks(fast, "dev/eeg")
    assert [len(c) for _, c in eeg] == [12] * 64
    assert np.array_equal(
        np.concatenate([c.timestamps for _, c in eeg]), ORIGIN + np.arange(64 * 12) / 256
    )
    rr = _chunks(fast, "strap/rr")
    assert [len(c) for _, c in rr] == [1] * 6  # irregular: one chunk per beat
    cue = next(x for _, x in fast if isinstance(x, Marker) and x.label == "cue")
    assert cue == Marker(ORIGIN + 0.5, "cue", "drug", 20.0, {"n": 20})


def test_a_file_shorter_than_the_protocol_stops_the_session_with_a_device_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "small.xdf"
    _small_recording(path)
    clock = SimulatedClock()
    source = ReplaySource.open(path, clock, linger_s=0.1)
    runner = SessionRunner(
        load_protocol("demo"),
        [source],
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=clock,
    )
    with pytest.raises(DeviceError, match="replay-xdf"):
        asyncio.run(runner.run())
    assert source.state is SourceState.STOPPED


def test_csv_without_the_expected_header_names_file_line_and_format(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("time,a,b\n1,2,3\n")
    with pytest.raises(ConfigError) as err:
        ReplaySource.open(path, SimulatedClock())
    assert err.value.file == str(path) and err.value.line == 1
    assert "timestamps,TP9,AF7,AF8,TP10" in str(err.value) and "RAW_TP9" in str(err.value)
    path.write_text("timestamps,TP9,AF7,AF8\n1,2,3,4\n")
    with pytest.raises(ConfigError, match="no column TP10"):
        ReplaySource.open(path, SimulatedClock())


def test_csv_with_a_bad_value_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamps,TP9,AF7,AF8,TP10\n1.0,1,2,3,4\n1.004,1,x7,3,4\n")
    with pytest.raises(ConfigError) as err:
        ReplaySource.open(path, SimulatedClock())
    assert err.value.line == 3 and "'AF7'" in str(err.value) and "a number" in str(err.value)


def _mind_monitor(path: Path, raw_rate: float, seconds: float) -> np.ndarray:
    header = [
        "TimeStamp",
        "Delta_TP9",
        "RAW_TP9",
        "RAW_AF7",
        "RAW_AF8",
        "RAW_TP10",
        "AUX_RIGHT",
        "HeadBandOn",
        "Elements",
    ]
    n = int(raw_rate * seconds)
    values = 800.0 + np.arange(n * 4, dtype=float).reshape(n, 4) / 8
    lines = [",".join(header), "2024-03-01 10:00:00.000,,,,,,,,/muse/event/connected Muse-0000"]
    for i in range(n):
        stamp = f"2024-03-01 10:00:{int(i / raw_rate):02d}.{int(i / raw_rate % 1 * 1000):03d}"
        lines.append(f"{stamp},0.5,{','.join(map(repr, values[i].tolist()))},,1,")
    lines.append("2024-03-01 10:00:00.500,,,,,,,,/Marker/1")
    path.write_text("\n".join(lines) + "\n")
    return values


def test_mind_monitor_csv_gives_raw_eeg_and_elements_as_markers(tmp_path: Path) -> None:
    path = tmp_path / "mindMonitor.csv"
    values = _mind_monitor(path, 256.0, 2.0)
    source, items = _replay(path)
    assert [s.name for s in source.streams] == ["mind-monitor/eeg"]  # empty AUX left out
    eeg = _chunks(items, "mind-monitor/eeg")
    assert np.array_equal(np.concatenate([c.samples for _, c in eeg]), values)
    markers = [m for _, m in items if isinstance(m, Marker)]
    assert [(m.label, m.timestamp - ORIGIN) for m in markers] == [
        ("/muse/event/connected", 0.0),
        ("/Marker/1", 0.5),
    ]
    assert markers[0].meta == {"text": "Muse-0000"}


def test_mind_monitor_csv_without_raw_samples_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mindMonitor.csv"
    _mind_monitor(path, 1.0, 10.0)
    with pytest.raises(ConfigError, match="Constant") as err:
        ReplaySource.open(path, SimulatedClock())
    assert err.value.file == str(path) and err.value.key == "RAW_TP9"


def test_unknown_suffix_and_bad_xdf_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="fmt="):
        ReplaySource.open(tmp_path / "x.bin", SimulatedClock())
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"not an xdf file")
    with pytest.raises(ConfigError, match="XDF") as err:
        ReplaySource.open(bad, SimulatedClock())
    assert err.value.file == str(bad)
    with pytest.raises(ConfigError, match="muse-lsl header"):
        ReplaySource.open(bad, SimulatedClock(), fmt="csv")
