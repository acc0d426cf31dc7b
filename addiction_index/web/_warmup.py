"""Start-up warm-up of the server: load what a live session needs, then freeze the heap.

A live assessment first imports the session modules, parses the protocol, rule set and model
files and loads the compiled numba kernels. Done at start-up instead, the first session does
not stall the others. Then :func:`gc.freeze` moves every object that exists at that point (some
400,000: modules, functions, compiled kernels) out of the cyclic garbage collector's reach. On
this 2-core machine a full collection over them took 0.4-0.5 s, during which no WebSocket
message moves: with 200 viewers that pause was the 99th-percentile latency (measured with
``gc.callbacks`` under ``benchmarks/soak_live.py``). Frozen objects are still freed by reference
counting; only cycles among them would stay, and these are long-lived by nature.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings

import numpy as np

__all__ = ["warm_up"]

logger = logging.getLogger("addiction_index.web")


def warm_up() -> float:
    """Load the live path (protocol, rule set, models, numba kernels) and freeze the heap;
    returns the seconds it took."""
    started = time.perf_counter()
    from addiction_index.features.extract import HopFeatures
    from addiction_index.features.hrv import InsufficientDataWarning
    from addiction_index.sessions._assessment import ContentFolders, _load

    loaded = _load("demo", ContentFolders())
    features = HopFeatures(loaded.spec)
    n, channels = loaded.spec.eeg_window_samples, len(loaded.spec.channels)
    rng = np.random.default_rng(0)
    features.eeg(rng.normal(0.0, 10.0, (n, channels)))
    beats = np.cumsum(np.full(200, 0.8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsufficientDataWarning)
        features.heart(beats, np.full(200, 800.0), float(beats[-1]))
    gc.collect()
    gc.freeze()
    took = time.perf_counter() - started
    logger.info("warm-up: live path loaded in %.1f s; %d objects frozen", took,
                gc.get_freeze_count())  # fmt: skip
    return took
