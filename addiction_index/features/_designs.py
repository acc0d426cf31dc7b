"""Filter designs (SciPy) kept on disk beside the compiled kernels, so a second process starts
without importing ``scipy.signal`` (about 0.9 s here).

:func:`cached_design` returns the arrays that ``make`` computes for ``key``: from
``<kernel cache>/designs/<hash of key>.npz`` when present, else by calling ``make`` (which
imports SciPy itself) and saving them. The folder is the kernel cache of
:mod:`._jit`, named after a hash of this package's sources, so a change of any design code
starts afresh. Reading or writing the file may fail (a read-only cache): the design is then
computed every time, never wrong.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from addiction_index.features._jit import KERNEL_CACHE_DIR

__all__ = ["cached_design"]


def cached_design(key: str, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The named float64 arrays of the design ``key`` (see the module docstring)."""
    path = Path(KERNEL_CACHE_DIR) / "designs" / f"{hashlib.sha1(key.encode()).hexdigest()}.npz"
    try:
        with np.load(path) as stored:
            return {name: np.ascontiguousarray(stored[name]) for name in stored.files}
    except (OSError, ValueError, KeyError):
        pass
    arrays = {name: np.ascontiguousarray(value) for name, value in make().items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **arrays)
        partial.replace(path)
    except OSError:
        pass
    return arrays
