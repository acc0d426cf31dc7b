"""Backups: taken mid-session, verified by restoring, refused when tampered, restored exactly."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from addiction_index.errors import StorageError
from addiction_index.ops import (
    BACKUP_KEY_ENV,
    BackupKeyError,
    BackupVerifyError,
    OpsPaths,
    create_backup,
    create_key_file,
    cron_line,
    last_backup,
    restore_backup,
    timer_unit,
    verify_backup,
)
from addiction_index.ops._crypto import load_key
from addiction_index.ops._snapshot import is_empty, table_counts
from addiction_index.sessions import run_simulated_assessment
from addiction_index.store import XdfRecorder, open_store
from addiction_index.store._schema import ScoreRecord, SessionRecord, Subject
from tests.ops.conftest import fill_subject


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return table_counts(connection)
    finally:
        engine.dispose()


def _live_scores(url: str, code: str) -> int:
    """Scores stored so far by ``code``'s running session (0 while it has not started)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count())
                .select_from(ScoreRecord)
                .join(SessionRecord, ScoreRecord.session_id == SessionRecord.id)
                .join(Subject, SessionRecord.subject_id == Subject.id)
                .where(Subject.code == code, SessionRecord.status == "running")
            ).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_backup_taken_mid_session_restores_clean(
    store_url: str, other_url: str, ops_paths: OpsPaths
) -> None:
    done = asyncio.run(
        run_simulated_assessment(subject="DONE-01", craving=40, seed=1, db=store_url)
    )
    outcome: dict[str, Any] = {}
    recording = ops_paths.recordings / "LIVE-02" / "session.xdf"
    recording.parent.mkdir()
    recorder = XdfRecorder(recording)  # written while the backup is taken

    def live() -> None:
        try:
            outcome["result"] = asyncio.run(
                run_simulated_assessment(
                    subject="LIVE-02",
                    craving=70,
                    seed=2,
                    speed=40,
                    db=store_url,
                    sinks=[recorder],
                )
            )
        except BaseException as exc:  # reported by the assertions below
            outcome["error"] = exc
        finally:
            recorder.close()

    thread = threading.Thread(target=live)
    thread.start()
    deadline = time.monotonic() + 300
    while _live_scores(store_url, "LIVE-02") < 200:
        assert thread.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.2)
    backup = create_backup(store_url, paths=ops_paths)  # verified by a scratch restore
    thread.join(600)
    assert "error" not in outcome, outcome
    live_id = outcome["result"].session_id
    assert backup["database"]["running_sessions"] == 1
    assert backup["verify"]["ok"]

    elsewhere = dataclasses.replace(ops_paths, recordings=ops_paths.recordings.parent / "copy")
    restored = restore_backup(backup["file"], db=other_url, paths=elsewhere)

    assert restored["closed_interrupted"] == [live_id]
    # the recording as it was at the backup: a non-empty beginning of the finished file
    partial = (elsewhere.recordings / "LIVE-02" / "session.xdf").read_bytes()
    assert 1000 < len(partial) < recording.stat().st_size
    assert recording.read_bytes()[: len(partial)] == partial
    after = counts(other_url)
    assert after == backup["database"]["tables"]  # nothing more, nothing less than the snapshot
    with open_store(store_url) as source, open_store(other_url) as copy:
        # the finished session is there, whole
        assert copy.get_session(done.session_id) == source.get_session(done.session_id)
        # the interrupted one: closed cleanly, with what it had stored up to the backup
        kept, full = copy.get_session(live_id), source.get_session(live_id)
        assert full["session"]["status"] == "completed"
        assert kept["session"]["status"] == "interrupted"
        assert kept["session"]["ended_at"] is not None
        assert kept["index"] is None and kept["prescription"] is None
        assert kept["block_summaries"] == []
        n = kept["scores"]["count"]
        assert 200 <= n < full["scores"]["count"]
        assert copy.get_scores(live_id) == source.get_scores(live_id)[:n]
        assert kept["markers"] == full["markers"][: len(kept["markers"])]
        assert copy.close_interrupted() == []  # the normal open finds nothing left running


def test_restore_round_trip_equals_the_source(
    store_url: str, other_url: str, ops_paths: OpsPaths
) -> None:
    fill_subject(store_url, "RT-01")
    fill_subject(store_url, "RT-02")
    recording = ops_paths.recordings / "RT-01" / "a.xdf"
    recording.parent.mkdir()
    recording.write_bytes(os.urandom(5000))
    content = recording.read_bytes()
    source = counts(store_url)
    backup = create_backup(store_url, paths=ops_paths)
    assert backup["database"]["tables"] == source
    assert backup["database"]["residents"] == 2
    recording.write_bytes(b"changed")
    with pytest.raises(StorageError, match=r"differ.*--force"):
        restore_backup(backup["file"], db=other_url, paths=ops_paths)
    assert is_empty(other_url) and recording.read_bytes() == b"changed"  # nothing touched
    recording.unlink()

    restore_backup(backup["file"], db=other_url, paths=ops_paths)

    assert counts(other_url) == source
    assert recording.read_bytes() == content
    with pytest.raises(StorageError, match=r"not empty.*--force"):
        restore_backup(backup["file"], db=other_url, paths=ops_paths)
    recording.write_bytes(b"changed")
    restore_backup(backup["file"], db=other_url, paths=ops_paths, force=True)
    assert counts(other_url) == source and recording.read_bytes() == content
    latest = last_backup(store_url, paths=ops_paths)
    assert latest is not None and latest["verified"] and latest["file"] == backup["file"]
    assert last_backup(other_url, paths=ops_paths) is None


def test_tampered_truncated_or_wrong_key_backups_fail_verify(
    tmp_path: Path, ops_paths: OpsPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "centre.sqlite")
    fill_subject(db, "TT-01")
    (ops_paths.recordings / "TT-01").mkdir()
    (ops_paths.recordings / "TT-01" / "a.xdf").write_bytes(os.urandom(3 << 20))  # 3+ chunks
    good = Path(create_backup(db, paths=ops_paths)["file"])
    assert verify_backup(good, paths=ops_paths)["ok"]
    data = good.read_bytes()

    tampered = tmp_path / "tampered.aibackup"
    tampered.write_bytes(data[:2_000_000] + bytes([data[2_000_000] ^ 1]) + data[2_000_001:])
    with pytest.raises(StorageError, match="altered or damaged"):
        verify_backup(tampered, paths=ops_paths)
    truncated = tmp_path / "truncated.aibackup"
    truncated.write_bytes(data[: len(data) - 100])
    with pytest.raises(StorageError, match=r"altered|truncated"):
        verify_backup(truncated, paths=ops_paths)
    cut = tmp_path / "cut.aibackup"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=r"truncated|altered"):
        verify_backup(cut, paths=ops_paths)
    monkeypatch.setenv(BACKUP_KEY_ENV, "A" * 43 + "=")
    with pytest.raises(BackupKeyError, match="wrong key"):
        verify_backup(good, paths=ops_paths)


def test_verify_compares_the_scratch_restore_with_the_manifest(
    tmp_path: Path, ops_paths: OpsPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import addiction_index.ops._backup as backup_module

    db = str(tmp_path / "centre.sqlite")
    fill_subject(db, "MM-01")
    real = backup_module.dump_database

    def lying(url: str, out: Path) -> dict[str, Any]:
        described = real(url, out)
        described["tables"]["scores"] += 1
        return described

    monkeypatch.setattr(backup_module, "dump_database", lying)
    with pytest.raises(BackupVerifyError, match=r"row counts differ.*scores"):
        create_backup(db, paths=ops_paths)
    assert list(ops_paths.backups.glob("*")) == []  # an unverified backup is not left behind


def test_key_file_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKUP_KEY_ENV, raising=False)
    key_file = tmp_path / "ops" / "backup.key"
    with pytest.raises(BackupKeyError, match="no backup key"):
        load_key(key_file)
    create_key_file(key_file)
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert len(load_key(key_file)) == 32
    key_file.chmod(0o644)
    with pytest.raises(BackupKeyError, match="chmod 600"):
        load_key(key_file)
    key_file.chmod(0o600)
    with pytest.raises(BackupKeyError, match="not be stored with the backups"):
        load_key(key_file, backups_dir=tmp_path)


def test_schedule_texts() -> None:
    timer = timer_unit("*-*-* 01:00:00")
    assert "OnCalendar=*-*-* 01:00:00" in timer and "Persistent=true" in timer
    assert "[Install]" in timer
    assert cron_line().startswith("30 2 * * * addiction-index backup create")
