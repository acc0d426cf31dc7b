"""Batch feature extraction over a dataset, with a per-recording Parquet cache.

:func:`extract_dataset` computes the hop-level feature table of every recording of a dataset
(:func:`~addiction_index.features.recording_table.recording_features`, one row per hop) and
caches each one at::

    <dataset folder>/features/<spec hash>/<recording sha256>.parquet

The spec hash (:meth:`~addiction_index.features.spec.FeatureSpec.version_hash`) covers the spec
file and the kernel version, so a new spec or new kernel numerics start a fresh cache; the
recording's content hash (from the manifest) names the file. The reading arguments (format, ECG
rate, channel map) are kept in the Parquet metadata: a cache file made with other arguments is
recomputed. Files are written to a temporary name and moved into place with :func:`os.replace`,
so a crash never leaves half a table behind.

Before computing, the worker checks the file's SHA-256 against the manifest: a file that changed
since import is reported as ``changed`` (and not extracted) rather than silently giving features
of other data. A cache hit trusts the cache (it holds the features of the bytes that were
imported) and does not re-read the recording. A recording that cannot be read is reported as
``failed`` with its id and the error; the others go on.

Backends: ``workers=1`` runs in this process; ``workers>1`` uses joblib's loky process pool; a
``scheduler`` (a Dask ``tcp://`` address, or a :class:`distributed.Client`) runs the recordings
on a Dask distributed cluster. Workers read recordings by path and write the cache themselves
(they must share the filesystem) and return small metadata only.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from addiction_index._progress import counting_bar
from addiction_index.datasets._manifest import (
    Dataset,
    DatasetCatalog,
    RecordingEntry,
    file_sha256,
)
from addiction_index.errors import InputError, ResourceNotFoundError

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from addiction_index.features.spec import FeatureSpec

__all__ = [
    "ExtractionResult",
    "RecordingOutcome",
    "cache_folder",
    "cache_path",
    "extract_dataset",
    "load_hop_tables",
]

Status = Literal["computed", "cached", "failed", "changed"]
#: Key of this package's entry in the Parquet schema metadata of a cached table.
META_KEY = b"addiction_index"


@dataclass
class RecordingOutcome:
    """What happened to one recording: computed, cached, failed (unreadable) or changed."""

    id: str
    status: Status
    rows: int = 0
    seconds: float = 0.0
    path: str | None = None  # the cached Parquet table
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ExtractionResult:
    """Per-recording outcomes of one :func:`extract_dataset` run, totals and wall time."""

    dataset: str
    spec_hash: str
    cache_dir: Path
    backend: str  # "in-process" | "joblib" | "dask"
    workers: int
    outcomes: list[RecordingOutcome]
    wall_s: float

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def counts(self) -> dict[str, int]:
        """Recordings per status (computed, cached, failed, changed)."""
        return {s: self.count(s) for s in ("computed", "cached", "failed", "changed")}

    @property
    def rows(self) -> int:
        """Hop rows over every recording that has a table."""
        return sum(o.rows for o in self.outcomes)

    @property
    def ok(self) -> bool:
        """True when every recording has a table (none failed or changed)."""
        return all(o.status in ("computed", "cached") for o in self.outcomes)

    @property
    def recordings_per_minute(self) -> float:
        """Recordings handled (any outcome) per minute of wall time."""
        return len(self.outcomes) / self.wall_s * 60.0 if self.wall_s > 0 else float("inf")

    def to_dict(self) -> dict[str, object]:
        rate = self.recordings_per_minute
        return {
            "dataset": self.dataset,
            "spec_hash": self.spec_hash,
            "cache_dir": str(self.cache_dir),
            "backend": self.backend,
            "workers": self.workers,
            "recordings": len(self.outcomes),
            "counts": self.counts,
            "rows": self.rows,
            "wall_s": self.wall_s,
            "recordings_per_minute": rate if rate != float("inf") else None,
            "ok": self.ok,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


# --- the cache ----------------------------------------------------------------------------------
def _resolve(catalog: DatasetCatalog, dataset: str | Dataset) -> Dataset:
    return catalog.load(dataset) if isinstance(dataset, str) else dataset


def _spec(spec: FeatureSpec | None) -> FeatureSpec:
    from addiction_index.features.spec import load_feature_spec

    return spec if spec is not None else load_feature_spec()


def cache_folder(catalog: DatasetCatalog, dataset: str | Dataset, spec: FeatureSpec) -> Path:
    """``<dataset folder>/features/<spec hash>``: the cached tables of one spec version."""
    name = dataset if isinstance(dataset, str) else dataset.name
    return catalog.folder(name) / "features" / spec.version_hash()


def cache_path(folder: Path, entry: RecordingEntry) -> Path:
    """The cached table of ``entry`` in ``folder`` (named by the recording's content hash)."""
    return folder / f"{entry.sha256}.parquet"


def _read_args(entry: RecordingEntry) -> dict[str, Any]:
    """``recording_features`` keyword arguments for the entry's format."""
    if entry.format in ("xdf", "edf", "csv"):
        return {"fmt": entry.format, "channel_map": entry.channel_map}
    if entry.format == "rr":  # an RR text or .hrm file: the suffix decides, no fmt
        return {}
    if entry.format == "ecg-csv":
        if entry.fs is None:
            raise InputError(f"recording {entry.id}: fs", None, "the ECG rate (Hz) of an ecg-csv")
        return {"fs": entry.fs}
    raise InputError(f"recording {entry.id}: format", entry.format, "xdf, edf, csv, rr, ecg-csv")


def _cache_meta(entry: RecordingEntry, spec_hash: str) -> dict[str, object]:
    """What a cached table was made from; a cache file with other metadata is recomputed."""
    return {
        "sha256": entry.sha256,
        "spec_hash": spec_hash,
        "format": entry.format,
        "fs": entry.fs,
        "channel_map": entry.channel_map,
    }


def _read_meta(path: Path) -> dict[str, object] | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[META_KEY]) if META_KEY in meta else None
    except (OSError, ValueError, KeyError):  # unreadable or foreign file: recompute it
        return None


def _cached_rows(path: Path, meta: dict[str, object]) -> tuple[int, list[str]] | None:
    """Rows and notes of a valid cache file made with ``meta``'s arguments, else None."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    found = _read_meta(path)
    if found is None or {k: found.get(k) for k in meta} != meta:
        return None
    try:
        rows = pq.read_metadata(path).num_rows
    except (OSError, ValueError):
        return None
    return int(rows), [str(n) for n in found.get("notes", [])]  # type: ignore[union-attr]


def _write_atomic(frame: pd.DataFrame, path: Path, meta: dict[str, object]) -> None:
    """Write ``frame`` as Parquet with ``meta`` to a temporary file, then move it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[META_KEY] = json.dumps(meta, ensure_ascii=False).encode("utf-8")
    table = table.replace_schema_metadata(schema_meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- the work function (runs in the worker) -------------------------------------------------------
@dataclass(frozen=True)
class _Task:
    """Everything a worker needs for one recording (small and picklable)."""

    id: str
    recording: str
    sha256: str
    read_args: dict[str, Any]
    cache: str
    meta: dict[str, object]
    spec: FeatureSpec | None  # None: the packaged spec, loaded in the worker


def _extract_one(task: _Task) -> RecordingOutcome:
    """Check the file's hash, compute its feature table, write the cache; never raises."""
    from addiction_index.features.recording_table import recording_features

    started = time.perf_counter()
    path = Path(task.recording)

    def outcome(status: Status, **kw: Any) -> RecordingOutcome:
        return RecordingOutcome(task.id, status, seconds=time.perf_counter() - started, **kw)

    try:
        actual = file_sha256(path)
    except OSError as exc:
        return outcome("failed", error=f"cannot read {path}: {exc.strerror or exc}")
    if actual != task.sha256:
        return outcome(
            "changed",
            error=f"{path} changed since import: sha256 {actual[:12]}…, "
            f"expected {task.sha256[:12]}… (re-import the recording)",
        )
    spec = _spec(task.spec)
    if spec.version_hash() != task.meta["spec_hash"]:  # another package version on a worker
        return outcome(
            "failed",
            error=f"the worker's feature spec is {spec.version_hash()}, expected "
            f"{task.meta['spec_hash']} (install the same addiction-index on every worker)",
        )
    try:
        table = recording_features(path, spec=spec, **task.read_args)
        frame = table.to_frame()
        _write_atomic(frame, Path(task.cache), task.meta | {"notes": list(table.notes)})
    except Exception as exc:  # any reader error of a bad file: reported, not fatal to others
        return outcome("failed", error=f"{type(exc).__name__}: {exc}")
    return outcome("computed", rows=len(frame), path=task.cache, notes=list(table.notes))


# --- backends -------------------------------------------------------------------------------------
def _in_process(tasks: list[_Task]) -> Iterator[RecordingOutcome]:
    for task in tasks:
        yield _extract_one(task)


def _joblib(tasks: list[_Task], workers: int) -> Iterator[RecordingOutcome]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_extract_one)(task) for task in tasks)


def _dask(tasks: list[_Task], scheduler: str | Client) -> tuple[Iterator[RecordingOutcome], int]:
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler) if own else scheduler
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            "scheduler", str(scheduler), f"a reachable Dask scheduler ({exc})"
        ) from exc
    workers = len(client.scheduler_info().get("workers", {}))

    def results() -> Iterator[RecordingOutcome]:
        try:
            futures = client.map(_extract_one, tasks, pure=False)
            by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # the worker died or could not run the task
                    task = by_key[future.key]
                    yield RecordingOutcome(task.id, "failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            if own:
                client.close()

    return results(), workers


def extract_dataset(
    catalog: DatasetCatalog,
    dataset: str | Dataset,
    *,
    workers: int = 1,
    scheduler: str | Client | None = None,
    spec: FeatureSpec | None = None,
    progress: bool = True,
    refresh: bool = False,
    on_outcome: Callable[[RecordingOutcome], None] | None = None,
) -> ExtractionResult:
    """Compute (or reuse) the cached feature table of every recording of ``dataset``.

    ``workers``: 1 runs in this process, more use a joblib loky process pool of that size.
    ``scheduler``: a Dask scheduler address (``"tcp://host:8786"``) or a
    :class:`distributed.Client`; recordings then run on that cluster (``workers`` is ignored).
    ``refresh`` recomputes tables already cached. ``progress`` shows a progress bar on stderr.
    ``on_outcome`` is called with each recording's outcome as it finishes.
    Outcomes are returned in manifest order whatever order the workers finish in.
    """
    if workers < 1:
        raise InputError("workers", workers, "1 or more worker processes")
    data = _resolve(catalog, dataset)
    resolved = _spec(spec)
    spec_hash = resolved.version_hash()
    folder = cache_folder(catalog, data, resolved)
    started = time.perf_counter()
    outcomes: dict[str, RecordingOutcome] = {}
    tasks: list[_Task] = []
    for entry in data.recordings:
        target = cache_path(folder, entry)
        meta = _cache_meta(entry, spec_hash)
        try:
            read_args = _read_args(entry)
        except InputError as exc:
            outcomes[entry.id] = RecordingOutcome(entry.id, "failed", error=str(exc))
            continue
        hit = None if refresh else _cached_rows(target, meta)
        if hit is not None:
            outcomes[entry.id] = RecordingOutcome(
                entry.id, "cached", rows=hit[0], path=str(target), notes=hit[1]
            )
            continue
        recording = catalog.recording_path(data, entry)
        tasks.append(
            _Task(entry.id, str(recording), entry.sha256, read_args, str(target), meta, spec)
        )
    if scheduler is not None:
        backend = "dask"
        stream, n_workers = _dask(tasks, scheduler) if tasks else (iter(()), 0)
    elif workers > 1 and len(tasks) > 1:
        backend, n_workers = "joblib", workers
        stream = _joblib(tasks, workers)
    else:
        backend, n_workers = "in-process", 1
        stream = _in_process(tasks)
    title = f"features of {data.name}"
    with counting_bar(progress, len(data.recordings), title, "recordings") as advance:
        advance(len(outcomes))
        for done in outcomes.values():
            if on_outcome is not None:
                on_outcome(done)
        for done in stream:
            outcomes[done.id] = done
            advance()
            if on_outcome is not None:
                on_outcome(done)
    ordered = [outcomes[e.id] for e in data.recordings]
    wall = time.perf_counter() - started
    return ExtractionResult(data.name, spec_hash, folder, backend, n_workers, ordered, wall)


def load_hop_tables(
    catalog: DatasetCatalog,
    dataset: str | Dataset,
    spec: FeatureSpec | None = None,
    *,
    missing: Literal["raise", "skip"] = "raise",
) -> dict[str, pd.DataFrame]:
    """The cached hop-level table of every recording: recording id -> DataFrame.

    Columns as :meth:`~addiction_index.features.recording_table.FeatureTable.to_frame` (``t_s``,
    ``block``, then the features). A recording without a valid cached table (never extracted,
    failed, or extracted with another spec or other reading arguments) raises
    :class:`~addiction_index.errors.ResourceNotFoundError` naming it, or with
    ``missing="skip"`` is left out.
    """
    import pandas as pd

    if missing not in ("raise", "skip"):
        raise InputError("missing", missing, '"raise" or "skip"')
    data = _resolve(catalog, dataset)
    resolved = _spec(spec)
    spec_hash = resolved.version_hash()
    folder = cache_folder(catalog, data, resolved)
    tables: dict[str, pd.DataFrame] = {}
    absent: list[str] = []
    for entry in data.recordings:
        path = cache_path(folder, entry)
        if _cached_rows(path, _cache_meta(entry, spec_hash)) is None:
            absent.append(entry.id)
            continue
        tables[entry.id] = pd.read_parquet(path)
    if absent and missing == "raise":
        shown = ", ".join(absent[:10]) + (
            f" and {len(absent) - 10} more" if len(absent) > 10 else ""
        )
        raise ResourceNotFoundError(
            f"dataset {data.name!r}: no cached feature table (spec {spec_hash}) in {folder} for "
            f"{len(absent)} of {len(data.recordings)} recordings ({shown}); run "
            f"`addiction-index features extract {data.name}` first, or skip them"
        )
    return tables
