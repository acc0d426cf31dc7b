"""``addiction-index dataset …`` (simulate, import, list, show) and ``addiction-index export``.

Human output is rich tables on stdout; ``--json`` prints one JSON document on stdout (progress
and errors go to stderr). Errors exit with code 1 and name the file, line or field at fault.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from addiction_index.errors import AddictionIndexError

__all__ = ["dataset_app", "export_command"]

dataset_app = typer.Typer(
    help="Labelled datasets: simulate, import, list, show.", no_args_is_help=True
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder, holding datasets/ (default: $ADDICTION_INDEX_DATA_DIR or the user's).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _catalog(data_dir: Path | None):
    from addiction_index.datasets import DatasetCatalog

    return DatasetCatalog.in_data_dir(data_dir)


def _fail(exc: Exception) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(1)


def _emit(data: dict[str, Any] | list[Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@dataset_app.command("simulate")
def simulate_command(
    name: Annotated[str, typer.Argument(help="Name of the new dataset.")],
    residents: Annotated[int, typer.Option(help="Simulated residents.")] = 40,
    controls: Annotated[int, typer.Option(help="Simulated controls (craving 0).")] = 20,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same files.")] = 1,
    protocol: Annotated[str, typer.Option(help="Protocol name or YAML file.")] = "demo",
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Simulate a labelled study: one XDF recording per person, ground-truth labels."""
    from addiction_index.datasets import simulate_study

    started = time.perf_counter()
    try:
        dataset = simulate_study(
            _catalog(data_dir), name, residents, controls, seed, protocol, progress=True
        )
    except AddictionIndexError as exc:
        _fail(exc)
    elapsed = time.perf_counter() - started
    summary = {
        "dataset": dataset.name,
        "folder": str(_catalog(data_dir).folder(name)),
        "recordings": len(dataset.recordings),
        "residents": residents,
        "controls": controls,
        "seed": seed,
        "seconds": round(elapsed, 2),
        "seconds_per_person": round(elapsed / max(1, len(dataset.recordings)), 3),
    }
    if as_json:
        _emit(summary)
        return
    Console().print(
        f"simulated [bold]{dataset.name}[/]: {len(dataset.recordings)} recordings in "
        f"{summary['folder']} ({elapsed:.1f} s, {summary['seconds_per_person']} s per person)"
    )


@dataset_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A recording, a folder, or a BIDS root.")],
    fmt: Annotated[
        str, typer.Option("--format", help="bids, edf, xdf, muse-csv, rr or folder.")
    ] = "folder",
    name: Annotated[
        str | None, typer.Option("--name", help="Dataset name (default: the folder's name).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Mapping YAML: subjects, labels, events.")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Import recordings into a dataset; list what was imported and what was skipped, and why."""
    from addiction_index.datasets import import_recordings

    dataset_name = name or (path.stem if path.is_file() else path.resolve().name)
    try:
        with Console(stderr=True).status(f"importing {path}…"):
            report = import_recordings(_catalog(data_dir), dataset_name, path, fmt, mapping)
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        _emit(report.to_dict())
        return
    console = Console()
    console.print(
        f"[bold]{report.dataset.name}[/]: found {report.found}, imported "
        f"{len(report.imported)}, skipped {len(report.skipped)} ({report.seconds:.1f} s)"
    )
    if report.imported:
        table = Table(title="imported")
        for column in ("id", "subject", "session", "format", "labels"):
            table.add_column(column)
        for e in report.imported:
            table.add_row(e.id, e.subject, e.session, e.format, ", ".join(e.labels) or "—")
        console.print(table)
    if report.skipped:
        table = Table(title="skipped")
        table.add_column("file")
        table.add_column("reason")
        for s in report.skipped:
            table.add_row(s.path, s.reason)
        console.print(table)


@dataset_app.command("list")
def list_command(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """List the datasets: recordings, subjects, labels."""
    catalog = _catalog(data_dir)
    rows = []
    try:
        for name in catalog.names():
            d = catalog.load(name)
            rows.append(
                {
                    "name": d.name,
                    "source": d.source,
                    "created": d.created.isoformat(timespec="seconds"),
                    "recordings": len(d.recordings),
                    "subjects": len(d.subjects()),
                    "skipped": len(d.skipped),
                    "labels": d.label_names(),
                }
            )
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        _emit({"root": str(catalog.root), "datasets": rows})
        return
    table = Table(title=f"datasets in {catalog.root}")
    for column in ("name", "source", "recordings", "subjects", "skipped", "labels"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["name"], r["source"], str(r["recordings"]), str(r["subjects"]), str(r["skipped"]),
            ", ".join(r["labels"]),
        )  # fmt: skip
    Console().print(table if rows else f"no datasets in {catalog.root}")


@dataset_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Show one dataset: its recordings with labels, and the files its imports skipped."""
    try:
        dataset = _catalog(data_dir).load(name)
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        data = dataset.model_dump(mode="json")
        data["subjects"] = dataset.subjects()
        data["labels"] = dataset.label_names()
        _emit(data)
        return
    console = Console()
    console.print(
        f"[bold]{dataset.name}[/] ({dataset.source}): {len(dataset.recordings)} recordings, "
        f"{len(dataset.subjects())} subjects; labels: {', '.join(dataset.label_names()) or '—'}"
    )
    table = Table(title="recordings")
    for column in ("id", "subject", "session", "format", "labels", "block labels"):
        table.add_column(column)
    for e in dataset.recordings:
        labels = ", ".join(f"{k}={v}" for k, v in e.labels.items())
        blocks = "; ".join(
            f"{b}: " + ", ".join(f"{k}={v}" for k, v in values.items())
            for b, values in e.block_labels.items()
        )
        table.add_row(e.id, e.subject, e.session, e.format, labels or "—", blocks or "—")
    console.print(table)
    if dataset.skipped:
        skipped = Table(title="skipped")
        skipped.add_column("file")
        skipped.add_column("reason")
        for s in dataset.skipped:
            skipped.add_row(s.path, s.reason)
        console.print(skipped)


def export_command(
    dataset: Annotated[str, typer.Argument(help="Dataset to export.")],
    bids: Annotated[Path, typer.Option("--bids", help="New folder for the BIDS export.")],
    seed: Annotated[
        int | None, typer.Option(help="Seed of the date shift (default: random).")
    ] = None,
    data_dir: DataDir = None,
    db: Annotated[
        str | None,
        typer.Option(help="The centre's database that keeps the study codes (default: the usual)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Export a dataset as pseudonymised BIDS (study codes, shifted dates, no free text)."""
    from addiction_index.datasets import export_bids

    try:
        with Console(stderr=True).status(f"exporting {dataset} to {bids}…"):
            report = export_bids(_catalog(data_dir), dataset, bids, seed=seed, db=db)
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        _emit(report.to_dict())
        return
    console = Console()
    console.print(
        f"exported {len(report.exported)} recordings of [bold]{dataset}[/] to {report.out_dir} "
        f"({report.seconds:.1f} s); study codes kept only in {report.database}"
    )
    for s in report.skipped:
        console.print(f"[yellow]skipped[/] {s.path}: {s.reason}")
