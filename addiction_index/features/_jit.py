"""The one numba configuration every feature kernel is compiled with.

``cache=True`` keeps compiled kernels on disk between runs; ``nogil=True`` lets a worker thread
run them beside the asyncio loop; ``fastmath=False`` keeps IEEE semantics (no reassociation, no
contraction), which is what makes the live path (a batch of one window) and the batch path give
identical bits; ``error_model="numpy"`` makes division by zero give inf/NaN as in NumPy instead of
raising. Kernels take explicit float64/int64 arrays.
"""

from __future__ import annotations

import functools

import numba

__all__ = ["jit"]

jit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False, error_model="numpy")
