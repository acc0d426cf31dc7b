"""Erasing a resident: every table, recordings, exports, audit without the code, restores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, cast, create_engine, func, select

from addiction_index.errors import InputError, StorageError
from addiction_index.ops import OpsPaths, create_backup, erase_subject, restore_backup
from addiction_index.store import open_store
from addiction_index.store.migrations import store_metadata
from tests.ops.conftest import fill_subject

CODE, KEEP = "ERASE-ME-7", "KEEP-ME-3"


def traces(url: str, code: str, subject_id: int) -> dict[str, int]:
    """Rows anywhere that hold ``code`` in a text/JSON column or ``subject_id`` in a key."""
    found: dict[str, int] = {}
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for table in store_metadata().sorted_tables:
                for column in table.columns:
                    if any(fk.column.table.name == "subjects" for fk in column.foreign_keys):
                        where = column == subject_id
                    elif isinstance(column.type, String | Text | JSON):
                        where = cast(column, String).like(f"%{code}%")
                    else:
                        continue
                    n = connection.execute(
                        select(func.count()).select_from(table).where(where)
                    ).scalar_one()
                    if n:
                        found[f"{table.name}.{column.name}"] = n
    finally:
        engine.dispose()
    return found


def _recording(paths: OpsPaths, code: str) -> Path:
    path = paths.recordings / code / "session-1.xdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"XDF:" + bytes(100))
    return path


def test_erase_removes_the_resident_everywhere(store_url: str, ops_paths: OpsPaths) -> None:
    ids = fill_subject(store_url, CODE)
    kept_ids = fill_subject(store_url, KEEP)
    assert len(ids) >= 12, ids  # every table reachable from subjects got a row
    export = ops_paths.state.parent / "export"
    (export / "sub-01").mkdir(parents=True)
    (export / "participants.tsv").write_text("participant_id\tage\nsub-01\t30\nsub-02\t40\n")
    engine = create_engine(store_url)
    with engine.begin() as connection:
        study = store_metadata().tables["study_codes"]
        connection.execute(
            study.update().where(study.c.subject == CODE).values(export_dir=str(export))
        )
    engine.dispose()
    recording, kept_recording = _recording(ops_paths, CODE), _recording(ops_paths, KEEP)
    assert traces(store_url, CODE, ids["subjects"])

    report = erase_subject(CODE, "resident-request", db=store_url, actor="admin1")

    assert traces(store_url, CODE, ids["subjects"]) == {}
    assert not recording.exists() and not recording.parent.exists()
    assert not (export / "sub-01").exists()
    assert "sub-01" not in (export / "participants.tsv").read_text()
    assert report["recordings_removed"] == 1 and report["exports_removed"] == 1
    # the other resident is untouched: every one of their rows is still there
    assert set(traces(store_url, KEEP, kept_ids["subjects"])) >= {
        "subjects.code",
        "sessions.subject_id",
        "study_codes.subject",
        "audit_log.target_id",
    }
    assert kept_recording.exists()
    # the audit entry: a hash and a category, no code
    from addiction_index.web._audit import read_audit

    with open_store(store_url) as store:
        (entry,) = read_audit(store, action="erase_subject")
    assert entry["target_id"] == f"erased:{report['subject_hash']}"
    assert entry["detail"]["reason"] == "resident-request"
    assert CODE not in str(entry)
    ledger = ops_paths.erasures.read_text()
    assert CODE not in ledger and report["subject_hash"] in ledger


def test_restoring_an_older_backup_reapplies_the_erasure(
    store_url: str, other_url: str, ops_paths: OpsPaths
) -> None:
    ids = fill_subject(store_url, CODE)
    fill_subject(store_url, KEEP)
    recording = _recording(ops_paths, CODE)
    backup = create_backup(store_url, paths=ops_paths)
    erase_subject(CODE, "consent-withdrawn", db=store_url)
    from addiction_index.ops import list_backups

    assert list_backups(ops_paths)[0]["erased_since"]  # the older backup is marked

    report = restore_backup(backup["file"], db=other_url, paths=ops_paths)

    assert report["erasures_reapplied"]
    with open_store(other_url) as store:  # the normal open afterwards
        codes = [s["subject"] for s in store.list_sessions(limit=100)]
    assert CODE not in codes and KEEP in codes
    assert traces(other_url, CODE, ids["subjects"]) == {}
    assert not recording.exists()


def test_erase_refuses_a_running_session_and_bad_input(store_url: str, ops_paths: OpsPaths) -> None:
    with open_store(store_url) as store:
        store.start_session(
            CODE,
            protocol_name="demo",
            protocol_version="1",
            clock_origin=0.0,
            model_name="m",
            model_version="1",
            feature_spec_hash="h",
        )
    with pytest.raises(StorageError, match="session running"):
        erase_subject(CODE, "resident-request", db=store_url)
    with pytest.raises(InputError, match="reason"):
        erase_subject(CODE, "because she asked", db=store_url)
    with pytest.raises(InputError, match="present"):
        erase_subject("NOBODY-1", "resident-request", db=store_url)
    with open_store(store_url) as store:
        assert store.count_subjects() == 1


def test_the_normal_open_reapplies_erasures_to_data_restored_by_hand(
    store_url: str, other_url: str, ops_paths: OpsPaths
) -> None:
    fill_subject(store_url, CODE)
    erase_subject(CODE, "legal-order", db=store_url)
    fill_subject(other_url, KEEP)
    ids = fill_subject(other_url, CODE)  # as if an old dump were loaded with pg_restore by hand

    with open_store(other_url) as store:
        codes = {s["subject"] for s in store.list_sessions(limit=100)}

    assert codes == {KEEP}
    assert traces(other_url, CODE, ids["subjects"]) == {}
