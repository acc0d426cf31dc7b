"""Consistent copies of the database, and putting them back, per backend.

* SQLite: the online backup API (:meth:`sqlite3.Connection.backup`, all pages in one step, so
  one read transaction: a consistent snapshot while sessions keep writing in WAL mode).
* PostgreSQL: ``pg_dump -Fc`` inside an exported snapshot (``pg_export_snapshot``), so the row
  counts written to the manifest are those of the dump itself; ``pg_restore`` to put it back.
  The tools come from ``$PATH`` or Debian's ``/usr/lib/postgresql/<version>/bin``; the password
  goes to them through ``PGPASSWORD``, never on the command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from addiction_index.errors import StorageError
from addiction_index.store._database import mask_url, storage_errors

__all__ = [
    "database_kind",
    "dump_database",
    "is_empty",
    "restore_database",
    "scratch_check",
    "table_counts",
]

_SKIP_TABLES = {"sqlite_sequence", "sqlite_stat1"}


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql`` (:class:`StorageError` for anything else)."""
    kind = make_url(url).get_backend_name()
    if kind not in ("sqlite", "postgresql"):
        raise StorageError(f"backups support SQLite and PostgreSQL, not {kind} ({mask_url(url)})")
    return kind


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise StorageError(f"{mask_url(url)}: an in-memory database cannot be backed up")
    return Path(database)


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the connected database (every table, sorted by name)."""
    names = sorted(set(inspect(connection).get_table_names()) - _SKIP_TABLES)
    return {
        name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
        for name in names
    }


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _describe(connection: Connection) -> dict[str, Any]:
    counts = table_counts(connection)
    running = 0
    if "sessions" in counts:
        running = connection.execute(
            text("SELECT count(*) FROM sessions WHERE status = 'running'")
        ).scalar()
    return {
        "revision": _revision(connection),
        "tables": counts,
        "sessions": counts.get("sessions", 0),
        "residents": counts.get("subjects", 0),
        "running_sessions": int(running or 0),
    }


def pg_tool(name: str) -> str:
    """The path of ``pg_dump``/``pg_restore``: on ``$PATH``, else Debian's newest version."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise StorageError(f"{name} not found: install PostgreSQL's client tools")
    return candidates[-1]


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[var] = str(value)
    if "sslmode" in url.query:
        env["PGSSLMODE"] = str(url.query["sslmode"])
    return env


def _run(args: list[str], url: URL, action: str) -> None:
    result = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        where = url.render_as_string(hide_password=True)
        raise StorageError(f"{action} failed on {where}: {reason}")


def dump_database(url: str, out: Path) -> dict[str, Any]:
    """Write a consistent copy of the database at ``url`` to ``out``; describe that copy.

    The description (revision, rows per table, sessions, residents, running sessions) is of
    exactly the data copied.
    """
    kind = database_kind(url)
    if kind == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.is_file():
            raise StorageError(f"{source_path}: no such database")
        with storage_errors(url, "copying the database"):
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            target = sqlite3.connect(out)
            try:
                source.backup(target)  # pages=-1: one step, one consistent read transaction
            except sqlite3.Error as exc:
                raise StorageError(f"copying {source_path} failed: {exc}") from exc
            finally:
                target.close()
                source.close()
        return _describe_sqlite(out)
    parsed = make_url(url)
    engine = create_engine(parsed)
    try:
        with storage_errors(url, "taking a database snapshot"), engine.connect() as connection:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            described = _describe(connection)
            _run(
                [pg_tool("pg_dump"), "-Fc", f"--snapshot={snapshot}", f"--file={out}"],
                parsed,
                "pg_dump",
            )
            connection.rollback()
    finally:
        engine.dispose()
    return described


def _describe_sqlite(path: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return _describe(connection)
    finally:
        engine.dispose()


@contextmanager
def _scratch_postgres(url: str) -> Iterator[URL]:
    """A new database ``<name>_verify_<random>`` on ``url``'s server, dropped afterwards."""
    parsed = make_url(url)
    name = f"{(parsed.database or 'db')[:30]}_verify_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with storage_errors(url, "creating a scratch database"), admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield parsed.set(database=name)
        finally:
            with storage_errors(url, "dropping the scratch database"), admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def scratch_check(kind: str, dump: Path, url: str | None) -> dict[str, Any]:
    """Restore ``dump`` into a scratch place and describe it (plus ``integrity`` for SQLite).

    SQLite: ``dump`` itself is the scratch copy (already a temporary file): ``PRAGMA
    integrity_check``. PostgreSQL: ``pg_restore`` into a scratch database on ``url``'s server.
    """
    if kind == "sqlite":
        connection = sqlite3.connect(dump)
        try:
            integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            integrity = [str(exc)]
        finally:
            connection.close()
        described = _describe_sqlite(dump) if integrity == ["ok"] else {}
        return described | {"integrity": "ok" if integrity == ["ok"] else "; ".join(integrity)}
    if url is None or database_kind(url) != "postgresql":
        raise StorageError("verifying a PostgreSQL backup needs --db naming a PostgreSQL server")
    with _scratch_postgres(url) as scratch:
        _run(
            [
                pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={scratch.database}",
                str(dump),
            ],
            scratch,
            "pg_restore into the scratch database",
        )
        engine = create_engine(scratch)
        try:
            with engine.connect() as connection:
                return _describe(connection) | {"integrity": "ok", "scratch": scratch.database}
        finally:
            engine.dispose()


def is_empty(url: str) -> bool:
    """True when the database at ``url`` does not exist or has no rows in any table."""
    if database_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        return True
    engine = create_engine(url)
    try:
        with storage_errors(url, "inspecting the restore target"), engine.connect() as c:
            counts = table_counts(c)
    finally:
        engine.dispose()
    return not any(n for name, n in counts.items() if name != "alembic_version")


def restore_database(kind: str, dump: Path, url: str) -> None:
    """Replace the database at ``url`` with ``dump`` (callers check emptiness and ``--force``).

    SQLite: the file (and its WAL) is replaced atomically. PostgreSQL: its tables are dropped,
    then ``pg_restore`` runs in one transaction.
    """
    if database_kind(url) != kind:
        raise StorageError(f"a {kind} backup cannot be restored into {mask_url(url)}")
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
        shutil.copyfile(dump, tmp)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
        return
    parsed = make_url(url)
    engine = create_engine(parsed)
    try:
        with storage_errors(url, "emptying the restore target"), engine.begin() as connection:
            for name in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    finally:
        engine.dispose()
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={parsed.database}",
            str(dump),
        ],
        parsed,
        "pg_restore",
    )
