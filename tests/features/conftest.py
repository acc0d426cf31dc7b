"""Shared fixtures for the feature tests: seeded 1/f-like EEG noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _pink(rng: np.random.Generator, shape: tuple[int, ...], scale_uv: float = 10.0) -> np.ndarray:
    """1/f-like noise along the last axis (amplitude spectrum ~ 1/sqrt(f)), float64 µV."""
    n = shape[-1]
    spectrum = rng.standard_normal((*shape[:-1], n // 2 + 1)) + 1j * rng.standard_normal(
        (*shape[:-1], n // 2 + 1)
    )
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n=n, axis=-1)
    x *= scale_uv / x.std()
    return np.ascontiguousarray(x + rng.normal(0.0, 50.0, size=(*shape[:-1], 1)))  # + DC offset


@pytest.fixture
def pink() -> Callable[..., np.ndarray]:
    return _pink
