"""``addiction-index features``: a command group whose default subcommand is ``table``.

``addiction-index features FILE [options]`` (the feature table of one recording) keeps working:
it is short for ``addiction-index features table FILE [options]``. ``addiction-index features
extract DATASET`` computes the cached feature tables of every recording of a dataset
(:func:`~addiction_index.datasets._extract.extract_dataset`) in this process, on a joblib
process pool (``--workers``) or on a Dask cluster (``--scheduler``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from addiction_index._cli_features import features_command
from addiction_index.errors import AddictionIndexError

__all__ = ["DefaultCommandGroup", "extract_command", "features_app"]

DEFAULT_COMMAND = "table"


class DefaultCommandGroup(TyperGroup):
    """A group that runs ``DEFAULT_COMMAND`` when the first argument names no subcommand.

    ``features FILE --json`` becomes ``features table FILE --json``; ``features --help`` and
    ``features extract ...`` are unchanged. (A file literally named like a subcommand needs the
    explicit form: ``features table extract``.)
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


def _catalog(data_dir: Path | None) -> Any:
    """The dataset catalog: ``DIR/datasets`` for ``--data-dir DIR`` (as the environment variable
    ``$ADDICTION_INDEX_DATA_DIR``), else the default data folder's."""
    from addiction_index.datasets._manifest import DatasetCatalog

    return DatasetCatalog.in_data_dir(data_dir)


def _summary(result: Any, console: Console) -> None:
    counts = result.counts
    rate = result.recordings_per_minute
    table = Table(
        title=f"Features of dataset {result.dataset} (spec {result.spec_hash}, "
        f"{result.backend}, {result.workers} worker{'s' if result.workers != 1 else ''})",
        title_justify="left",
    )
    for col in ("recordings", "computed", "cached", "failed", "changed", "rows", "wall", "per min"):
        table.add_column(col, justify="right")
    table.add_row(
        str(len(result.outcomes)),
        str(counts["computed"]),
        str(counts["cached"]),
        str(counts["failed"]),
        str(counts["changed"]),
        f"{result.rows:,}",
        f"{result.wall_s:.1f} s",
        "—" if rate == float("inf") else f"{rate:.1f}",
    )
    console.print(table)
    bad = [o for o in result.outcomes if o.status in ("failed", "changed")]
    if bad:
        problems = Table(title="Recordings without a table", title_justify="left")
        problems.add_column("recording")
        problems.add_column("status")
        problems.add_column("error")
        for o in bad:
            problems.add_row(o.id, o.status, o.error or "")
        console.print(problems)
    console.print(f"[dim]cache: {result.cache_dir}[/]")


def extract_command(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (joblib); 1 runs in this process.")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run on a Dask distributed cluster at this address (tcp://host:8786)."),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Recompute tables already cached.")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data folder holding datasets/ (default: $ADDICTION_INDEX_DATA_DIR, else the "
            "user data folder).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")] = (
        False
    ),
) -> None:
    """Compute the cached feature tables of every recording of a dataset.

    Exit code 1 if a recording failed or changed since import (the others are extracted).
    """
    from addiction_index.datasets._extract import extract_dataset

    try:
        result = extract_dataset(
            _catalog(data_dir),
            dataset,
            workers=workers,
            scheduler=scheduler,
            progress=True,
            refresh=refresh,
        )
    except AddictionIndexError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    if as_json:
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(text + "\n")
    else:
        _summary(result, Console())
    if not result.ok:
        raise typer.Exit(code=1)


features_app = typer.Typer(
    cls=DefaultCommandGroup,
    help="Feature tables: of one recording (features FILE, short for features table FILE) or "
    "of every recording of a dataset (features extract DATASET).",
    no_args_is_help=True,
)
features_app.command("table")(features_command)
features_app.command("extract")(extract_command)
