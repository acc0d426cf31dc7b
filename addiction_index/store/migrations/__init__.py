"""Schema migrations of the session store (Alembic), shipped inside the package.

:func:`upgrade_database` brings a database to the newest revision and is what
:func:`~addiction_index.store.open_store` runs on every open. It is quick when the database is
already current (one query), and otherwise migrates under a lock so that several processes
opening the same new database at once do not all create its tables: SQLite's write lock
(``BEGIN IMMEDIATE``), a transaction-level advisory lock on PostgreSQL. All the revisions of a
run commit together (PostgreSQL and SQLite both have transactional DDL), or none does.

A database made before migrations existed (by ``Base.metadata.create_all``: tables but no
``alembic_version``) is adopted: its tables are checked against the initial revision, the tables
an older version did not have yet are created, and it is stamped at :data:`INITIAL_REVISION`;
the later revisions then run as for any database. A later revision that creates a table keeps
one that ``create_all`` already made with matching columns (``0002_login_throttle``), so a
database made by ``create_all`` from any version's models is adopted.

The Alembic configuration is built in code (:func:`alembic_config`); no ``alembic.ini`` is
needed. For a new revision, change the models, then autogenerate against a database at the
current head and number it after the last one::

    python -c "from alembic import command; from addiction_index.store import open_store; \\
    from addiction_index.store.migrations import alembic_config; \\
    open_store('/tmp/head.sqlite').close(); \\
    command.revision(alembic_config(url='sqlite:////tmp/head.sqlite'), \\
    message='what changed', autogenerate=True, rev_id='0002')"

then read the file it writes in ``versions/`` and make it explicit and right on both SQLite
(batch mode: ``op.batch_alter_table``) and PostgreSQL. ``tests/store/test_migrations.py`` fails
while the models and the migrations differ.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import pkgutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from addiction_index.errors import StorageError

__all__ = [
    "INITIAL_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "store_metadata",
    "upgrade_database",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent
INITIAL_REVISION = "0001"
"""The revision a database made by ``create_all`` (before migrations) is stamped at."""

#: Alembic keeps its ``op`` and ``context`` proxies in module globals: one migration at a time
#: per process (threads opening different databases at once would otherwise mix them up).
_ALEMBIC_LOCK = threading.RLock()

#: Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number).
PG_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"addiction-index schema migrations").digest()[:8], "big", signed=True
)


def store_metadata() -> MetaData:
    """``Base.metadata`` with every table of the store registered.

    Every ``_*schema`` module of :mod:`addiction_index.store` is imported (``_schema``,
    ``_programme_schema``, ``_exercise_schema``, ``_accounts_schema``...), so a new schema
    module is part of the comparison with the migrations without being listed here.
    """
    import addiction_index.store as store_package
    from addiction_index.store._schema import Base

    for module in pkgutil.iter_modules(store_package.__path__):
        if module.name.startswith("_") and module.name.endswith("_schema"):
            importlib.import_module(f"{store_package.__name__}.{module.name}")
    return Base.metadata


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (no ``alembic.ini`` needed).

    ``connection`` (migrated as is, inside its transaction) wins over ``url``; with neither,
    ``env.py`` uses :func:`~addiction_index.store.resolve_database_url`.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision shipped with this version (the one :func:`upgrade_database` reaches)."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise StorageError(f"no schema revisions found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision ``connection``'s database is at, or None (empty, or made by create_all)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise StorageError(f"the database has several schema revisions at once: {heads}")
    return heads[0] if heads else None


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _initial_module() -> ModuleType:
    script = _scripts().get_revision(INITIAL_REVISION)
    assert script is not None
    return script.module


@functools.cache
def _initial_columns() -> dict[str, frozenset[str]]:
    """Column names per table of the initial revision, built in a scratch in-memory database."""
    engine = create_engine("sqlite://")
    try:
        with _ALEMBIC_LOCK, engine.begin() as connection:
            with Operations.context(MigrationContext.configure(connection)):
                _initial_module().upgrade()
            inspector = inspect(connection)
            return {
                name: frozenset(c["name"] for c in inspector.get_columns(name))
                for name in inspector.get_table_names()
            }
    finally:
        engine.dispose()


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the database's migration lock for the current transaction (released on commit).

    Taken after :data:`_ALEMBIC_LOCK`, always in that order, so threads cannot deadlock.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, until commit
    elif dialect == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
    yield


def _adopt_created_database(connection: Connection, where: str) -> bool:
    """Check, complete and stamp a database made by ``create_all``; False for an empty one."""
    initial = _initial_columns()
    present = sorted(set(inspect(connection).get_table_names()) & set(initial))
    if not present:
        return False
    inspector = inspect(connection)
    problems = []
    for table in present:
        actual = {c["name"] for c in inspector.get_columns(table)}
        missing, extra = sorted(initial[table] - actual), sorted(actual - initial[table])
        if missing:
            problems.append(f"table {table} lacks column(s) {', '.join(missing)}")
        if extra:
            problems.append(f"table {table} has unknown column(s) {', '.join(extra)}")
    if problems:
        raise StorageError(
            f"the session store {where} has tables but no schema revision, and they do not "
            f"match revision {INITIAL_REVISION} ({'; '.join(problems)}), so it cannot be "
            "migrated automatically; restore it from a backup or migrate it by hand"
        )
    missing_tables = sorted(set(initial) - set(present))
    context = MigrationContext.configure(
        connection, opts={"render_as_batch": connection.dialect.name == "sqlite"}
    )
    with Operations.context(context):
        _initial_module().upgrade(skip=frozenset(present))
    command.stamp(alembic_config(connection), INITIAL_REVISION)
    logger.warning(
        "adopted %s, made before schema migrations: stamped at revision %s%s",
        where,
        INITIAL_REVISION,
        f" after creating {', '.join(missing_tables)}" if missing_tables else "",
    )
    return True


def upgrade_database(engine: Engine, where: str | None = None) -> str:
    """Bring ``engine``'s database to the newest revision; return that revision.

    ``where`` names the database in messages (default: its URL, password masked). Raises
    :class:`StorageError` saying which revision and why when the database cannot be migrated:
    a revision this version does not know (a newer version migrated it), tables that match no
    revision, or a failing migration (rolled back whole).
    """
    where = where or engine.url.render_as_string(hide_password=True)
    head = head_revision()
    with engine.connect() as connection:
        if current_revision(connection) == head:  # the usual case: nothing to do, no lock
            connection.rollback()
            return head
        connection.rollback()
        with _ALEMBIC_LOCK, _migration_lock(connection):
            current = current_revision(connection)  # again: another process may have migrated
            if current == head:
                connection.rollback()
                return head
            if current is not None and not _known(current):
                raise StorageError(
                    f"the session store {where} is at schema revision {current!r}, which this "
                    f"version of addiction-index does not know (its newest is {head!r}): was it "
                    "migrated by a newer version? Upgrade addiction-index to open it"
                )
            adopted = False
            try:
                adopted = current is None and _adopt_created_database(connection, where)
                command.upgrade(alembic_config(connection), "head")
                connection.commit()
            except (SQLAlchemyError, CommandError, StorageError) as exc:
                connection.rollback()
                start = f"revision {current!r}" if current else "no revision"
                start += " (tables made by create_all)" if adopted else ""
                raise StorageError(
                    f"migrating the session store {where} from {start} to revision {head!r} "
                    f"failed (nothing was changed): {_reason(exc)}"
                ) from exc
    logger.info("session store %s migrated from %s to revision %s", where, current or "-", head)
    return head


def _reason(exc: BaseException) -> str:
    orig: Any = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
