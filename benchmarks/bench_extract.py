"""Dataset feature extraction throughput: recordings per minute, in process, joblib and Dask.

Input: N synthetic XDF session recordings (default 12 of 8 minutes: Muse EEG at 256 Hz with a
10 Hz rhythm, RR intervals, block markers), written once to a temporary dataset. Each backend
extracts the whole dataset several times, the cache deleted before each run: the first ("cold")
run includes starting the worker processes (loky, or the Dask LocalCluster's workers importing
the package and loading the numba cache); the reported value is the median of the next 3 runs
(1 with ``--quick``), which reuse them; the cold one is in ``extra``. These are throughputs,
not comparisons with another library: each record's ``reference`` is the in-process (1 worker)
run, so ``ratio`` is the speed-up over it and ``extra["recordings_per_min"]`` the throughput.
Run: ``python benchmarks/bench_extract.py [--quick] [--json]``.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Ratio, cli_main

from addiction_index.datasets._extract import extract_dataset
from addiction_index.datasets._manifest import Dataset, DatasetCatalog, RecordingEntry, file_sha256
from addiction_index.signals import Chunk, Marker, StreamInfo, StreamKind
from addiction_index.store.recording import XdfRecorder

EEG = StreamInfo(
    "muse/eeg", StreamKind.EEG, ("TP9", "AF7", "AF8", "TP10"), ("uV",) * 4, 256.0, "muse"
)
RR = StreamInfo("hrm/rr", StreamKind.RR, ("rr",), ("ms",), 0.0, "hrm")
T0 = 1000.0


def write_recording(path: Path, minutes: float, seed: int) -> Path:
    """A synthetic session: baseline, neutral and drug thirds, EEG + RR + block markers."""
    rng = np.random.default_rng(seed)
    duration = minutes * 60.0
    n = int(duration * EEG.nominal_rate)
    t = np.arange(n) / EEG.nominal_rate
    x = rng.normal(0.0, 8.0, (n, 4)) + (10.0 * np.sin(2 * np.pi * 10.0 * t))[:, None]
    rr = 800.0 + rng.normal(0.0, 30.0, int(duration / 0.8) + 10)
    beats = np.cumsum(rr) / 1000.0
    keep = beats <= t[-1]
    third = duration / 3
    with XdfRecorder(path) as recorder:
        for i in range(0, n, 2560):
            recorder.on_chunk(Chunk(EEG, T0 + t[i : i + 2560], x[i : i + 2560]))
        recorder.on_chunk(Chunk(RR, T0 + beats[keep], rr[keep][:, None]))
        for k, block in enumerate(("baseline", "neutral", "drug")):
            start, end = T0 + k * third + 2.0, T0 + (k + 1) * third - 2.0
            recorder.on_marker(Marker(start, "block_start", block, meta={"role": block}))
            recorder.on_marker(Marker(end, "block_end", block, meta={"role": block}))
    return path


def make_dataset(root: Path, n: int, minutes: float) -> DatasetCatalog:
    catalog = DatasetCatalog(root)
    folder = catalog.folder("bench") / "recordings"
    folder.mkdir(parents=True)
    entries = []
    for i in range(n):
        path = write_recording(folder / f"rec{i:02d}.xdf", minutes, seed=i)
        entries.append(
            RecordingEntry(
                id=f"rec{i:02d}",
                subject=f"B{i:03d}",
                path=str(path.relative_to(catalog.folder("bench"))),
                format="xdf",
                sha256=file_sha256(path),
            )
        )
    catalog.save(Dataset(name="bench", source="synthetic benchmark", recordings=entries))
    return catalog


def _timed(catalog: DatasetCatalog, **kw: object) -> tuple[float, int]:
    """Wall seconds of one extraction of the whole dataset, cache deleted first."""
    shutil.rmtree(catalog.folder("bench") / "features", ignore_errors=True)
    started = time.perf_counter()
    result = extract_dataset(catalog, "bench", progress=False, **kw)
    wall = time.perf_counter() - started
    if not result.ok or result.counts["computed"] != len(result.outcomes):
        raise RuntimeError(f"benchmark extraction did not compute everything: {result.counts}")
    return wall, result.workers


def _cold_warm(catalog: DatasetCatalog, repeat: int, **kw: object) -> tuple[float, float]:
    """Wall seconds of the first run and the median of ``repeat`` further runs."""
    cold = _timed(catalog, **kw)[0]
    return cold, statistics.median(_timed(catalog, **kw)[0] for _ in range(repeat))


def run(quick: bool = False) -> list[Ratio]:
    from distributed import Client, LocalCluster

    n, minutes, repeat = (4, 2.0, 1) if quick else (12, 8.0, 3)
    walls: dict[str, tuple[float, float]] = {}  # name -> (cold, warm) wall seconds
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        catalog = make_dataset(Path(tmp), n, minutes)
        walls["in process, 1 worker"] = _cold_warm(catalog, repeat)
        walls["joblib loky, 2 workers"] = _cold_warm(catalog, repeat, workers=2)
        for k in (1, 2):
            with (
                LocalCluster(
                    n_workers=k, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                name = f"dask LocalCluster, {k} worker{'s' if k > 1 else ''}"
                walls[name] = _cold_warm(catalog, repeat, scheduler=client)
    reference = walls["in process, 1 worker"][1] / n
    out = []
    for name, (cold, warm) in walls.items():
        out.append(
            Ratio(
                f"extract {name}",
                warm / n,
                reference,
                "in process, 1 worker",
                None,
                "recording",
                f"{n} synthetic XDF recordings of {minutes:g} min; median of {repeat} runs "
                "with warm workers, cache cleared",
                {
                    "recordings_per_min": n / warm * 60.0,
                    "cold_recordings_per_min": n / cold * 60.0,
                    "recordings": float(n),
                    "minutes_per_recording": minutes,
                },
            )
        )
    return out


def print_throughput(results: list[Ratio]) -> None:
    """A rich table of recordings per minute (warm and cold) and speed-up over in process."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Dataset feature extraction throughput")
    for col in ("backend", "recordings/min", "cold start", "s/recording", "speed-up"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    for r in results:
        table.add_row(
            r.name.removeprefix("extract "),
            f"{r.extra['recordings_per_min']:.1f}",
            f"{r.extra['cold_recordings_per_min']:.1f}",
            f"{r.ours_s:.3f}",
            f"{r.ratio:.2f}×",
        )
    console = Console()
    console.print(table)
    if results:
        console.print(f"[dim]{results[0].notes}[/dim]")


def _main() -> None:
    if "--json" in sys.argv:
        cli_main(run, "Dataset feature extraction throughput")
        return
    print_throughput(run(quick="--quick" in sys.argv))


if __name__ == "__main__":
    _main()
