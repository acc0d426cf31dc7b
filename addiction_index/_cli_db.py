"""``addiction-index db upgrade`` and ``addiction-index db current``: the store's schema revision.

``upgrade`` brings the database to the newest schema revision shipped with this version (what
every command opening the store also does, so it is needed only to migrate ahead of time, e.g.
a centre's PostgreSQL database before the web app starts). ``current`` shows the revision a
database is at, and the newest, without changing anything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from addiction_index._cli_common import DbOption, JsonOption
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError

__all__ = ["db_app"]

db_app = typer.Typer(
    help="The database: schema revision and migrations (SQLite or PostgreSQL).",
    no_args_is_help=True,
)


def _report(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    current = data["current"] or "none (no schema yet)"
    state = "up to date" if data["up_to_date"] else f"behind the newest, {data['head']}"
    Console().print(f"{data['database']}: schema revision {current} ({state})", highlight=False)


@db_app.command("upgrade")
def upgrade_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Migrate the database to the newest schema revision (creating it if new)."""
    from addiction_index.store._database import (
        create_store_engine,
        mask_url,
        resolve_database_url,
        storage_errors,
    )
    from addiction_index.store.migrations import upgrade_database

    try:
        url = resolve_database_url(db)
        engine = create_store_engine(url)
        try:
            with storage_errors(url, "migrating the session store"):
                head = upgrade_database(engine, mask_url(url))
        finally:
            engine.dispose()
    except AddictionIndexError as exc:
        _fail(exc)
        return
    _report({"database": mask_url(url), "current": head, "head": head, "up_to_date": True}, as_json)


@db_app.command("current")
def current_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the database's schema revision and the newest one; changes nothing."""
    from addiction_index.errors import StorageError
    from addiction_index.store._database import (
        create_store_engine,
        mask_url,
        resolve_database_url,
        storage_errors,
    )
    from addiction_index.store.migrations import current_revision, head_revision

    try:
        url = resolve_database_url(db)
        parsed = make_url(url)
        file = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if file not in (None, "", ":memory:") and not Path(file).exists():
            raise StorageError(f"no database at {file} yet (db upgrade creates it)")
        engine = create_store_engine(url)
        try:
            with storage_errors(url, "reading the schema revision"), engine.connect() as conn:
                current = current_revision(conn)
        finally:
            engine.dispose()
        head = head_revision()
    except AddictionIndexError as exc:
        _fail(exc)
        return
    data = {"database": mask_url(url), "current": current, "head": head}
    _report(data | {"up_to_date": current == head}, as_json)
