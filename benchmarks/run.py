"""Run every benchmark and write ``benchmarks/results.json``, so runs can be compared over time.

``python benchmarks/run.py [--quick] [--out FILE]``. Each benchmark module exposes
``run(quick) -> list[Ratio]`` (see ``_timing.py``); this script calls them in turn with a rich
progress bar, prints one table, and writes every ratio and median with the machine's
description (CPU, cores, load, Python and library versions, git commit). Speed is measured here,
never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_ratios

HERE = Path(__file__).resolve().parent

MODULES = (
    "bench_eeg_features",
    "bench_extract",
    "bench_hrv",
    "bench_rpeaks",
    "bench_residents",
    "bench_startup",
)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    import numba
    import numpy
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(ln.split(":", 1)[1].strip() for ln in info.splitlines() if "model name" in ln)
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=False, timeout=5,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "commit": commit,
    }


def main() -> None:
    from rich.progress import Progress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    results, started = {}, dt.datetime.now(dt.UTC)
    with Progress() as progress:
        task = progress.add_task("benchmarks", total=len(MODULES))
        for name in MODULES:
            progress.update(task, description=name)
            results[name] = importlib.import_module(name).run(quick=args.quick)
            progress.advance(task)
    everything = [r for ratios in results.values() for r in ratios]
    print_ratios(everything, "All benchmarks (ratio = reference time / ours)")
    document = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {name: [r.as_dict() for r in ratios] for name, ratios in results.items()},
    }
    args.out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
