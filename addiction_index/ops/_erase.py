"""Erasing a resident everywhere: ``addiction-index subject erase CODE --reason CATEGORY``.

What goes, in one database transaction:

* every row that refers to the subject, found generically from the schema's foreign keys
  (``sessions`` and their markers, scores, summaries, prescriptions and overrides; exercise
  sessions and events; intake facts, instruments, risk factors, releases and follow-up
  contacts; ``resident_identities``; any table added later with a key to ``subjects``), then the
  ``subjects`` row itself;
* the ``study_codes`` rows (the link to pseudonymised exports), after their export folders
  ``<export_dir>/<study code>/`` and ``participants.tsv`` rows were removed;
* the code in ``audit_log`` (``target_id`` and ``detail``): replaced by ``erased:<hash>``.
  The audit log is otherwise append-only; erasure is the one exception, because the code is the
  link back to the person.

Then the recordings (``recordings/<CODE>/`` and files named ``<CODE>.*``) are deleted, and the
erasure is added to the ledger ``ops/erasures.json`` as an HMAC-SHA256 of the code with a random
salt kept in that file (never the code). Backups made before the erasure still hold the
resident: they are marked in the backups index, and :func:`reapply_erasures` (run by every
restore) erases again every code whose salted hash is in the ledger.

Reasons are a fixed list of categories (:data:`ERASURE_REASONS`); free text is not accepted
because it could name the person, and the audit entry must not. The audit entry records the
category, the salted hash and counts only. A resident with a session running is refused.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, cast, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from addiction_index.errors import InputError, StorageError
from addiction_index.ops._paths import OpsPaths, read_json, write_json
from addiction_index.store._database import open_store, resolve_database_url, storage_errors
from addiction_index.store._schema import check_subject_code

__all__ = [
    "ERASURE_REASONS",
    "erase_subject",
    "reapply_erasures",
    "reapply_to_engine",
    "subject_hash",
]

logger = logging.getLogger(__name__)

ERASURE_REASONS = (
    "resident-request",
    "consent-withdrawn",
    "retention-expired",
    "legal-order",
    "entered-in-error",
)


def _ledger(paths: OpsPaths, create: bool) -> dict[str, Any]:
    ledger = read_json(paths.erasures, None)
    if ledger is None:
        ledger = {"salt": secrets.token_hex(32), "erasures": []}
        if create:
            write_json(paths.erasures, ledger)
    return ledger


def subject_hash(code: str, salt: str) -> str:
    """HMAC-SHA256 of ``code`` keyed with the ledger's ``salt`` (hex)."""
    return hmac.new(bytes.fromhex(salt), code.encode("utf-8"), hashlib.sha256).hexdigest()


def _tables(connection: Connection) -> dict[str, Table]:
    from addiction_index.store.migrations import store_metadata

    present = set(connection.dialect.get_table_names(connection))
    return {n: t for n, t in store_metadata().tables.items() if n in present}


def _delete_tree(
    connection: Connection,
    tables: dict[str, Table],
    table: Table,
    where: ColumnElement[bool],
    counts: dict[str, int],
    depth: int = 0,
) -> None:
    """Delete ``table`` rows matching ``where`` and, first, every row referring to them."""
    if depth > 8:
        raise StorageError(f"foreign keys nest too deep below {table.name}")
    for child in tables.values():
        for fk in child.foreign_keys:
            if fk.column.table is table and child is not table:
                child_where = fk.parent.in_(select(fk.column).where(where))
                _delete_tree(connection, tables, child, child_where, counts, depth + 1)
    result = connection.execute(delete(table).where(where))
    if result.rowcount:
        counts[table.name] = counts.get(table.name, 0) + result.rowcount


def _scrub(value: Any, code: str, marker: str) -> Any:
    if isinstance(value, str):
        return value.replace(code, marker)
    if isinstance(value, list):
        return [_scrub(v, code, marker) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, code, marker): _scrub(v, code, marker) for k, v in value.items()}
    return value


def _remove_exports(rows: list[Any]) -> int:
    """Remove the export folders ``<export_dir>/<study code>`` and ``participants.tsv`` rows."""
    removed = 0
    for row in rows:
        root = Path(row.export_dir)
        folder = root / row.study_code
        if folder.is_dir() and folder.parent == root:
            shutil.rmtree(folder)
            removed += 1
        participants = root / "participants.tsv"
        if participants.is_file():
            with participants.open(newline="", encoding="utf-8") as source:
                lines = list(csv.reader(source, delimiter="\t"))
            kept = [line for line in lines if not line or line[0] != row.study_code]
            if len(kept) != len(lines):
                with participants.open("w", newline="", encoding="utf-8") as out:
                    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(kept)
    return removed


def _recordings_of(code: str, folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and (code in relative.parts[:-1] or path.name.split(".")[0] == code):
            found.append(path)
    return found


def _remove_recordings(code: str, folder: Path) -> int:
    """Delete the resident's recordings, and their folders ``<CODE>/``; return the file count."""
    files = _recordings_of(code, folder)
    for path in files:
        path.unlink(missing_ok=True)
    if folder.is_dir():
        for sub in sorted(folder.rglob(code), key=lambda p: len(p.parts), reverse=True):
            if sub.is_dir():
                shutil.rmtree(sub, ignore_errors=True)
    return len(files)


def _erase_in_database(
    connection: Connection, code: str, marker: str, *, remove_files: bool = True
) -> dict[str, Any]:
    tables = _tables(connection)
    counts: dict[str, int] = {}
    subjects = tables["subjects"]
    _delete_tree(connection, tables, subjects, subjects.c.code == code, counts)
    exports = 0
    if "study_codes" in tables:
        study = tables["study_codes"]
        rows = connection.execute(select(study).where(study.c.subject == code)).all()
        exports = _remove_exports(rows) if remove_files else len(rows)
        _delete_tree(connection, tables, study, study.c.subject == code, counts)
    if "audit_log" in tables:
        audit = tables["audit_log"]
        changed = connection.execute(
            update(audit).where(audit.c.target_id == code).values(target_id=marker)
        ).rowcount
        pattern = f"%{code}%"
        for row in connection.execute(
            select(audit.c.id, audit.c.detail_json).where(
                cast(audit.c.detail_json, String).like(pattern)
            )
        ).all():
            connection.execute(
                update(audit)
                .where(audit.c.id == row.id)
                .values(detail_json=_scrub(row.detail_json, code, marker))
            )
            changed += 1
        if changed:
            counts["audit_log (code replaced)"] = changed
    return {"rows": counts, "exports_removed": exports}


def _running(connection: Connection, code: str) -> list[str]:
    tables = _tables(connection)
    subjects = tables["subjects"]
    subject_id = select(subjects.c.id).where(subjects.c.code == code).scalar_subquery()
    busy = []
    for name in ("sessions", "exercise_sessions"):
        if name in tables:
            table = tables[name]
            ids = connection.execute(
                select(table.c.id).where(
                    table.c.subject_id == subject_id, table.c.status == "running"
                )
            ).scalars()
            busy += [f"{name} {i}" for i in ids]
    return busy


def erase_subject(
    code: str,
    reason: str,
    *,
    db: str | os.PathLike[str] | None = None,
    paths: OpsPaths | None = None,
    actor: str = "cli",
    dry_run: bool = False,
) -> dict[str, Any]:
    """Erase the resident ``code`` everywhere (see the module doc); return counts per place.

    Raises :class:`InputError` for a bad code or reason, or a code found nowhere, and
    :class:`StorageError` while the resident has a running session.
    """
    check_subject_code(code)
    if reason not in ERASURE_REASONS:
        raise InputError("reason", reason, f"one of {', '.join(ERASURE_REASONS)}")
    paths = paths or OpsPaths.default()
    url = resolve_database_url(db)
    ledger = _ledger(paths, create=not dry_run)
    digest = subject_hash(code, ledger["salt"])
    marker = f"erased:{digest[:16]}"
    recordings = _recordings_of(code, paths.recordings)
    with open_store(url) as store, storage_errors(url, "erasing a resident"):
        with store.engine.begin() as connection:
            busy = _running(connection, code)
            if busy:
                raise StorageError(
                    f"the resident has a session running ({', '.join(busy)}): finish or stop "
                    "it first (a crashed one is closed by `sessions` commands on next start)"
                )
            result = _erase_in_database(connection, code, marker, remove_files=not dry_run)
            if not result["rows"] and not recordings:
                raise InputError("code", code, "a resident code present in the store")
            if dry_run:
                connection.rollback()
        report = {
            "subject_hash": digest[:16],
            "reason": reason,
            "dry_run": dry_run,
            **result,
            "recordings_removed": len(recordings),
        }
        if dry_run:
            return report
        _remove_recordings(code, paths.recordings)
        marked = _mark_backups(paths, digest)
        ledger["erasures"].append(
            {"hash": digest, "at": datetime.now(UTC).isoformat(), "reason": reason}
        )
        write_json(paths.erasures, ledger)
        from addiction_index.web._audit import audit

        audit(
            store,
            actor,
            "admin",
            "erase_subject",
            "subject",
            marker,
            {
                "reason": reason,
                "rows": sum(v for k, v in result["rows"].items() if "audit" not in k),
                "recordings": len(recordings),
                "exports": result["exports_removed"],
                "backups_marked": marked,
            },
        )
    logger.info("erased resident %s (%s)", marker, reason)
    return report | {"backups_marked": marked}


def _mark_backups(paths: OpsPaths, digest: str) -> int:
    index = read_json(paths.backups_index, {"backups": []})
    for entry in index["backups"]:
        if digest not in entry.setdefault("erased_since", []):
            entry["erased_since"].append(digest)
    if index["backups"]:
        write_json(paths.backups_index, index)
    return len(index["backups"])


def reapply_erasures(
    db: str | os.PathLike[str] | None = None, *, paths: OpsPaths | None = None
) -> list[str]:
    """Erase again every resident of the ledger found in ``db`` (after a restore).

    The database is migrated first (an older backup may predate the newest schema). Returns the
    short hashes of the residents erased again. :func:`~addiction_index.store.open_store` does
    the same on every open, so a database restored by hand is caught too.
    """
    from addiction_index.store._database import create_store_engine
    from addiction_index.store.migrations import upgrade_database

    url = resolve_database_url(db)
    engine = create_store_engine(url)
    try:
        with storage_errors(url, "re-applying erasures"):
            upgrade_database(engine)
            return reapply_to_engine(engine, paths)
    finally:
        engine.dispose()


def reapply_to_engine(engine: Engine, paths: OpsPaths | None = None) -> list[str]:
    """:func:`reapply_erasures` on an open, migrated ``engine`` (quick without a ledger)."""
    paths = paths or OpsPaths.default()
    ledger = read_json(paths.erasures, None)
    if not ledger or not ledger["erasures"]:
        return []
    wanted = {e["hash"] for e in ledger["erasures"]}
    again: list[str] = []
    with engine.begin() as connection:
        tables = _tables(connection)
        codes = set(connection.execute(select(tables["subjects"].c.code)).scalars())
        if "study_codes" in tables:
            study = tables["study_codes"]
            codes |= set(connection.execute(select(study.c.subject)).scalars())
        if paths.recordings.is_dir():
            codes |= {p.name for p in paths.recordings.iterdir() if p.is_dir()}
        for code in sorted(codes):
            digest = subject_hash(code, ledger["salt"])
            if digest not in wanted:
                continue
            _erase_in_database(connection, code, f"erased:{digest[:16]}")
            _remove_recordings(code, paths.recordings)
            again.append(digest[:16])
    if again:
        from addiction_index.store._repository import SessionStore
        from addiction_index.web._audit import audit

        audit(
            SessionStore(engine),
            "restore",
            "admin",
            "reapply_erasures",
            None,
            None,
            {"count": len(again)},
        )
        logger.warning("re-applied %d erasure(s) to a restored database", len(again))
    return again
