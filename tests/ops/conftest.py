"""Operations fixtures: a private data folder and backup key, and store databases of both kinds.

``store_url`` (SQLite, then PostgreSQL when ``$ADDICTION_INDEX_TEST_POSTGRES`` is set) comes from
``tests/store/conftest.py``; ``other_url`` is a second, empty database of the same kind (a
restore target).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    TypeDecorator,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import Engine, make_url

from addiction_index.ops import BACKUP_KEY_ENV, OpsPaths
from addiction_index.store import open_store, resolve_database_url
from addiction_index.store.migrations import store_metadata
from tests.store.conftest import postgres_admin, postgres_url, store_url  # noqa: F401

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture
def ops_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OpsPaths:
    """A data folder of its own (backups, recordings, ops state) and a backup key."""
    monkeypatch.setenv("ADDICTION_INDEX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ADDICTION_INDEX_BACKUPS", raising=False)
    monkeypatch.delenv("ADDICTION_INDEX_RECORDINGS", raising=False)
    monkeypatch.setenv(BACKUP_KEY_ENV, KEY)
    paths = OpsPaths.default()
    paths.recordings.mkdir(parents=True)
    return paths


@pytest.fixture
def other_url(store_url: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    """A second, empty database of the same kind as ``store_url`` (dropped afterwards)."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite":
        yield resolve_database_url(tmp_path / f"other-{uuid.uuid4().hex[:6]}.sqlite")
        return
    name = f"ai_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_CHOICES = {
    ("sessions", "status"): "completed",
    ("exercise_sessions", "status"): "completed",
    ("followup_contacts", "status"): "abstinent",
    ("followup_contacts", "mode"): "phone",
    ("followup_contacts", "test"): "negative",
}


def _value(table: Table, column: Any, code: str) -> Any:
    if (table.name, column.name) in _CHOICES:
        return _CHOICES[(table.name, column.name)]
    if column.nullable:
        return None
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float):
        return 1.0
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 2, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 1, 2)
    if isinstance(kind, JSON):
        return {"note": "x"}
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, String):
        return "x"
    return 1.0


def fill_subject(url: str, code: str) -> dict[str, int]:
    """Give ``code`` a row in every table that refers to subjects, directly or through others.

    Found from the schema's foreign keys, so a table added later is covered too. Returns the
    ids inserted per table.
    """
    metadata = store_metadata()
    with open_store(url) as store:
        subject_id = store.subject(code)
        ids: dict[str, int] = {"subjects": subject_id}
        engine: Engine = store.engine
        with engine.begin() as connection:
            pending = [t for t in metadata.sorted_tables if t.name != "subjects"]
            for table in pending:  # sorted: parents before children
                parents = {fk.column.table.name for fk in table.foreign_keys}
                if not parents or not parents <= set(ids):
                    continue
                row = {
                    c.name: _value(table, c, code)
                    for c in table.columns
                    if not c.primary_key and not c.foreign_keys
                }
                for fk in table.foreign_keys:
                    row[fk.parent.name] = ids[fk.column.table.name]
                ids[table.name] = connection.execute(
                    insert(table).values(row).returning(table.c.id)
                ).scalar_one()
            study = metadata.tables["study_codes"]
            connection.execute(
                insert(study).values(
                    dataset="demo",
                    subject=code,
                    study_code="sub-01",
                    date_shift_days=400,
                    export_dir="/nonexistent/export",
                    exported_at=datetime.now(UTC),
                )
            )
            audit = metadata.tables["audit_log"]
            connection.execute(
                insert(audit).values(
                    at=datetime.now(UTC),
                    actor="nurse",
                    role="clinician",
                    action="read",
                    target_kind="subject",
                    target_id=code,
                    detail_json={"subject": code},
                )
            )
    return ids
