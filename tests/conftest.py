"""Shared fixtures: real SQLite files in tmp_path, the shared public recordings folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file for one test."""
    return tmp_path / "sessions.sqlite"


@pytest.fixture(autouse=True)
def _no_user_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never write to the developer's real data folder."""
    monkeypatch.setenv("ADDICTION_INDEX_DB", str(tmp_path / "default.sqlite"))
