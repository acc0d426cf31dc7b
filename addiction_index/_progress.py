"""One progress bar for long batch work (simulation, extraction): rich, on stderr.

``with counting_bar(enabled, total, "features of study", unit="recordings") as advance:`` gives
a function that advances the bar by ``n`` (default 1); with ``enabled`` False it does nothing,
so ``--json`` output and tests stay clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["counting_bar"]


@contextmanager
def counting_bar(
    enabled: bool, total: int, title: str, unit: str = ""
) -> Iterator[Callable[..., None]]:
    """A bar of ``total`` items with done/total, elapsed time and time remaining."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(title, total=total)
        yield lambda n=1: bar.advance(task, n)
