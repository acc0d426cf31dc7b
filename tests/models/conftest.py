"""Fixtures of the model tests: the synthetic tables of :mod:`synthetic_tables`, a registry."""

from __future__ import annotations

import pandas as pd
import pytest
from synthetic_tables import make_tables


@pytest.fixture(scope="session")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 subjects × 2 sessions × 4 blocks."""
    return make_tables()


@pytest.fixture(scope="session")
def block_table(tables: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return tables[0]


@pytest.fixture(scope="session")
def session_table(tables: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return tables[1]


@pytest.fixture
def models_dir(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An empty registry folder; $ADDICTION_INDEX_DATA_DIR points to tmp_path."""
    monkeypatch.setenv("ADDICTION_INDEX_DATA_DIR", str(tmp_path))
    return tmp_path / "models"
