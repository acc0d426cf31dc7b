"""Storage fixtures: every storage test runs on a SQLite file and on a real PostgreSQL server.

``store_url`` is parametrised over ``sqlite`` (a file in ``tmp_path``) and ``postgresql`` (a
fresh, uniquely named database on the server whose admin URL is in
``$ADDICTION_INDEX_TEST_POSTGRES``, dropped after the test). Without that variable the
PostgreSQL cases skip, saying so; ``.ci/run`` starts a server and sets it, so CI runs both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from addiction_index.store import resolve_database_url

POSTGRES_ENV = "ADDICTION_INDEX_TEST_POSTGRES"
POSTGRES_EXAMPLE = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the test server's admin database, or skip when none is set.

    A variable that is set but names a server that cannot be reached fails (CI must not skip).
    """
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        pytest.skip(f"no PostgreSQL test server: set {POSTGRES_ENV}, e.g. {POSTGRES_EXAMPLE}")
    url = make_url(raw)
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    except ImportError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but its driver is missing ({exc}): pip install psycopg")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        masked = url.render_as_string(hide_password=True)
        pytest.fail(f"{POSTGRES_ENV}={masked}: cannot connect: {str(exc).splitlines()[0]}")
    yield engine
    engine.dispose()


def _database_url(admin: Engine, name: str) -> str:
    url: URL = admin.url.set(database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    name = f"ai_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _database_url(postgres_admin, name)
    finally:
        with postgres_admin.connect() as connection:
            # FORCE: a connection a failed test left open must not keep the database alive
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty store database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return resolve_database_url(tmp_path / "store.sqlite")
    return request.getfixturevalue("postgres_url")
