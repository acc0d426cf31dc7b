"""Shared fixtures for the feature tests: seeded 1/f-like EEG noise."""

from __future__ import annotations

import csv
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


@pytest.fixture
def load_rr(shared_file) -> Callable[[str], np.ndarray]:
    """``load_rr("rest" | "polar")``: RR intervals (ms) of the rest text file or of the Polar H10
    strap's own RR column (non-empty rows in order), skipping when the recording is absent."""

    def load(which: str) -> np.ndarray:
        if which == "rest":
            path = shared_file("rr_intervals_hrv_sampledata", "rest_rri.txt")
            return np.loadtxt(path, dtype=float)
        path = shared_file("polar_h10_ecg_detectpvc", "polar_h10_ecg_130hz.csv")
        with path.open(newline="") as f:
            rr = [float(row["rr_ms"]) for row in csv.DictReader(f) if row["rr_ms"]]
        return np.asarray(rr, dtype=np.float64)

    return load
