"""XDF recording: a whole session recorded and replayed to the same features; crash safety."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from addiction_index.devices._replay import ReplaySource
from addiction_index.errors import StorageError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.sessions import SessionRunner, load_protocol, run_simulated_assessment
from addiction_index.sessions._protocol import PROTOCOL_DIR
from addiction_index.signals import Chunk, Marker, SimulatedClock, StreamInfo, StreamKind
from addiction_index.store import open_store
from addiction_index.store.recording import XdfRecorder

EEG = StreamInfo(
    "dev/eeg", StreamKind.EEG, ("TP9", "AF7", "AF8", "TP10"), ("uV",) * 4, 256.0, "dev"
)


def _load(path: Path) -> dict[str, dict]:
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


class _Capture:
    """A sink keeping every raw chunk and marker the runner hands out."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[Chunk]] = {}
        self.markers: list[Marker] = []

    def on_chunk(self, chunk: Chunk) -> None:
        self.chunks.setdefault(chunk.stream.name, []).append(chunk)

    def on_marker(self, marker: Marker) -> None:
        self.markers.append(marker)

    def on_hop(self, hop: object) -> None:
        pass

    def flush(self) -> None:
        pass


def _same_features(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


@pytest.fixture
def short_protocol(tmp_path: Path) -> Path:
    text = (PROTOCOL_DIR / "demo.yaml").read_text()
    assert "duration_s: 120" in text
    path = tmp_path / "short.yaml"
    path.write_text(text.replace("duration_s: 120", "duration_s: 45"))
    return path


def test_session_recorded_then_replayed_gives_identical_hops(
    tmp_path: Path, short_protocol: Path, store_url: str
) -> None:
    xdf = tmp_path / "session.xdf"
    captured, live = _Capture(), []
    with XdfRecorder(xdf) as recorder:
        result = asyncio.run(
            run_simulated_assessment(
                subject="REC-1",
                craving=60,
                seed=4,
                protocol=str(short_protocol),
                db=store_url,
                sinks=[recorder, captured],
                on_runner=live.append,
            )
        )
    runner = live[0]
    assert result.outcome.completed and len(runner.hops) > 600
    with open_store(store_url) as store:  # the session's rows, on SQLite and PostgreSQL
        stored = store.get_session(result.session_id)
    assert stored["session"]["status"] == "completed"
    assert len(stored["markers"]) == len(runner.markers)

    # Every stream is in the file, with what the runner received, timestamps bit for bit.
    streams = _load(xdf)
    assert set(streams) == {*captured.chunks, "markers"} == {*runner.rings, "markers"}
    for name, chunks in captured.chunks.items():
        stamps = np.concatenate([c.timestamps for c in chunks])
        assert streams[name]["time_stamps"].size == runner.rings[name].total_written
        assert np.array_equal(streams[name]["time_stamps"], stamps)
        values = np.concatenate([c.samples for c in chunks])
        assert np.array_equal(streams[name]["time_series"], values, equal_nan=True)
        assert int(streams[name]["footer"]["info"]["sample_count"][0]) == stamps.size
    assert streams["sim-muse-2/eeg"]["info"]["type"] == ["eeg"]
    recorded = [json.loads(s[0]) for s in streams["markers"]["time_series"]]
    assert len(recorded) == len(captured.markers) == len(runner.markers)
    assert [m["label"] for m in recorded] == [m.label for m in captured.markers]
    assert np.array_equal(
        streams["markers"]["time_stamps"], [m.timestamp for m in captured.markers]
    )

    # Replayed through a new runner on a new clock: the same hops, feature for feature.
    clock = SimulatedClock()
    source = ReplaySource.open(xdf, clock)
    replay = SessionRunner(
        load_protocol(short_protocol),
        [source],
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=clock,
    )
    asyncio.run(replay.run())
    origin_live, origin_replay = runner.schedule[0].start, replay.schedule[0].start
    assert len(replay.hops) == len(runner.hops)
    for a, b in zip(runner.hops, replay.hops, strict=True):
        assert a.t - origin_live == b.t - origin_replay
        assert _same_features(a.features, b.features), a.t - origin_live
    replayed = [m.label for m in replay.markers if m.label != "rating"]
    assert replayed.count("block_start") == 2 * 4  # the recorded ones and the replay's own


def test_crash_after_flush_keeps_every_flushed_sample(tmp_path: Path) -> None:
    xdf = tmp_path / "crash.xdf"
    # The last flush is small (3 packets, < the 8 KiB write buffer): it survives only if flush()
    # really hands the bytes to the OS.
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from addiction_index.signals import Chunk, Marker, StreamInfo, StreamKind
        from addiction_index.store.recording import XdfRecorder
        eeg = StreamInfo("dev/eeg", StreamKind.EEG, ("TP9", "AF7", "AF8", "TP10"),
                         ("uV",) * 4, 256.0, "dev")
        rec = XdfRecorder({str(xdf)!r})
        for k in range(100):
            t = 50.0 + (12 * k + np.arange(12)) / 256
            rec.on_chunk(Chunk(eeg, t, np.full((12, 4), float(k))))
            if k == 49:
                rec.flush()
            if k == 52:
                rec.on_marker(Marker(50.0, "flushed", "b", 1.0))
                rec.flush()
        rec.on_marker(Marker(60.0, "lost"))
        os._exit(1)  # killed: no flush, no close, no footer
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr.decode()
    streams = _load(xdf)
    eeg = streams["dev/eeg"]
    assert eeg["time_series"].shape == (53 * 12, 4)
    expected = 50.0 + np.arange(53 * 12) / 256
    assert np.array_equal(eeg["time_stamps"], expected)
    assert eeg["time_series"][-1, 0] == 52.0
    assert "footer" not in eeg
    assert [json.loads(s[0])["label"] for s in streams["markers"]["time_series"]] == ["flushed"]


def test_recorder_refuses_to_overwrite_and_to_record_after_close(tmp_path: Path) -> None:
    path = tmp_path / "r.xdf"
    rec = XdfRecorder(path)
    with pytest.raises(StorageError, match=r"r\.xdf"):
        XdfRecorder(path)
    rec.close()
    rec.close()  # twice is harmless
    with pytest.raises(StorageError, match="closed"):
        rec.on_chunk(Chunk(EEG, np.zeros(1), np.zeros((1, 4))))


def test_flushes_from_a_worker_thread_lose_and_reorder_nothing(tmp_path: Path) -> None:
    path = tmp_path / "threads.xdf"
    n_chunks = 3000
    with XdfRecorder(path) as rec:
        stop = threading.Event()

        def flusher() -> None:
            while not stop.is_set():
                rec.flush()

        worker = threading.Thread(target=flusher)
        worker.start()
        for k in range(n_chunks):
            t = (12 * k + np.arange(12)) / 256
            rec.on_chunk(Chunk(EEG, t, np.full((12, 4), float(k))))
            if k % 100 == 0:
                rec.on_marker(Marker(float(t[0]), "tick", value=float(k)))
        stop.set()
        worker.join()
    eeg = _load(path)["dev/eeg"]
    assert np.array_equal(eeg["time_stamps"], np.arange(12 * n_chunks) / 256)
    assert np.array_equal(eeg["time_series"][::12, 0], np.arange(n_chunks, dtype=float))
