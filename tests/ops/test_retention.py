"""The retention policy: validated with file/line/key errors, applied per kind with counts."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from addiction_index.errors import ConfigError
from addiction_index.ops import RETENTION_KINDS, OpsPaths, apply_retention, load_policy
from addiction_index.ops._paths import write_json
from addiction_index.signals.streams import Marker
from addiction_index.store import open_store
from addiction_index.store._database import simulated_now

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_shipped_policy_covers_every_kind() -> None:
    policy = load_policy()
    assert set(policy.keep_days) == set(RETENTION_KINDS)
    assert policy.keep_days["audit_log"] >= 3650  # the audit log is kept long


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("version: 1\nkeep_days:\n  scores: 30\n  sores: 30\n", 4, "keep_days.sores"),
        ("version: 1\nkeep_days:\n  scores: -3\n", 3, "keep_days.scores"),
        ("version: 1\nkeep_days:\n  scores: 30\n", 3, "keep_days"),
        ("version: 2\nkeep_days: {}\n", 1, "version"),
        ("version: 1\nkeep: {}\n", 2, "keep"),
    ],
)
def test_policy_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert info.value.file == str(path)
    assert (info.value.line, info.value.key) == (line, key)


def _policy(tmp_path: Path, days: int) -> Path:
    lines = ["version: 1", "keep_days:"]
    lines += [f"  {kind}: {'forever' if kind == 'audit_log' else days}" for kind in RETENTION_KINDS]
    lines.append("backups_keep_at_least: 1")
    path = tmp_path / "policy.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _session(db: str, code: str, when: datetime, finish: bool = True) -> int:
    with simulated_now(when), open_store(db) as store:
        sid = store.start_session(
            code,
            protocol_name="demo",
            protocol_version="1",
            clock_origin=100.0,
            model_name="m",
            model_version="1",
            feature_spec_hash="h",
        )
        store.add_scores(sid, [(100.0 + i, "craving", 50.0, 0.5, True) for i in range(10)])
        store.add_markers(sid, [Marker(timestamp=101.0, label="block_start", block="rest")])
        if finish:
            store.finish_session(sid, status="completed")
    return sid


def test_apply_deletes_only_what_is_too_old(tmp_path: Path, ops_paths: OpsPaths) -> None:
    db = str(tmp_path / "centre.sqlite")
    old = _session(db, "OLD-01", NOW - timedelta(days=40))
    new = _session(db, "NEW-01", NOW - timedelta(days=5))
    running = _session(db, "RUN-01", NOW - timedelta(days=40), finish=False)
    old_file = ops_paths.recordings / "OLD-01" / "a.xdf"
    old_file.parent.mkdir()
    old_file.write_bytes(b"x")
    stamp = (NOW - timedelta(days=40)).timestamp()
    os.utime(old_file, (stamp, stamp))
    new_file = ops_paths.recordings / "NEW-01.xdf"
    new_file.write_bytes(b"x")
    os.utime(new_file, (NOW.timestamp(), NOW.timestamp()))
    backups = []
    for age in (60, 50, 3):
        path = ops_paths.backups / f"b{age}.aibackup"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
        created = (NOW - timedelta(days=age)).isoformat()
        backups.append({"file": str(path), "created_at": created, "database_id": "x"})
    write_json(ops_paths.backups_index, {"backups": backups})
    policy = load_policy(_policy(tmp_path, 30))

    dry = apply_retention(policy, db=db, paths=ops_paths, dry_run=True, now=NOW)
    assert dry["deleted"]["scores"] == 10 and dry["deleted"]["markers"] == 1
    assert dry["deleted"]["recordings"] == 1 and dry["deleted"]["backups"] == 2
    assert dry["cutoffs"]["audit_log"] is None
    with open_store(db) as store:
        assert store.get_session(old)["scores"]["count"] == 10  # nothing deleted yet

    done = apply_retention(policy, db=db, paths=ops_paths, now=NOW)

    assert done["deleted"] == dry["deleted"]
    with open_store(db) as store:
        assert store.get_session(old)["scores"]["count"] == 0
        assert store.get_session(old)["markers"] == []
        assert store.get_session(old)["session"]["status"] == "completed"  # the session stays
        assert store.get_session(new)["scores"]["count"] == 10
        assert store.get_session(running)["scores"]["count"] == 10  # running: never touched
    assert not old_file.exists() and new_file.exists()
    assert [p.name for p in ops_paths.backups.glob("*.aibackup")] == ["b3.aibackup"]
