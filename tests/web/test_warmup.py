"""The server's start-up warm-up: the live path is loaded and the heap frozen."""

from __future__ import annotations

import gc

from addiction_index.web._warmup import warm_up


def test_warm_up_loads_the_live_path_and_freezes_the_heap() -> None:
    try:
        took = warm_up()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # give the test process its collector back
    assert took > 0
    # the modules, functions and compiled kernels of the live path: far beyond a bare process
    assert frozen > 100_000
