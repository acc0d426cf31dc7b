"""Per-hop EEG features: numba kernels vs scipy.signal.welch + band integration, same input.

Times, on one seeded set of 1/f-like 4 × 512 windows (µV):

* numba ``HopFeatures.eeg`` on one window (all 57 EEG features: band powers, relative powers,
  regions, FAA, quality) and the bare ``eeg_bandpower`` kernel on one window;
* ``scipy.signal.welch`` + half-open band sums × df on one window (the per-hop reference);
* the batch kernel over all windows vs one vectorised ``scipy.signal.welch`` call over all windows.

The first call (numba compile, or loading the on-disk cache) is timed and reported apart; every
timing after it is the best of several ``timeit`` repeats. Run:
``python benchmarks/bench_eeg_features.py [--windows 1000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import timeit

import numba
import numpy as np
import scipy

from addiction_index.features import HopFeatures, WelchPlan, eeg_bandpower, load_feature_spec
from addiction_index.features.reference import scipy_bandpower

SEED = 12345


def pink_windows(rng: np.random.Generator, n_win: int, n_ch: int, n_samp: int) -> np.ndarray:
    shape = (n_win, n_ch, n_samp // 2 + 1)
    spectrum = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    f = np.arange(n_samp // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n=n_samp, axis=-1)
    return np.ascontiguousarray(10.0 * x / x.std())


def best_us(func, number: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` mean time of one call, µs."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def cold_compile_s() -> float:
    """Seconds for a fresh interpreter's first ``HopFeatures.eeg`` with an empty numba cache."""
    code = (
        "import time, numpy as np\n"
        "from addiction_index.features import HopFeatures\n"
        "hop = HopFeatures()\n"
        "t = time.perf_counter()\n"
        "hop.eeg(np.zeros((hop.spec.eeg_window_samples, len(hop.spec.channels))))\n"
        "print(time.perf_counter() - t)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
    return float(out.stdout.strip().splitlines()[-1])


def run(n_windows: int) -> dict:
    spec = load_feature_spec()
    plan = WelchPlan.from_spec(spec)
    n_ch, n_samp = len(spec.channels), spec.eeg_window_samples
    windows = pink_windows(np.random.default_rng(SEED), n_windows, n_ch, n_samp)
    one = np.ascontiguousarray(windows[:1])
    hop_window = np.ascontiguousarray(one[0].T)  # (n_samp, n_ch), as read from a RingBuffer

    start = time.perf_counter()
    hop = HopFeatures(spec)
    hop.eeg(hop_window)  # compiles or loads every kernel of the live path
    first_call_s = time.perf_counter() - start

    timings = {
        "numba_hop_features_us": best_us(lambda: hop.eeg(hop_window), 2000),
        "numba_bandpower_one_us": best_us(lambda: eeg_bandpower(one, plan), 2000),
        "scipy_welch_one_us": best_us(lambda: scipy_bandpower(one, spec), 300),
        "numba_batch_per_window_us": best_us(lambda: eeg_bandpower(windows, plan), 1, 3)
        / n_windows,
        "scipy_loop_per_window_us": best_us(
            lambda: [scipy_bandpower(windows[i : i + 1], spec) for i in range(n_windows)], 1, 3
        )
        / n_windows,
        "scipy_vectorised_per_window_us": best_us(lambda: scipy_bandpower(windows, spec), 1, 3)
        / n_windows,
    }
    ours, ours_total = eeg_bandpower(windows, plan)
    ref, ref_total = scipy_bandpower(windows, spec)
    rel_err = max(
        float(np.max(np.abs(ours - ref) / ref)),
        float(np.max(np.abs(ours_total - ref_total) / ref_total)),
    )
    t = timings
    return {
        "input": {"windows": n_windows, "channels": n_ch, "samples": n_samp, "seed": SEED},
        "first_call_compile_or_cache_load_s": first_call_s,
        "cold_compile_s": cold_compile_s(),
        "timings_us": t,
        "ratios_scipy_over_numba": {
            "per_hop_bandpower": t["scipy_welch_one_us"] / t["numba_bandpower_one_us"],
            "per_hop_all_features": t["scipy_welch_one_us"] / t["numba_hop_features_us"],
            "batch_vs_scipy_loop": t["scipy_loop_per_window_us"] / t["numba_batch_per_window_us"],
            "batch_vs_scipy_vectorised": t["scipy_vectorised_per_window_us"]
            / t["numba_batch_per_window_us"],
        },
        "max_relative_error_vs_scipy": rel_err,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
            "machine": platform.machine(),
        },
    }


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t, r = result["timings_us"], result["ratios_scipy_over_numba"]
    n = result["input"]["windows"]
    table = Table(title=f"EEG features per hop, 4 × 512 windows (batch: {n} windows)")
    table.add_column("what")
    table.add_column("numba µs/window", justify="right")
    table.add_column("scipy µs/window", justify="right")
    table.add_column("scipy / numba", justify="right")
    table.add_row(
        "one hop: band powers",
        f"{t['numba_bandpower_one_us']:.1f}",
        f"{t['scipy_welch_one_us']:.1f}",
        f"{r['per_hop_bandpower']:.1f}×",
    )
    table.add_row(
        "one hop: HopFeatures.eeg (57 features)",
        f"{t['numba_hop_features_us']:.1f}",
        f"{t['scipy_welch_one_us']:.1f}",
        f"{r['per_hop_all_features']:.1f}×",
    )
    table.add_row(
        "batch vs scipy per-window loop",
        f"{t['numba_batch_per_window_us']:.1f}",
        f"{t['scipy_loop_per_window_us']:.1f}",
        f"{r['batch_vs_scipy_loop']:.1f}×",
    )
    table.add_row(
        "batch vs scipy vectorised call",
        f"{t['numba_batch_per_window_us']:.1f}",
        f"{t['scipy_vectorised_per_window_us']:.1f}",
        f"{r['batch_vs_scipy_vectorised']:.2f}×",
    )
    console = Console()
    console.print(table)
    console.print(
        f"excluded above: numba compile from an empty cache {result['cold_compile_s']:.2f} s, "
        f"first call in this run {result['first_call_compile_or_cache_load_s']:.2f} s; "
        f"max relative error vs scipy: {result['max_relative_error_vs_scipy']:.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000, help="windows in the batch")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    result = run(args.windows)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
