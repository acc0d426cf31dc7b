"""Shared timing helpers for the benchmarks: medians over repeated runs, ratio records.

Every benchmark module exposes ``run(quick: bool = False) -> list[Ratio]`` (``quick`` shrinks
inputs and repeats for a smoke run) and prints its own table when run as a script;
``benchmarks/run.py`` calls every ``run`` and writes ``benchmarks/results.json``.
Times are medians over ``repeat`` runs of ``number`` calls each (seconds per call), measured on
the same input for ours and the reference in the same process; no timing is asserted anywhere.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

__all__ = ["Ratio", "median_s"]


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
