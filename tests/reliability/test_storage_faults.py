"""The store on a full disk and on a read-only file: the session stops with a clear error naming
the database (``database or disk is full``, ``readonly``/``unable to open``), and what was
written before is intact. A real tmpfs is used where this process may mount one (root, as in
CI); elsewhere SQLite's ``max_page_count`` plays the full disk and a ``mode=ro`` URI the
read-only file."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from addiction_index.errors import StorageError
from addiction_index.sessions import run_simulated_assessment
from addiction_index.store import _database, open_store

_MOUNT = shutil.which("mount")


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or _MOUNT is None:
        return False
    answer = subprocess.run(
        [_MOUNT, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return answer.returncode == 0


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A folder on a 4 MB tmpfs (True) or a plain folder (False: simulate the limits)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = _mount_tmpfs(folder, "4m")
    try:
        yield folder, mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of ``folder`` but ``leave`` bytes."""
    stat = os.statvfs(folder)
    filler = folder / "filler.bin"
    with open(filler, "wb") as out:
        out.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def _stored(db: Path) -> tuple[str, list[float]]:
    with open_store(db) as store, store.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM sessions")).scalar_one()
        times = conn.execute(
            text("SELECT t FROM scores WHERE kind = 'craving' ORDER BY t")
        ).scalars().all()  # fmt: skip
    return status, list(times)


@pytest.mark.slow
def test_a_full_disk_stops_the_session_with_a_clear_error(small_fs, monkeypatch) -> None:
    folder, mounted = small_fs
    db = folder / "centre.sqlite"
    with open_store(db) as store, store.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
    if mounted:
        filler = _fill(folder, leave=160_000)
    else:  # the database may grow by 40 pages (160 kB), then SQLite reports it full
        pragmas = (*_database._SQLITE_PRAGMAS, f"max_page_count={pages + 40}")
        monkeypatch.setattr(_database, "_SQLITE_PRAGMAS", pragmas)
    with pytest.raises(StorageError) as caught:
        # at 20 x real time each one-second flush is small, so several land before the disk
        # is full (as in a real session, whose flushes hold one second of data each)
        asyncio.run(
            run_simulated_assessment(subject="R-0001", craving=50.0, db=str(db), speed=20.0)
        )
    message = str(caught.value)
    assert str(db) in message and "database or disk is full" in message
    if mounted:
        filler.unlink()
    monkeypatch.undo()
    # what was written before is intact: a regular run of hops from the start, then nothing
    status, times = _stored(db)
    assert status in ("running", "interrupted") and len(times) > 10
    steps = {round(b - a, 6) for a, b in itertools.pairwise(times)}
    assert steps == {0.25}


@pytest.mark.slow
def test_a_read_only_database_refuses_to_start_a_session(small_fs) -> None:
    folder, mounted = small_fs
    db = folder / "centre.sqlite"
    asyncio.run(run_simulated_assessment(subject="R-0001", craving=50.0, db=str(db)))
    before = _stored(db)
    if mounted:  # the filesystem goes read-only (as after disk errors)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, timeout=30)
        url = str(db)
    else:  # root ignores file modes: open the file read-only instead
        url = f"sqlite:///file:{db}?mode=ro&uri=true"
    with pytest.raises(StorageError) as caught:
        asyncio.run(run_simulated_assessment(subject="R-0002", craving=50.0, db=url))
    message = str(caught.value)
    assert str(db) in message
    assert any(
        reason in message
        for reason in ("readonly database", "unable to open database", "read-only")
    ), message
    if mounted:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True, timeout=30)
    assert _stored(db) == before  # nothing changed, nothing half-written
