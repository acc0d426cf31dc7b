"""Batch feature extraction over a dataset: cache, failures, changed files, backends, the CLI.

The dataset is built here from synthetic XDF recordings (EEG with a 10 Hz rhythm whose amplitude
depends on the block, RR intervals, the protocol markers a session writes) and one RR text file,
through :class:`~addiction_index.store.recording.XdfRecorder` and a manifest saved with
:class:`~addiction_index.datasets._manifest.DatasetCatalog`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from addiction_index._cli_extract import features_app
from addiction_index.datasets._extract import (
    ExtractionResult,
    cache_folder,
    extract_dataset,
    load_hop_tables,
)
from addiction_index.datasets._manifest import Dataset, DatasetCatalog, RecordingEntry, file_sha256
from addiction_index.datasets._tables import block_table
from addiction_index.errors import ResourceNotFoundError
from addiction_index.features.recording_table import recording_features
from addiction_index.features.spec import load_feature_spec
from addiction_index.signals import Chunk, Marker, StreamInfo, StreamKind
from addiction_index.store.recording import XdfRecorder

SPEC = load_feature_spec()
EEG = StreamInfo(
    "muse/eeg", StreamKind.EEG, ("TP9", "AF7", "AF8", "TP10"), ("uV",) * 4, 256.0, "muse"
)
RR = StreamInfo("hrm/rr", StreamKind.RR, ("rr",), ("ms",), 0.0, "hrm")
T0 = 5000.0
# (block id, start s, end s): a 64 s recording
BLOCKS = (("baseline", 2.0, 20.0), ("neutral", 22.0, 40.0), ("drug", 42.0, 60.0))
ALPHA_UV = {"baseline": 6.0, "neutral": 6.0, "drug": 14.0}
N_XDF = 3


def write_recording(path: Path, seed: int) -> Path:
    """A synthetic session recording: EEG, RR intervals and protocol markers, as XDF."""
    rng = np.random.default_rng(seed)
    n = int(64 * EEG.nominal_rate)
    t = np.arange(n) / EEG.nominal_rate
    alpha = np.full(n, 3.0)
    for block, start, end in BLOCKS:
        alpha[(t >= start) & (t < end)] = ALPHA_UV[block]
    x = rng.normal(0.0, 6.0, (n, 4)) + (alpha * np.sin(2 * np.pi * 10.0 * t))[:, None]
    rr = 820.0 + rng.normal(0.0, 25.0, 90)
    beats = np.cumsum(rr) / 1000.0
    keep = beats <= t[-1]
    with XdfRecorder(path) as recorder:
        for i in range(0, n, 2560):
            recorder.on_chunk(Chunk(EEG, T0 + t[i : i + 2560], x[i : i + 2560]))
        recorder.on_chunk(Chunk(RR, T0 + beats[keep], rr[keep][:, None]))
        recorder.on_marker(Marker(T0, "session_start", meta={"protocol": "synthetic"}))
        for block, start, end in BLOCKS:
            recorder.on_marker(Marker(T0 + start, "block_start", block, meta={"role": block}))
            recorder.on_marker(Marker(T0 + start + 1, "cue", block, meta={"number": 1}))
            recorder.on_marker(Marker(T0 + end, "block_end", block, meta={"role": block}))
            recorder.on_marker(Marker(T0 + end, "rating", block, value=40.0, meta={}))
    return path


@pytest.fixture(scope="module")
def source_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three XDF recordings and one RR text file, written once per module."""
    folder = tmp_path_factory.mktemp("sources")
    files = [write_recording(folder / f"rec{i}.xdf", seed=i) for i in range(N_XDF)]
    rr = folder / "rest.txt"
    rr.write_text("\n".join(f"{v:.1f}" for v in 800 + 40 * np.sin(np.arange(120) / 3)) + "\n")
    return [*files, rr]


@pytest.fixture
def catalog(tmp_path: Path, source_files: list[Path]) -> DatasetCatalog:
    """A fresh catalog holding dataset ``study`` (copies of the source files)."""
    cat = DatasetCatalog(tmp_path / "data" / "datasets")
    folder = cat.folder("study") / "recordings"
    folder.mkdir(parents=True)
    entries = []
    for i, src in enumerate(source_files):
        dst = folder / src.name
        shutil.copyfile(src, dst)
        xdf = src.suffix == ".xdf"
        entries.append(
            RecordingEntry(
                id=f"sub-{i:02d}_ses-1",
                subject=f"S{i:03d}",
                path=f"recordings/{src.name}",
                format="xdf" if xdf else "rr",
                sha256=file_sha256(dst),
                labels={"group": "resident" if i % 2 else "control", "diagnosis": i % 2},
                block_labels={"drug": {"vas_craving": 10.0 * i}} if xdf else {},
            )
        )
    cat.save(Dataset(name="study", source="test", recordings=entries))
    return cat


def _tables(cat: DatasetCatalog) -> dict[str, pd.DataFrame]:
    return load_hop_tables(cat, "study")


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=True)


def test_extract_writes_the_cache_and_reuses_it(
    catalog: DatasetCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = catalog.load("study")
    seen = []
    first = extract_dataset(catalog, "study", progress=True, on_outcome=seen.append)
    assert isinstance(first, ExtractionResult) and first.ok
    assert first.counts == {"computed": 4, "cached": 0, "failed": 0, "changed": 0}
    assert first.backend == "in-process" and [o.id for o in seen] == [e.id for e in data.recordings]
    folder = catalog.folder("study") / "features" / SPEC.version_hash()
    assert cache_folder(catalog, "study", SPEC) == folder == first.cache_dir
    for entry, outcome in zip(data.recordings, first.outcomes, strict=True):
        assert outcome.path == str(folder / f"{entry.sha256}.parquet") and outcome.rows > 0
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))
    tables = _tables(catalog)
    # the cache holds exactly what recording_features gives for the file
    entry = data.recordings[0]
    direct = recording_features(catalog.recording_path(data, entry), fmt="xdf").to_frame()
    pd.testing.assert_frame_equal(tables[entry.id], direct, check_exact=True)
    assert list(direct.columns) == ["t_s", "block", *SPEC.feature_names()]
    assert set(tables[entry.id]["block"]) == {"baseline", "neutral", "drug", "between"}
    assert set(tables[data.recordings[3].id]["block"]) == {"start"}  # RR file: no markers
    mtimes = {p: p.stat().st_mtime_ns for p in folder.iterdir()}

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("recomputed a cached recording")

    monkeypatch.setattr("addiction_index.features.recording_table.recording_features", boom)
    second = extract_dataset(catalog, "study", progress=False)
    assert second.counts["cached"] == 4 and second.ok
    assert [o.rows for o in second.outcomes] == [o.rows for o in first.outcomes]
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes
    _same(_tables(catalog), tables)
    monkeypatch.undo()
    third = extract_dataset(catalog, "study", progress=False, refresh=True)
    assert third.counts["computed"] == 4
    _same(_tables(catalog), tables)
    document = json.loads(json.dumps(third.to_dict()))
    assert document["counts"]["computed"] == 4 and document["rows"] == third.rows > 0


def test_other_reading_arguments_are_not_served_from_the_cache(catalog: DatasetCatalog) -> None:
    extract_dataset(catalog, "study", progress=False)
    data = catalog.load("study")
    data.recordings[0].channel_map = {c: c for c in EEG.channels}
    catalog.save(data)
    again = extract_dataset(catalog, "study", progress=False)
    assert [o.status for o in again.outcomes] == ["computed", "cached", "cached", "cached"]


def test_a_corrupt_recording_fails_and_the_others_succeed(catalog: DatasetCatalog) -> None:
    data = catalog.load("study")
    bad = catalog.recording_path(data, data.recordings[1])
    bad.write_bytes(b"XDF:" + bytes(range(256)) * 8)  # not an XDF body
    data.recordings[1].sha256 = file_sha256(bad)  # imported like this: not "changed"
    gone = data.recordings[2]
    catalog.recording_path(data, gone).unlink()
    catalog.save(data)
    result = extract_dataset(catalog, "study", progress=False)
    status = {o.id: o for o in result.outcomes}
    assert status[data.recordings[1].id].status == "failed"
    assert status[data.recordings[1].id].error
    assert status[gone.id].status == "failed" and "cannot read" in status[gone.id].error
    assert status[data.recordings[0].id].status == "computed"
    assert status[data.recordings[3].id].status == "computed"
    assert not result.ok and result.counts["failed"] == 2
    with pytest.raises(ResourceNotFoundError, match=data.recordings[1].id):
        load_hop_tables(catalog, "study")
    kept = load_hop_tables(catalog, "study", missing="skip")
    assert set(kept) == {data.recordings[0].id, data.recordings[3].id}


def test_a_file_changed_since_import_is_reported_not_extracted(catalog: DatasetCatalog) -> None:
    data = catalog.load("study")
    path = catalog.recording_path(data, data.recordings[0])
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")  # one byte differs
    result = extract_dataset(catalog, "study", progress=False)
    outcome = result.outcomes[0]
    assert outcome.status == "changed" and "changed since import" in outcome.error
    assert data.recordings[0].sha256[:12] in outcome.error
    assert not (result.cache_dir / f"{data.recordings[0].sha256}.parquet").exists()
    assert result.counts == {"computed": 3, "cached": 0, "failed": 0, "changed": 1}


def test_joblib_two_workers_give_the_same_tables_as_one(catalog: DatasetCatalog) -> None:
    one = extract_dataset(catalog, "study", workers=1, progress=False)
    tables = _tables(catalog)
    two = extract_dataset(catalog, "study", workers=2, progress=False, refresh=True)
    assert two.backend == "joblib" and two.workers == 2 and two.counts["computed"] == 4
    assert [o.id for o in two.outcomes] == [o.id for o in one.outcomes]  # manifest order
    _same(_tables(catalog), tables)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_tables_as_joblib(catalog: DatasetCatalog) -> None:
    distributed = pytest.importorskip("distributed")
    extract_dataset(catalog, "study", workers=2, progress=False)
    tables = _tables(catalog)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = extract_dataset(
            catalog, "study", scheduler=cluster.scheduler_address, progress=False, refresh=True
        )
    assert result.backend == "dask" and result.workers == 2
    assert result.counts["computed"] == 4
    _same(_tables(catalog), tables)


def test_block_table_of_extracted_recordings(catalog: DatasetCatalog) -> None:
    extract_dataset(catalog, "study", progress=False)
    blocks = block_table(catalog, "study")
    assert list(blocks["block"]) == ["baseline", "neutral", "drug"] * N_XDF  # RR file: no blocks
    drug = blocks[blocks["block"] == "drug"]
    assert (drug["delta:eeg_abs_alpha_AF7"] > np.log(2)).all()  # 14 vs 6 µV rhythm
    assert (drug["eeg_faa"].abs() < 0.5).all()
    assert drug["label:vas_craving"].tolist() == [0.0, 10.0, 20.0]
    assert blocks["hr_mean_bpm"].notna().any()


# --- the command line -----------------------------------------------------------------------------
def _cli() -> typer.Typer:
    """A small app adding ``features_app`` as cli.py does."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    app.add_typer(features_app, name="features")
    return app


def test_features_file_still_works_as_the_default_subcommand(
    source_files: list[Path], tmp_path: Path
) -> None:
    rr = source_files[-1]
    runner = CliRunner()
    out = tmp_path / "rest.csv"
    short = runner.invoke(_cli(), ["features", str(rr), "--out", str(out), "--json"])
    assert short.exit_code == 0, short.output
    summary = json.loads(short.stdout)
    assert summary["hrv"]["n_intervals"] == 120 and summary["rows"] == len(pd.read_csv(out))
    explicit = runner.invoke(_cli(), ["features", "table", str(rr), "-o", str(out), "--json"])
    assert explicit.exit_code == 0 and json.loads(explicit.stdout) == summary
    helped = runner.invoke(_cli(), ["features", "--help"])
    assert helped.exit_code == 0 and "extract" in helped.output and "table" in helped.output


def test_features_extract_command(catalog: DatasetCatalog) -> None:
    runner = CliRunner()
    data_dir = str(catalog.root.parent)
    args = ["features", "extract", "study", "--data-dir", data_dir, "--workers", "1", "--json"]
    result = runner.invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["counts"]["computed"] == 4 and document["dataset"] == "study"
    again = runner.invoke(_cli(), ["features", "extract", "study", "--data-dir", data_dir])
    assert again.exit_code == 0, again.output
    assert "cached" in again.stdout and "study" in again.stdout
    missing = runner.invoke(_cli(), ["features", "extract", "nope", "--data-dir", data_dir])
    assert missing.exit_code == 2 and "no dataset 'nope'" in missing.output
    data = catalog.load("study")
    catalog.recording_path(data, data.recordings[0]).write_bytes(b"changed")
    failed = runner.invoke(_cli(), [*args, "--refresh"])
    assert failed.exit_code == 1 and json.loads(failed.stdout)["counts"]["changed"] == 1


def test_a_crash_while_writing_leaves_no_table(
    catalog: DatasetCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    real = pq.write_table

    def crash(table: object, where: object, **kw: object) -> None:
        real(table, where, **kw)
        Path(where).write_bytes(Path(where).read_bytes()[:100])  # half a file, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    result = extract_dataset(catalog, "study", progress=False)
    assert result.counts["failed"] == 4 and "disk full" in result.outcomes[0].error
    assert not any(result.cache_dir.iterdir())  # neither tables nor temporary files
    monkeypatch.undo()
    assert extract_dataset(catalog, "study", progress=False).counts["computed"] == 4


def test_a_worker_with_another_spec_refuses(catalog: DatasetCatalog) -> None:
    from addiction_index.datasets._extract import _cache_meta, _extract_one, _read_args, _Task

    data = catalog.load("study")
    entry = data.recordings[0]
    meta = _cache_meta(entry, "0" * 16)
    target = catalog.folder("study") / "x.parquet"
    task = _Task(
        entry.id,
        str(catalog.recording_path(data, entry)),
        entry.sha256,
        _read_args(entry),
        str(target),
        meta,
        None,
    )
    outcome = _extract_one(task)
    assert outcome.status == "failed" and "0000000000000000" in outcome.error
    assert not target.exists()
