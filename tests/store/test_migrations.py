"""Alembic migrations on SQLite and PostgreSQL: they equal the models, run both ways, adopt a
database made by ``create_all`` before migrations existed, and refuse what they cannot migrate.

A model change without a migration fails ``test_migrations_equal_the_models``.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from addiction_index._cli_db import db_app
from addiction_index.errors import StorageError
from addiction_index.store import mask_url, open_store
from addiction_index.store._database import create_store_engine
from addiction_index.store.migrations import (
    INITIAL_REVISION,
    alembic_config,
    current_revision,
    head_revision,
    store_metadata,
)

SESSION_TABLES = ["subjects", "sessions", "markers", "scores", "block_summaries", "prescriptions"]


def _differences(url: str) -> list[object]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, store_metadata())
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_migrations_equal_the_models(store_url: str) -> None:
    open_store(store_url).close()
    assert _revision(store_url) == head_revision()
    differences = _differences(store_url)
    assert differences == [], (
        "the models and the migrations differ: add a revision in "
        f"addiction_index/store/migrations/versions/ ({differences})"
    )
    assert _tables(store_url) == {*store_metadata().tables, "alembic_version"}


def test_downgrade_to_nothing_and_upgrade_again(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert _tables(store_url) == {"alembic_version"}
        assert _revision(store_url) is None
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    finally:
        engine.dispose()
    assert _differences(store_url) == []


def test_reopening_a_current_database_changes_nothing(store_url: str) -> None:
    with open_store(store_url) as store:
        session_id = store.start_session(
            "R-001", protocol_name="p", protocol_version="1", clock_origin=0.0,
            model_name="m", model_version="1", feature_spec_hash="h",
        )  # fmt: skip
    with open_store(store_url) as store:
        assert store.get_session(session_id)["session"]["status"] == "running"
    assert _revision(store_url) == head_revision()


def test_threads_opening_different_new_databases_at_once(tmp_path) -> None:
    """Alembic's proxies are process-wide: migrations in one process take turns."""
    paths = [tmp_path / f"centre-{k}.sqlite" for k in range(6)]
    ready, errors = threading.Barrier(len(paths)), []

    def open_one(path) -> None:
        try:
            ready.wait()
            open_store(path).close()
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for path in paths:
        assert _revision(f"sqlite:///{path}") == head_revision()


def _create_all(url: str, tables: list[str] | None = None) -> None:
    """A database as versions before migrations made it: ``create_all``, no alembic_version."""
    metadata = store_metadata()
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            chosen = None if tables is None else [metadata.tables[name] for name in tables]
            metadata.create_all(connection, tables=chosen)
            connection.execute(
                text("INSERT INTO subjects (code, created_at) VALUES ('R-OLD', :at)"),
                {"at": datetime(2024, 5, 1, tzinfo=UTC)},
            )
    finally:
        engine.dispose()


def test_a_database_made_by_create_all_is_stamped_and_kept(store_url: str) -> None:
    _create_all(store_url)
    with open_store(store_url) as store:
        assert store.subject("R-OLD") == 1  # the existing row, not a new one
    assert _revision(store_url) == head_revision()
    assert _differences(store_url) == []


def test_an_older_create_all_database_gets_its_missing_tables(store_url: str) -> None:
    _create_all(store_url, SESSION_TABLES)  # before the exercise log, the loop, the web app
    with open_store(store_url) as store:
        assert store.subject("R-OLD") == 1
    assert _tables(store_url) == {*store_metadata().tables, "alembic_version"}
    assert _revision(store_url) == head_revision()
    assert _differences(store_url) == []


def test_tables_that_match_no_revision_are_refused(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE subjects (id INTEGER PRIMARY KEY, name TEXT)"))
    finally:
        engine.dispose()
    with pytest.raises(StorageError) as caught:
        open_store(store_url)
    message = str(caught.value)
    assert f"revision {INITIAL_REVISION}" in message
    assert "subjects lacks column(s) code, created_at" in message
    assert "unknown column(s) name" in message
    assert _tables(store_url) == {"subjects"}  # nothing was changed


def test_a_revision_from_a_newer_version_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(StorageError) as caught:
        open_store(store_url)
    assert "revision '9999'" in str(caught.value)
    assert "newer version" in str(caught.value)
    assert mask_url(store_url) in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///offline.sqlite", ["DATETIME", "JSON", "BOOLEAN", "DOUBLE"]),
        (
            "postgresql+psycopg://ai@db.example/centre",
            ["TIMESTAMP WITH TIME ZONE", "JSON", "BOOLEAN", "DOUBLE PRECISION", "BYTEA"],
        ),
    ],
)
def test_offline_sql_uses_each_dialects_types(url: str, expected: list[str]) -> None:
    """``--sql`` mode renders the migrations without a database, with the dialect's types."""
    config = alembic_config(url=url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE sessions" in sql
    for type_name in expected:
        assert type_name in sql, type_name
    assert "UTCDateTime" not in sql


# -- the command line ------------------------------------------------------------------------


def test_db_current_then_upgrade(store_url: str) -> None:
    runner = CliRunner()
    engine = create_engine(store_url)  # an existing, empty database: no revision yet
    engine.connect().close()
    engine.dispose()
    done = runner.invoke(db_app, ["current", "--db", store_url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {
        "database": mask_url(store_url), "current": None, "head": head_revision(),
        "up_to_date": False,
    }  # fmt: skip
    done = runner.invoke(db_app, ["upgrade", "--db", store_url])
    assert done.exit_code == 0, done.output
    assert f"schema revision {head_revision()} (up to date)" in done.output
    done = runner.invoke(db_app, ["current", "--db", store_url])
    assert done.exit_code == 0, done.output
    assert "(up to date)" in done.output
    assert _differences(store_url) == []


def test_db_current_of_a_missing_file_creates_nothing(tmp_path) -> None:
    path = tmp_path / "absent.sqlite"
    done = CliRunner().invoke(db_app, ["current", "--db", str(path)])
    assert done.exit_code == 2
    assert "no database" in done.output and not path.exists()


def test_db_upgrade_masks_the_password_of_an_unreachable_server() -> None:
    url = "postgresql+psycopg://clinic:s3cr3t-pw@127.0.0.1:1/centre"
    done = CliRunner().invoke(db_app, ["upgrade", "--db", url])
    assert done.exit_code == 2
    assert "s3cr3t-pw" not in done.output
    assert "clinic:***@127.0.0.1" in done.output
