"""Shared timing helpers for the benchmarks: medians over repeated runs, ratio records.

Every benchmark module exposes ``run(quick: bool = False) -> list[Ratio]`` (``quick`` shrinks
inputs and repeats for a smoke run) and prints its own table when run as a script;
``benchmarks/run.py`` calls every ``run`` and writes ``benchmarks/results.json``.
Times are medians over ``repeat`` runs of ``number`` calls each (seconds per call), measured on
the same input for ours and the reference in the same process; no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import timeit
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Ratio", "cli_main", "median_s", "print_ratios", "shared_data"]


def median_s(func: Callable[[], object], *, number: int = 1, repeat: int = 7) -> float:
    """Median over ``repeat`` runs of the mean time (s) of one call, each run ``number`` calls."""
    func()  # warm-up: numba compile or cache load, imports, first-touch of buffers
    runs = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(runs) / number


@dataclass
class Ratio:
    """One timed comparison: ours vs a reference library on the same input, same run."""

    name: str
    ours_s: float
    reference_s: float
    reference: str
    target: float | None = None
    unit: str = "call"
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """How many times faster ours is than the reference (reference_s / ours_s)."""
        return self.reference_s / self.ours_s

    @property
    def met(self) -> bool | None:
        """Whether the ratio reaches ``target`` (None when no target is set)."""
        return None if self.target is None else self.ratio >= self.target

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"ratio": self.ratio, "met": self.met}


def shared_data() -> Path:
    """The public recordings folder: ``$ADDICTION_INDEX_SHARED_DATA`` or ``../shared/data``."""
    env = os.environ.get("ADDICTION_INDEX_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def _fmt_s(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def print_ratios(results: list[Ratio], title: str) -> None:
    """A rich table of ratios (ours vs reference, target, met) and their notes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("comparison", "ours", "reference", "ratio", "target", "met"):
        table.add_column(col, justify="left" if col == "comparison" else "right")
    for r in results:
        table.add_row(
            r.name,
            _fmt_s(r.ours_s),
            f"{_fmt_s(r.reference_s)} ({r.reference})",
            f"{r.ratio:,.3g}×",
            "-" if r.target is None else f"{r.target:,.3g}×",
            "-" if r.met is None else ("yes" if r.met else "[red]NO[/]"),
        )
    console = Console()
    console.print(table)
    for r in results:
        if r.notes or r.extra:
            extra = ", ".join(f"{k} {v:,.4g}" for k, v in r.extra.items())
            console.print(f"[dim]{r.name}: {r.notes} {extra}[/dim]")


def cli_main(run: Callable[..., list[Ratio]], title: str) -> None:
    """``--quick`` and ``--json`` for a benchmark script's ``__main__``."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    results = run(quick=args.quick)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print_ratios(results, title)
