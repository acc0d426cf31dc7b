"""``addiction-index features FILE``: the feature table of a recording, as CSV or Parquet."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["features_command"]

#: Features shown per block in the terminal summary (all of them are in the file and --json).
SHOWN = ("eeg_rel_alpha_frontal", "eeg_faa", "eeg_usable", "hr_mean_bpm", "hrv_rmssd_ms")


def _channel_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise InputError("--channels", text, 'pairs "FILE=SPEC", e.g. "Af7.=AF7,Af8.=AF8"')
    return {k.strip(): v.strip() for k, v in pairs}


def _show(summary: dict, out: Path, rows: int, console: Console) -> None:
    table = Table(title=f"{summary['source']}: means per block ({rows} hops → {out})")
    table.add_column("block")
    table.add_column("hops", justify="right")
    for name in SHOWN:
        table.add_column(name, justify="right")
    for label, block in summary["blocks"].items():
        cells = [block["means"].get(name) for name in SHOWN]
        table.add_row(label, str(block["hops"]), *("—" if v is None else f"{v:.3g}" for v in cells))
    console.print(table)
    hrv = summary["hrv"]
    if hrv:
        raw, fixed = hrv["raw"], hrv["corrected"]
        keys = [k for k in raw if raw[k] is not None]
        console.print(
            f"HRV over {hrv['n_intervals']} intervals (artefacts {hrv['artefacts']}): "
            + ", ".join(f"{k[4:]} {raw[k]:.4g} ({fixed[k]:.4g} corrected)" for k in keys)
        )
    for note in summary["notes"]:
        console.print(f"[dim]{note}[/]")


def features_command(
    file: Annotated[Path, typer.Argument(help="Muse CSV, XDF, EDF, RR text/.hrm, or ECG CSV.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Table to write: .csv or .parquet.")
    ] = None,
    fs: Annotated[
        float | None, typer.Option("--fs", help="The file is an ECG CSV at this rate (Hz).")
    ] = None,
    column: Annotated[str | None, typer.Option(help="ECG column of the CSV.")] = None,
    channels: Annotated[
        str | None, typer.Option(help='Rename EEG channels: "Af7.=AF7,Af8.=AF8,...".')
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="xdf, csv or edf.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Compute the feature table of a recording (one row per hop) and summarise it."""
    from addiction_index.features.recording_table import recording_features

    console = Console(stderr=as_json)
    target = out if out is not None else Path(f"{file.stem}.features.csv")
    try:
        with console.status(f"computing features of {file.name}…"):
            table = recording_features(
                file, fmt=fmt, fs=fs, column=column, channel_map=_channel_map(channels)
            )
            table.write(target)
    except AddictionIndexError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    summary = table.summary() | {"out": str(target), "rows": int(table.times.size)}
    if as_json:
        text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False, default=str)
        sys.stdout.write(text + "\n")
        return
    _show(summary, target, int(table.times.size), console)
