"""``GET /health``: what a monitor (or a person) needs to know the gateway is well, without
signing in and without personal data.

Reported: the database (answers, round-trip latency in ms, schema revision against the newest
shipped), free space of the data folder and of the database's folder (warning under 10 %, error
under 2 %), the live sessions (how many assessments and exercise sessions run, each device's name
and state: never a resident's code), the last failed write to the store (a full disk, a
read-only file) in the last :data:`WRITE_ERROR_WINDOW_S`, the last backup (when the backup
module provides it), the version and the uptime. The overall status is the worst of the parts:
``ok`` and ``warning`` answer 200, ``error`` answers 503.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from addiction_index import __version__
from addiction_index.web._models import (
    BackupHealth,
    DatabaseHealth,
    DeviceHealth,
    DiskHealth,
    Health,
    LiveHealth,
    WriteErrorHealth,
)

__all__ = ["DISK_ERROR_PCT", "DISK_WARNING_PCT", "WRITE_ERROR_WINDOW_S", "health_report"]

DISK_WARNING_PCT = 10.0
DISK_ERROR_PCT = 2.0
WRITE_ERROR_WINDOW_S = 600.0
_RANK = {"ok": 0, "warning": 1, "error": 2}


def _worst(*states: str) -> str:
    return max(states, key=_RANK.__getitem__, default="ok")


def _database(engine: Any) -> DatabaseHealth:
    from addiction_index.store.migrations import current_revision, head_revision

    head = head_revision()
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            latency = 1000.0 * (time.perf_counter() - started)
            revision = current_revision(conn)
    except Exception as exc:  # any failure means "does not answer"; the type says which
        return DatabaseHealth(answers=False, head=head, status="error", error=type(exc).__name__)
    up_to_date = revision == head
    return DatabaseHealth(
        answers=True, latency_ms=round(latency, 2), revision=revision, head=head,
        up_to_date=up_to_date, status="ok" if up_to_date else "warning",
    )  # fmt: skip


def _disk(label: str, folder: Path) -> DiskHealth:
    probe = folder
    while not probe.exists() and probe != probe.parent:  # not made yet: its nearest parent
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return DiskHealth(folder=label, status="error", error=exc.strerror or type(exc).__name__)
    pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    state = "error" if pct < DISK_ERROR_PCT else "warning" if pct < DISK_WARNING_PCT else "ok"
    return DiskHealth(
        folder=label, free_bytes=usage.free, total_bytes=usage.total, free_pct=round(pct, 2),
        status=state,
    )  # fmt: skip


def _database_folder(engine: Any) -> Path | None:
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = url.database
    if database.startswith("file:"):  # a URI filename (?mode=ro&uri=true)
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database).parent


def _live(hub: Any) -> LiveHealth:
    if hub is None:
        return LiveHealth()
    running = [a for a in hub.assessments.values() if a.state in ("starting", "running")]
    exercises = [e for e in hub.exercises.values() if e.state == "running"]
    devices = [
        DeviceHealth(name=str(d["name"]), state=str(d["state"])) for a in running for d in a.devices
    ]
    return LiveHealth(
        assessments_running=len(running), exercises_running=len(exercises), devices=devices
    )


def _backup(store: Any) -> BackupHealth:
    try:
        from addiction_index.ops import _backup as backup
    except ImportError:
        backup = None
    last_backup = getattr(backup, "last_backup", None)
    if last_backup is None:
        return BackupHealth(note="backups are not set up by this version")
    try:
        last = last_backup(store.engine.url.render_as_string(hide_password=False))
    except Exception as exc:  # the health page must answer whatever the backup module does
        return BackupHealth(note=f"the last backup could not be read ({type(exc).__name__})")
    if last is None:
        return BackupHealth(note="no backup made yet", status="warning")
    return BackupHealth(last=last if isinstance(last, dict) else {"value": str(last)})


def _write_error(hub: Any, store_url: str) -> WriteErrorHealth | None:
    error = getattr(hub, "last_write_error", None)
    if error is None:
        return None
    at, message = error
    age = time.time() - at
    if age > WRITE_ERROR_WINDOW_S:
        return None
    # no sign-in here: the database is named as "the database", not by its path or URL
    return WriteErrorHealth(
        age_s=round(age, 1), error=message.replace(store_url, "the database"), status="error"
    )


def health_report(state: Any, data_folder: Path) -> tuple[Health, int]:
    """The health of the app whose ``app.state`` is ``state``, and the HTTP status to send."""
    store = state.store
    hub = getattr(state, "hub", None)
    database = _database(store.engine)
    disks = [_disk("data", data_folder)]
    db_folder = _database_folder(store.engine)
    if db_folder is not None:
        disks.append(_disk("database", db_folder))
    backup = _backup(store)
    write_error = _write_error(hub, store.url)
    status = _worst(
        database.status,
        *(d.status for d in disks),
        backup.status,
        write_error.status if write_error else "ok",
    )
    health = Health(
        status=status,
        version=__version__,
        uptime_s=round(time.monotonic() - getattr(state, "started", time.monotonic()), 1),
        database=database,
        disks=disks,
        live=_live(hub),
        last_write_error=write_error,
        backup=backup,
    )
    return health, 503 if status == "error" else 200
