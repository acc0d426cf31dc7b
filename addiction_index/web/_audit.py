"""The append-only audit log: every read of personal data and every decision made on the web.

This module only ever INSERTs into ``audit_log`` and SELECTs from it; there is deliberately no
function to change or remove an entry (a test checks the source for it). ``detail`` holds ids,
codes and counts, never personal data: keys naming personal details are refused.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, select

from addiction_index.store import SessionStore
from addiction_index.store._accounts_schema import AuditRecord
from addiction_index.store._database import to_json, utc_now
from addiction_index.web._db import transaction

__all__ = ["audit", "read_audit"]

logger = logging.getLogger(__name__)


def audit(
    store: SessionStore,
    actor: str,
    role: str,
    action: str,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry: who (``actor``, ``role``) did ``action`` on which record, when.

    ``target_id`` is a pseudonymous code or a numeric id. Raises ``InputError`` for a
    ``detail`` key naming a personal detail (``first_name``, ``phone``...).
    """
    row = {
        "at": utc_now(),
        "actor": str(actor)[:64],
        "role": str(role)[:16],
        "action": str(action)[:64],
        "target_kind": None if target_kind is None else str(target_kind)[:32],
        "target_id": None if target_id is None else str(target_id)[:64],
        "detail_json": None if detail is None else to_json(detail, "audit detail"),
    }
    with transaction(store, "writing the audit log") as session:
        session.execute(insert(AuditRecord), [row])
    logger.debug("audit: %s by role %s", row["action"], row["role"])


def read_audit(
    store: SessionStore, *, limit: int = 200, action: str | None = None
) -> list[dict[str, Any]]:
    """The newest ``limit`` entries first (optionally of one ``action``), as plain dicts."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditRecord.action == action)
    keys = ("id", "actor", "role", "action", "target_kind", "target_id")
    with transaction(store, "reading the audit log") as session:
        return [
            {k: getattr(r, k) for k in keys}
            | {"at": r.at.isoformat(), "detail": r.detail_json or {}}
            for r in session.scalars(query)
        ]
