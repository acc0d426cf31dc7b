"""Shared fixtures: real SQLite files in tmp_path, the shared public recordings folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    """The folder of small public recordings (``../shared/data`` next to the checkout).

    ``$ADDICTION_INDEX_SHARED_DATA`` wins; a clone of a local checkout (as CI makes) also looks
    next to the repository it was cloned from.
    """
    if os.environ.get("ADDICTION_INDEX_SHARED_DATA"):
        return Path(os.environ["ADDICTION_INDEX_SHARED_DATA"])
    candidates = [REPO.parent / "shared" / "data"]
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except OSError:
        origin = ""
    if origin and "://" not in origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED_DATA = _shared_data()


@pytest.fixture
def shared_file():
    """``shared_file(folder, name)``: a shared public recording, or skip saying which is absent."""

    def find(*parts: str) -> Path:
        path = SHARED_DATA.joinpath(*parts)
        if not path.is_file():
            pytest.skip(f"public recording {path} is absent (set ADDICTION_INDEX_SHARED_DATA)")
        return path

    return find


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file for one test."""
    return tmp_path / "sessions.sqlite"


@pytest.fixture(autouse=True)
def _no_user_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never write to the developer's real data folder."""
    monkeypatch.setenv("ADDICTION_INDEX_DB", str(tmp_path / "default.sqlite"))
