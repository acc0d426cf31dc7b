"""Where the session store lives, how to connect to it, and how its errors are reported.

The database is chosen, in order, by the ``db`` argument, the ``ADDICTION_INDEX_DB`` environment
variable, or a SQLite file ``addiction-index.sqlite`` in the user data folder
(``platformdirs.user_data_dir("addiction-index")``). A value containing ``://`` is a SQLAlchemy
URL (``sqlite:///...``, ``postgresql+psycopg://...``); anything else is a file path.

SQLite connections run in WAL mode with ``synchronous=NORMAL``: every commit survives a crash or a
killed process (a power cut may lose the last commits, never corrupt the file), and readers in
other processes see committed rows while a session is still being written.

Values are adapted here too: datetimes are stored as UTC and come back timezone-aware, and JSON
columns receive plain JSON types only (NaN and infinities become NULL on every backend) and no
key that names a personal detail (``first_name``, ``phone``...): subjects are pseudonymous.

Every time the store writes (``started_at``, ``created_at``...) comes from :func:`utc_now`, the
store clock. :func:`simulated_now` sets it, for the whole process, to a simulated time: that is
how ``addiction-index demo-centre`` dates six months of simulated sessions in the past. Nothing
else sets it; it is never used in the web server or a real session.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import DateTime, Dialect, TypeDecorator, create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from addiction_index.errors import InputError, StorageError

if TYPE_CHECKING:
    from addiction_index.store._repository import SessionStore

__all__ = [
    "APP_NAME",
    "DB_ENV_VAR",
    "DEFAULT_DB_FILENAME",
    "SessionNotFoundError",
    "UTCDateTime",
    "create_store_engine",
    "finite_or_none",
    "mask_url",
    "open_store",
    "resolve_database_url",
    "simulated_now",
    "storage_errors",
    "to_json",
    "utc_now",
]

logger = logging.getLogger(__name__)

APP_NAME = "addiction-index"
DB_ENV_VAR = "ADDICTION_INDEX_DB"
DEFAULT_DB_FILENAME = "addiction-index.sqlite"

_SQLITE_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL")
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")
_PERSONAL_KEY = re.compile(
    r"(full|first|last|given|family|middle)_?name|surname|birth_?date|date_of_birth|dob"
    r"|(mobile_|home_)?phone(_number)?|e_?mail|(home_|street_)address|id_(number|card)"
    r"|national_id|passport(_number)?"
)


class SessionNotFoundError(StorageError):
    """No session with this id exists in the store (``session_id`` holds the id)."""

    def __init__(self, session_id: int, url: str) -> None:
        self.session_id = session_id
        super().__init__(f"session {session_id} not found in {url}")


def resolve_database_url(db: str | os.PathLike[str] | None = None) -> str:
    """Return the SQLAlchemy URL of the session store.

    ``db`` (or ``$ADDICTION_INDEX_DB`` when ``db`` is None) is returned unchanged if it contains
    ``://``; otherwise it is a file path: ``~`` is expanded, the path made absolute, its folder
    created, and ``sqlite:///<absolute path>`` returned. With neither, the default SQLite file in
    the user data folder is used. Raises :class:`StorageError` naming the path when its folder
    cannot be created, and :class:`InputError` for an empty value or an existing folder.
    """
    if db is not None:
        raw, source = os.fspath(db), "db"
    else:
        raw, source = os.environ.get(DB_ENV_VAR) or None, DB_ENV_VAR
    if raw is not None and "://" in raw:
        return raw
    if raw is None:
        path = Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_DB_FILENAME
    elif not raw.strip():
        raise InputError(source, raw, "a database URL or a file path")
    else:
        path = Path(raw).expanduser()
    path = path.absolute()
    if path.is_dir():
        raise InputError(source, str(path), "a database file path, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(
            f"cannot create the folder of the session database {path}: {reason}"
        ) from exc
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def mask_url(url: str | URL) -> str:
    """``url`` as text with its password replaced by ``***`` (safe for logs and messages)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
        return parsed.render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):  # not parseable: mask what looks like a password
        return _PASSWORD_IN_URL.sub(r"\1***@", str(url))


def _describe(exc: BaseException) -> str:
    """A one-line reason for ``exc``, without the SQL statement or its parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextmanager
def storage_errors(url: str | URL, action: str) -> Iterator[None]:
    """Translate SQLAlchemy errors raised inside the block into :class:`StorageError`.

    The message names ``action`` and the database URL with its password masked.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(f"{action} failed on {mask_url(url)}: {_describe(exc)}") from exc


def open_store(db: str | os.PathLike[str] | None = None) -> SessionStore:
    """Open the session store, creating or migrating its schema; see :func:`resolve_database_url`.

    The schema is brought to the newest Alembic revision shipped with the package (see
    :mod:`addiction_index.store.migrations`): a new database gets every table, an older one its
    missing revisions, one made before migrations existed is checked and stamped. Raises
    :class:`StorageError` naming the database (password masked) when it cannot be opened or
    migrated (which revision and why).
    """
    from addiction_index.store._repository import SessionStore  # it imports this module
    from addiction_index.store.migrations import upgrade_database

    url = resolve_database_url(db)
    engine = create_store_engine(url)
    try:
        with storage_errors(url, "opening the session store"):
            upgrade_database(engine, mask_url(url))
    except StorageError:
        engine.dispose()
        raise
    _reapply_erasures(engine, url)
    return SessionStore(engine)


def _reapply_erasures(engine: Engine, url: str) -> None:
    """Erase again the residents of the erasure ledger (after a restore, even one made by hand).

    One file check when no resident was ever erased; see :mod:`addiction_index.ops._erase`.
    """
    from addiction_index.resources import data_root

    if not (data_root() / "ops" / "erasures.json").is_file():  # OpsPaths.erasures, unimported
        return  # (importing the ops package costs ~80 ms: not on every open)
    from addiction_index.ops._erase import reapply_to_engine  # ops imports the store

    try:
        with storage_errors(url, "re-applying erasures"):
            reapply_to_engine(engine)
    except StorageError:
        engine.dispose()
        raise


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Run on every new SQLite connection: WAL journal, enforced foreign keys, NORMAL sync."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def create_store_engine(url: str) -> Engine:
    """Create the SQLAlchemy 2 engine for ``url`` (SQLite gets the WAL pragmas on connect).

    SQLAlchemy 2 engines always use the 2.0 ("future") API, so no ``future=`` flag is needed.
    Raises :class:`StorageError` naming the masked URL when the URL is invalid or its database
    driver is not installed.
    """
    masked = mask_url(url)
    try:
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        engine = create_engine(parsed, pool_pre_ping=not is_sqlite)
    except (SQLAlchemyError, ValueError) as exc:
        raise StorageError(f"invalid database URL {masked}: {_describe(exc)}") from exc
    except ImportError as exc:
        raise StorageError(f"the database driver for {masked} is not installed: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _set_sqlite_pragmas)
    logger.debug("session store engine created for %s", masked)
    return engine


# The store clock: None is the real time. A module variable, not a contextvar, so that writes
# from worker threads (asyncio.to_thread, executors: contextvars do not reach them all) see it.
_clock: Callable[[], datetime] | None = None
_clock_lock = threading.Lock()


def utc_now() -> datetime:
    """The store clock: the current time, timezone-aware UTC, or inside :func:`simulated_now`
    the simulated time it was given (in every thread of the process)."""
    clock = _clock  # one read: the context manager may restore it meanwhile
    if clock is None:
        return datetime.now(UTC)
    when = clock()
    if when.tzinfo is None:
        raise InputError("simulated_now", when, "a timezone-aware datetime")
    return when.astimezone(UTC)


@contextmanager
def simulated_now(when: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Make :func:`utc_now`, and so every time the store writes, return ``when`` in the block.

    ``when`` is a fixed timezone-aware datetime, or a function called at each :func:`utc_now`
    (from any thread; it must be thread-safe) returning one. The setting is process-wide, for
    simulations only (``demo-centre`` back-dates its residents' sessions with it); the previous
    clock is restored on exit, so blocks nest. Raises :class:`InputError` for a naive datetime.
    """
    global _clock
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise InputError("simulated_now", when, "a timezone-aware datetime")
        fixed = when
        clock: Callable[[], datetime] = lambda: fixed  # noqa: E731
    elif callable(when):
        clock = when
    else:
        raise InputError("simulated_now", when, "a datetime or a function returning one")
    with _clock_lock:
        previous, _clock = _clock, clock
    try:
        yield
    finally:
        with _clock_lock:
            _clock = previous


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as UTC and returned timezone-aware (SQLite keeps no zone itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise InputError("datetime", value, "a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def finite_or_none(value: object, argument: str) -> float | None:
    """``value`` as a float, or None for None, NaN and ±inf (portable across databases)."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(argument, value, "a number or None") from None
    return number if math.isfinite(number) else None


def to_json(value: Any, argument: str) -> Any:
    """Convert ``value`` to plain JSON types: NaN/inf become None, NumPy values Python values.

    Raises :class:`InputError` naming ``argument`` for anything that has no JSON form, and for a
    dict key that names a personal detail (the message gives the key's path, not its value).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return to_json(value.value, argument)
    if isinstance(value, str | int):
        return str(value) if isinstance(value, str) else int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        for key in value:
            if _PERSONAL_KEY.fullmatch(str(key).lower()):
                raise InputError(argument, f"key {key!r}", "no personal data (pseudonymous only)")
        return {str(k): to_json(v, argument) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v, argument) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays, without importing NumPy
        return to_json(value.tolist(), argument)
    raise InputError(argument, value, "JSON-compatible values (dict, list, str, number, bool)")
