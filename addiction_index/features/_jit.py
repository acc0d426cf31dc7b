"""The one numba configuration every feature kernel is compiled with, and where it is cached.

``cache=True`` keeps compiled kernels on disk between runs; ``nogil=True`` lets a worker thread
run them beside the asyncio loop; ``fastmath=False`` keeps IEEE semantics (no reassociation, no
contraction), which is what makes the live path (a batch of one window) and the batch path give
identical bits; ``error_model="numpy"`` makes division by zero give inf/NaN as in NumPy instead of
raising. Kernels take explicit float64/int64 arrays.

numba checks only the defining file when it reuses a cached kernel, so a kernel that calls a
kernel of another module would keep a stale copy of it after an upgrade. The cache therefore
lives in a folder named after a hash of every source file of this package
(``<user cache>/addiction-index/numba/<hash>``): any change to any kernel starts a fresh cache.
``$NUMBA_CACHE_DIR`` still wins when set (benchmarks use it to time cold and warm starts).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numba
import platformdirs

__all__ = ["KERNEL_CACHE_DIR", "jit"]


def _kernel_cache_dir() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(numba.__version__.encode())
    base = Path(platformdirs.user_cache_dir("addiction-index")) / "numba"
    return str(base / digest.hexdigest()[:16])


KERNEL_CACHE_DIR = os.environ.get("NUMBA_CACHE_DIR") or _kernel_cache_dir()
if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = KERNEL_CACHE_DIR

jit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False, error_model="numpy")
