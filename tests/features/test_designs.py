"""Filter designs kept on disk: computed once, then read back without SciPy; never wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from addiction_index.features import _designs


def test_a_design_is_computed_once_then_read_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_designs, "KERNEL_CACHE_DIR", str(tmp_path))
    calls = []

    def make() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"sos": np.arange(6.0).reshape(1, 6), "zi": np.ones((1, 2))}

    first = _designs.cached_design("butter test", make)
    second = _designs.cached_design("butter test", make)
    assert len(calls) == 1 and list(tmp_path.joinpath("designs").glob("*.npz"))
    for name in ("sos", "zi"):
        assert np.array_equal(first[name], second[name]) and second[name].flags.c_contiguous
    _designs.cached_design("another key", make)
    assert len(calls) == 2


def test_an_unwritable_or_broken_cache_only_costs_a_recomputation(
    tmp_path: Path, monkeypatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(_designs, "KERNEL_CACHE_DIR", str(blocked))
    calls = []

    def make() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"x": np.array([1.0, 2.0])}

    for _ in range(2):
        assert _designs.cached_design("k", make)["x"].tolist() == [1.0, 2.0]
    assert len(calls) == 2
    monkeypatch.setattr(_designs, "KERNEL_CACHE_DIR", str(tmp_path))
    _designs.cached_design("k", make)
    (stored,) = tmp_path.joinpath("designs").glob("*.npz")
    stored.write_bytes(b"garbage")  # a torn file: recomputed, then rewritten
    assert _designs.cached_design("k", make)["x"].tolist() == [1.0, 2.0] and len(calls) == 4
