"""The retention policy: how long each kind of record is kept, and applying it.

A policy is a YAML file (the default ships as ``addiction_index/ops/retention.default.yaml``;
``$ADDICTION_INDEX_RETENTION_POLICY`` or ``--policy`` names another)::

    version: 1
    keep_days: {scores: 730, markers: 730, recordings: 365, exercise_events: 730,
                web_sessions: 30, audit_log: 3650, aftercare_contacts: 1825,
                exported_datasets: 1095, backups: 90}     # a number of days, or "forever"
    backups_keep_at_least: 7

Every kind must be given (a forgotten kind is an error, not "keep forever"); errors name the file,
the line and the key. :func:`apply_retention` deletes, per kind, what is older than its limit:
database rows in one transaction (sessions still running are never touched), then
files. Sessions themselves (their index result, summaries and prescription) are kept.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection

from addiction_index.errors import ConfigError
from addiction_index.ops._paths import OpsPaths, read_json, write_json
from addiction_index.store._database import (
    open_store,
    resolve_database_url,
    storage_errors,
    utc_now,
)

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_ENV",
    "RETENTION_KINDS",
    "RetentionPolicy",
    "apply_retention",
    "load_policy",
]

POLICY_ENV = "ADDICTION_INDEX_RETENTION_POLICY"
DEFAULT_POLICY = Path(__file__).with_name("retention.default.yaml")
RETENTION_KINDS = (
    "scores",
    "markers",
    "recordings",
    "exercise_events",
    "web_sessions",
    "audit_log",
    "aftercare_contacts",
    "exported_datasets",
    "backups",
)


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep per kind (None: forever), and the newest backups always kept."""

    keep_days: dict[str, int | None]
    backups_keep_at_least: int
    source: str


def _line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _child(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def load_policy(path: str | os.PathLike[str] | None = None) -> RetentionPolicy:
    """Read and check a retention policy (default: ``$ADDICTION_INDEX_RETENTION_POLICY``, else
    the shipped one). Raises :class:`ConfigError` naming file, line and key."""
    file = Path(path or os.environ.get(POLICY_ENV) or DEFAULT_POLICY)
    try:
        text = file.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except OSError as exc:
        raise ConfigError(file, f"cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise ConfigError(
            file, f"not valid YAML ({getattr(exc, 'problem', exc)})", line=line
        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(file, "the policy must be a mapping", line=_line(root))
    known = {"version", "keep_days", "backups_keep_at_least"}
    for k, _ in root.value:
        if k.value not in known:
            raise ConfigError(
                file, "unknown key", line=_line(k), key=k.value, expected=", ".join(sorted(known))
            )
    version = _child(root, "version")
    if version is None or version[1].value != "1":
        raise ConfigError(
            file, "missing or unsupported version", line=_line(root), key="version", expected="1"
        )
    keep = _child(root, "keep_days")
    if keep is None or not isinstance(keep[1], yaml.MappingNode):
        raise ConfigError(file, "missing or not a mapping", line=_line(root), key="keep_days")
    days: dict[str, int | None] = {}
    for k, v in keep[1].value:
        where = f"keep_days.{k.value}"
        if k.value not in RETENTION_KINDS:
            raise ConfigError(
                file, "unknown kind", line=_line(k), key=where, expected=", ".join(RETENTION_KINDS)
            )
        value = v.value if isinstance(v, yaml.ScalarNode) else None
        if value == "forever":
            days[k.value] = None
        elif value is not None and value.isdigit() and int(value) >= 1:
            days[k.value] = int(value)
        else:
            raise ConfigError(
                file,
                f"invalid value {value!r}",
                line=_line(v),
                key=where,
                expected='a whole number of days >= 1, or "forever"',
            )
    missing = [kind for kind in RETENTION_KINDS if kind not in days]
    if missing:
        raise ConfigError(
            file,
            f"kinds missing: {', '.join(missing)}",
            line=_line(keep[1]),
            key="keep_days",
            expected="every kind",
        )
    least = _child(root, "backups_keep_at_least")
    minimum = 1
    if least is not None:
        raw = least[1].value if isinstance(least[1], yaml.ScalarNode) else ""
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(
                file,
                f"invalid value {raw!r}",
                line=_line(least[1]),
                key="backups_keep_at_least",
                expected="an integer >= 1",
            )
        minimum = int(raw)
    return RetentionPolicy(days, minimum, str(file))


def _tables(connection: Connection) -> dict[str, Table]:
    from addiction_index.store.migrations import store_metadata

    present = set(connection.dialect.get_table_names(connection))
    return {n: t for n, t in store_metadata().tables.items() if n in present}


def _database_kinds(
    connection: Connection, cutoff: dict[str, datetime], dry_run: bool
) -> dict[str, int]:
    t = _tables(connection)
    sessions, exercise = t["sessions"], t["exercise_sessions"]
    plans: dict[str, tuple[Table, Any]] = {}
    for kind in ("scores", "markers"):
        if kind in cutoff:
            old = select(sessions.c.id).where(
                sessions.c.started_at < cutoff[kind], sessions.c.status != "running"
            )
            plans[kind] = (t[kind], t[kind].c.session_id.in_(old))
    if "exercise_events" in cutoff:
        old = select(exercise.c.id).where(
            exercise.c.started_at < cutoff["exercise_events"], exercise.c.status != "running"
        )
        events = t["exercise_events"]
        plans["exercise_events"] = (events, events.c.exercise_session_id.in_(old))
    if "web_sessions" in cutoff:
        web = t["web_sessions"]
        plans["web_sessions"] = (web, web.c.last_seen_at < cutoff["web_sessions"])
    if "audit_log" in cutoff:
        audit = t["audit_log"]
        plans["audit_log"] = (audit, audit.c.at < cutoff["audit_log"])
    if "aftercare_contacts" in cutoff:
        contacts = t["followup_contacts"]
        plans["aftercare_contacts"] = (
            contacts,
            contacts.c.contact_date < cutoff["aftercare_contacts"].date(),
        )
    counts: dict[str, int] = {}
    for kind, (table, where) in plans.items():
        if dry_run:
            from sqlalchemy import func

            counts[kind] = connection.execute(
                select(func.count()).select_from(table).where(where)
            ).scalar_one()
        else:
            counts[kind] = connection.execute(delete(table).where(where)).rowcount
    return counts


def _exports(connection: Connection, before: datetime, dry_run: bool) -> dict[str, int]:
    study = _tables(connection)["study_codes"]
    rows = connection.execute(select(study).where(study.c.exported_at < before)).all()
    folders = {Path(r.export_dir) for r in rows}
    removed = 0
    for folder in folders:
        if (folder / "dataset_description.json").is_file():
            removed += 1
            if not dry_run:
                shutil.rmtree(folder)
    if not dry_run:
        connection.execute(delete(study).where(study.c.exported_at < before))
    return {"exported_datasets": len(rows), "exported_folders": removed}


def _old_files(folder: Path, before: datetime) -> list[Path]:
    if not folder.is_dir():
        return []
    limit = before.timestamp()
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime < limit]


def _backups(paths: OpsPaths, before: datetime, keep: int, dry_run: bool) -> int:
    index = read_json(paths.backups_index, {"backups": []})
    entries = sorted(index["backups"], key=lambda e: e["created_at"], reverse=True)
    doomed = [e for e in entries[keep:] if datetime.fromisoformat(e["created_at"]) < before]
    if not dry_run and doomed:
        for entry in doomed:
            Path(entry["file"]).unlink(missing_ok=True)
        gone = {e["file"] for e in doomed}
        index["backups"] = [e for e in index["backups"] if e["file"] not in gone]
        write_json(paths.backups_index, index)
    return len(doomed)


def apply_retention(
    policy: RetentionPolicy,
    *,
    db: str | os.PathLike[str] | None = None,
    paths: OpsPaths | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Delete what ``policy`` says is too old (or only count it with ``dry_run``).

    Returns ``{"dry_run", "policy", "cutoffs": {kind: iso | None}, "deleted": {kind: n}}``.
    The database rows go in one transaction (all or nothing), files afterwards.
    """
    paths = paths or OpsPaths.default()
    now = now or utc_now()
    cutoff = {k: now - timedelta(days=d) for k, d in policy.keep_days.items() if d is not None}
    url = resolve_database_url(db)
    deleted: dict[str, int] = {}
    with open_store(url) as store, storage_errors(url, "applying the retention policy"):
        with store.engine.begin() as connection:
            deleted.update(_database_kinds(connection, cutoff, dry_run))
        if "exported_datasets" in cutoff:
            with store.engine.begin() as connection:
                deleted.update(_exports(connection, cutoff["exported_datasets"], dry_run))
    if "recordings" in cutoff:
        old = _old_files(paths.recordings, cutoff["recordings"])
        deleted["recordings"] = len(old)
        if not dry_run:
            for path in old:
                path.unlink(missing_ok=True)
    if "backups" in cutoff:
        deleted["backups"] = _backups(
            paths, cutoff["backups"], policy.backups_keep_at_least, dry_run
        )
    return {
        "dry_run": dry_run,
        "policy": policy.source,
        "cutoffs": {k: (v.isoformat() if (v := cutoff.get(k)) else None) for k in RETENTION_KINDS},
        "deleted": {k: deleted.get(k, 0) for k in (*RETENTION_KINDS, "exported_folders")},
    }
