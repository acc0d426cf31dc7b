"""Transactions on an open store's engine for the web app's own tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from addiction_index.store import (
    SessionStore,
    _accounts_schema,
    _login_throttle_schema,
    _web_sessions_schema,
)
from addiction_index.store._database import storage_errors
from addiction_index.store._schema import Base

__all__ = ["ensure_tables", "transaction"]

_TABLES = [
    _accounts_schema.UserRecord.__table__,
    _accounts_schema.AuditRecord.__table__,
    _accounts_schema.ResidentIdentityRecord.__table__,
    _web_sessions_schema.WebSessionRecord.__table__,
    _login_throttle_schema.LoginThrottleRecord.__table__,
]


def ensure_tables(store: SessionStore) -> None:
    """Create the accounts, audit, identity, web-session and login-throttle tables if missing.

    (Until the Alembic migrations land, as :class:`~addiction_index.store._exercise_log.ExerciseLog`
    does for its tables.)
    """
    with storage_errors(store.url, "creating the web tables"), store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        Base.metadata.create_all(conn, tables=_TABLES)
        conn.commit()


@contextmanager
def transaction(store: SessionStore, action: str) -> Iterator[Session]:
    """One committed transaction on ``store``'s engine; errors become ``StorageError``."""
    maker = sessionmaker(store.engine, expire_on_commit=False)
    with storage_errors(store.url, action), maker.begin() as session:
        yield session
