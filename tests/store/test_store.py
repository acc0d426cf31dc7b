"""Session store tests on real databases (no mocks): a SQLite file in ``tmp_path`` and, with
``$ADDICTION_INDEX_TEST_POSTGRES`` set, a fresh PostgreSQL database (``store_url``, conftest).
SQLite-only behaviour (WAL, file paths and permissions, a killed writer) stays SQLite-only."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs
import pytest
from sqlalchemy.engine import make_url

import addiction_index.store as store_pkg
from addiction_index.errors import InputError, StorageError
from addiction_index.signals import Marker
from addiction_index.store import (
    DB_ENV_VAR,
    SessionNotFoundError,
    SessionStore,
    open_store,
    resolve_database_url,
)

ORIGIN = 1000.0  # host monotonic seconds at the session start, in these tests


def _start(store: SessionStore, code: str = "R-001", **overrides: object) -> int:
    args: dict[str, object] = {
        "protocol_name": "cue-reactivity",
        "protocol_version": "1.0",
        "clock_origin": ORIGIN,
        "model_name": "default-index",
        "model_version": "0.1",
        "feature_spec_hash": "f" * 16,
        "seed": 42,
        "simulated": True,
        "meta": {"devices": [{"name": "Muse S", "address": "00:55:DA:B0:00:01"}]},
    }
    args.update(overrides)
    return store.start_session(code, **args)  # type: ignore[arg-type]


def _db_path(url: str) -> Path:
    return Path(make_url(url).database or "")


@pytest.fixture
def store(store_url: str):
    """An open store on a new database: SQLite, then PostgreSQL."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path):
    """An open store on a new SQLite file, ``tmp_path / "store.sqlite"``."""
    with open_store(tmp_path / "store.sqlite") as opened:
        yield opened


def test_public_api() -> None:
    assert sorted(store_pkg.__all__) == [
        "DB_ENV_VAR",
        "DEFAULT_DB_FILENAME",
        "SESSION_STATUSES",
        "SUBJECT_CODE_PATTERN",
        "SessionNotFoundError",
        "SessionStore",
        "XdfRecorder",
        "mask_url",
        "open_store",
        "resolve_database_url",
    ]
    for name in store_pkg.__all__:
        assert getattr(store_pkg, name) is not None
    assert issubclass(SessionNotFoundError, StorageError)


# -- where the database lives ----------------------------------------------------------------


def test_url_from_argument_path_creates_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "db.sqlite"
    url = resolve_database_url(path)
    assert url.startswith("sqlite:///")
    assert _db_path(url) == path
    assert path.parent.is_dir()


def test_url_relative_and_home_paths_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _db_path(resolve_database_url("rel/db.sqlite")) == tmp_path / "rel" / "db.sqlite"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home_db = _db_path(resolve_database_url("~/ai/db.sqlite"))
    assert home_db == Path(os.path.expanduser("~")) / "ai" / "db.sqlite"
    assert home_db.is_absolute() and home_db.parent.is_dir()


@pytest.mark.parametrize(
    "url",
    ["sqlite:////data/centre.sqlite", "postgresql+psycopg://ai:secret@db.example/centre"],
)
def test_urls_are_returned_unchanged(url: str, tmp_path: Path) -> None:
    assert resolve_database_url(url) == url


def test_url_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "env" / "centre.sqlite"))
    assert _db_path(resolve_database_url()) == tmp_path / "env" / "centre.sqlite"
    # an explicit argument wins over the environment
    assert _db_path(resolve_database_url(tmp_path / "arg.sqlite")) == tmp_path / "arg.sqlite"
    monkeypatch.setenv(DB_ENV_VAR, "postgresql+psycopg://ai@localhost/centre")
    assert resolve_database_url() == "postgresql+psycopg://ai@localhost/centre"


def test_default_url_in_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    calls: list[str] = []

    def fake_user_data_dir(appname: str) -> str:
        calls.append(appname)
        return str(tmp_path / "user-data" / appname)

    monkeypatch.setattr(platformdirs, "user_data_dir", fake_user_data_dir)
    path = _db_path(resolve_database_url())
    assert calls == ["addiction-index"]
    assert path == tmp_path / "user-data" / "addiction-index" / "addiction-index.sqlite"
    assert path.parent.is_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG layout is Linux-only")
def test_default_url_follows_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "share" / "addiction-index" / "addiction-index.sqlite"
    assert _db_path(resolve_database_url()) == expected


# -- opening and connection settings ---------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_foreign_keys(
    sqlite_store: SessionStore, tmp_path: Path
) -> None:
    with sqlite_store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
    # WAL is recorded in the file itself: a plain sqlite3 connection sees it too
    raw = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    finally:
        raw.close()
    assert {"subjects", "sessions", "markers", "scores", "block_summaries", "prescriptions"} <= (
        tables
    )


def test_unwritable_location_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "sub" / "db.sqlite"
    with pytest.raises(StorageError, match="not-a-folder"):
        open_store(target)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_read_only_folder_names_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StorageError, match="read-only"):
            open_store(folder / "db.sqlite")
    finally:
        folder.chmod(0o700)


def test_a_file_that_is_not_a_database_names_the_url(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is not a SQLite database" * 100)
    with pytest.raises(StorageError, match=r"notes\.sqlite"):
        open_store(path)


def test_password_is_masked_in_errors() -> None:
    # port 1 on localhost: refused at once, or the driver is not installed; either way no password
    with pytest.raises(StorageError) as caught:
        open_store("postgresql+psycopg://clinic:s3cr3t-pw@127.0.0.1:1/centre")
    assert "s3cr3t-pw" not in str(caught.value)
    assert "clinic:***@127.0.0.1" in str(caught.value)


# -- subjects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["Zhang San", "", "张三", "a", "x" * 33, "-R001", "R/001", None])
def test_subject_code_refuses_names_and_junk(store: SessionStore, code: object) -> None:
    with pytest.raises(InputError) as caught:
        store.subject(code)  # type: ignore[arg-type]
    assert caught.value.argument == "subject"
    assert "^[A-Za-z0-9]" in str(caught.value)
    assert store.count_sessions() == 0


def test_subject_get_or_create(store: SessionStore) -> None:
    first = store.subject("R-001")
    assert store.subject("R-001") == first
    assert store.subject("zs_2024") != first


def test_meta_refuses_personal_keys_without_echoing_values(store: SessionStore) -> None:
    with pytest.raises(InputError) as caught:
        _start(store, meta={"devices": [], "resident": {"first_name": "San"}})
    assert caught.value.argument == "meta"
    assert "San" not in str(caught.value)
    assert store.count_sessions() == 0


# -- sessions ----------------------------------------------------------------------------------


def _record(store: SessionStore, session_id: int) -> None:
    store.add_markers(
        session_id,
        [
            Marker(ORIGIN + 0.5, "block_start", block="baseline"),
            Marker(ORIGIN + 60.0, "block_start", block="cue", meta={"cue": "c03"}),
            Marker(ORIGIN + 90.0, "craving_rating", value=55.0),
        ],
    )
    store.add_scores(
        session_id,
        [
            (ORIGIN + 10.0, "craving", 20.0, 0.8, True),
            (ORIGIN + 20.0, "craving", 30.0, 0.9, True),
            (ORIGIN + 70.0, "craving", 60.0, 0.7, True),
            (ORIGIN + 80.0, "craving", float("nan"), 0.1, False),
            (ORIGIN + 80.0, "arousal", 40.0, None, True),
        ],
    )


def test_session_round_trip(store: SessionStore) -> None:
    session_id = _start(store)
    _record(store, session_id)
    store.add_block_summaries(
        session_id,
        [
            {"block": "baseline", "feature": "eeg_alpha_rel", "mean": 0.31, "sd": 0.04,
             "n_hops": 240, "n_usable": 230},
            {"block": "cue", "feature": "eeg_alpha_rel", "mean": 0.27, "sd": float("nan"),
             "n_hops": 120, "n_usable": 0},
        ],
    )  # fmt: skip
    index = {"status": "ok", "value": 62.5, "confidence": 0.71, "contributions": {"hrv": 0.4}}
    prescription = {"rule_set": "default", "version": "2024.1", "rules_fired": ["calm-music"]}
    store.finish_session(session_id, index=index, prescription=prescription)

    report = store.get_session(session_id)
    session = report["session"]
    assert session["id"] == session_id
    assert session["subject"] == "R-001"
    assert (session["status"], session["kind"]) == ("completed", "assessment")
    assert (session["protocol"], session["protocol_version"]) == ("cue-reactivity", "1.0")
    assert (session["model"], session["model_version"]) == ("default-index", "0.1")
    assert session["seed"] == 42 and session["simulated"] is True
    assert session["clock_origin"] == ORIGIN
    assert session["meta"]["devices"][0]["name"] == "Muse S"
    started = datetime.fromisoformat(session["started_at"])
    ended = datetime.fromisoformat(session["ended_at"])
    assert started.utcoffset() == timedelta(0) and ended >= started
    assert session["duration_s"] == pytest.approx((ended - started).total_seconds())
    assert (session["index_value"], session["index_confidence"]) == (62.5, 0.71)
    assert session["index_status"] == "ok"

    assert [(m["t"], m["label"], m["block"]) for m in report["markers"]] == [
        (0.5, "block_start", "baseline"),
        (60.0, "block_start", "cue"),
        (90.0, "craving_rating", None),
    ]
    assert report["markers"][1]["meta"] == {"cue": "c03"}
    assert report["markers"][2]["value"] == 55.0
    assert report["block_summaries"][0] == {
        "block": "baseline", "feature": "eeg_alpha_rel", "mean": 0.31, "sd": 0.04,
        "n_hops": 240, "n_usable": 230,
    }  # fmt: skip
    assert report["block_summaries"][1]["sd"] is None  # NaN is stored as NULL
    assert report["index"] == index
    assert report["prescription"] == prescription
    scores = report["scores"]
    assert scores["count"] == 5
    assert scores["by_kind"] == {"craving": 4, "arousal": 1}
    assert scores["craving_by_block"] == [
        {"block": "baseline", "n": 2, "n_usable": 2, "mean": 25.0},
        {"block": "cue", "n": 2, "n_usable": 1, "mean": 60.0},
    ]

    listed = store.list_sessions()
    assert len(listed) == 1
    assert listed[0]["id"] == session_id
    assert listed[0]["subject"] == "R-001"
    assert listed[0]["started_at"] == session["started_at"]
    assert (listed[0]["status"], listed[0]["protocol"]) == ("completed", "cue-reactivity")
    assert (listed[0]["index_value"], listed[0]["index_status"]) == (62.5, "ok")
    assert store.count_sessions() == 1


def test_list_sessions_newest_first_filtered_and_limited(store: SessionStore) -> None:
    ids = [_start(store, code) for code in ("R-001", "R-002", "R-001")]
    assert [s["id"] for s in store.list_sessions()] == ids[::-1]
    assert [s["id"] for s in store.list_sessions(subject="R-001")] == [ids[2], ids[0]]
    assert [s["id"] for s in store.list_sessions(limit=1)] == [ids[2]]
    assert store.list_sessions(subject="R-999") == []
    with pytest.raises(InputError, match="limit"):
        store.list_sessions(limit=0)


def test_index_without_baseline_and_nan_values(store: SessionStore) -> None:
    session_id = _start(store, seed=None, simulated=False)
    index = {"status": "no_baseline", "value": math.nan, "confidence": None}
    store.finish_session(session_id, status="failed", index=index)
    report = store.get_session(session_id)
    assert report["session"]["status"] == "failed"
    assert report["session"]["index_status"] == "no_baseline"
    assert report["session"]["index_value"] is None
    assert report["index"] == {"status": "no_baseline", "value": None, "confidence": None}
    assert report["prescription"] is None
    assert report["session"]["seed"] is None


def test_writes_are_visible_to_another_store_before_finish(store_url: str) -> None:
    with open_store(store_url) as writer, open_store(store_url) as reader:
        session_id = _start(writer)
        writer.add_markers(session_id, [Marker(ORIGIN + 1.0, "block_start", block="baseline")])
        seen = reader.get_session(session_id)
        assert seen["session"]["status"] == "running"
        assert [m["label"] for m in seen["markers"]] == ["block_start"]

        writer.add_scores(session_id, [(ORIGIN + 2.0, "craving", 12.0, 0.5, True)])
        assert reader.get_session(session_id)["scores"]["count"] == 1
        if store_url.startswith("sqlite"):
            # a plain sqlite3 connection, outside SQLAlchemy, sees the committed rows too
            raw = sqlite3.connect(_db_path(store_url))
            try:
                assert raw.execute("SELECT count(*) FROM markers").fetchone()[0] == 1
            finally:
                raw.close()

        writer.finish_session(session_id)
        assert reader.list_sessions()[0]["status"] == "completed"


def test_concurrent_first_opens_of_a_new_database(store_url: str) -> None:
    """Several processes (here threads with their own engines) start on a fresh database at
    once: one creates the tables under the migration lock, the others wait and find them."""
    path = store_url
    errors: list[BaseException] = []
    ready = threading.Barrier(6)

    def open_and_start() -> None:
        try:
            ready.wait()
            with open_store(path) as opened:
                _start(opened, "R-001")
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=open_and_start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with open_store(path) as opened:
        assert opened.count_sessions() == 6
        assert {s["subject"] for s in opened.list_sessions()} == {"R-001"}


def test_close_interrupted_after_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    script = textwrap.dedent(
        f"""
        import os
        from addiction_index.signals import Marker
        from addiction_index.store import open_store

        store = open_store({str(path)!r})
        sid = store.start_session(
            "R-007", protocol_name="cue-reactivity", protocol_version="1.0",
            clock_origin=500.0, model_name="m", model_version="1", feature_spec_hash="h",
        )
        store.add_markers(sid, [Marker(501.0, "block_start", block="baseline")])
        store.add_scores(sid, [(512.5, "craving", 20.0, 0.9, True)])
        print(sid, flush=True)
        os._exit(9)  # killed mid-session: no finish, no close
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 9, done.stderr
    session_id = int(done.stdout.strip())

    with open_store(path) as store:
        assert store.list_sessions()[0]["status"] == "running"
        assert store.close_interrupted() == [session_id]
        assert store.close_interrupted() == []  # closed once, cleanly
        report = store.get_session(session_id)
    session = report["session"]
    assert session["status"] == "interrupted"
    started = datetime.fromisoformat(session["started_at"])
    ended = datetime.fromisoformat(session["ended_at"])
    assert ended - started == pytest.approx(timedelta(seconds=12.5), abs=timedelta(milliseconds=1))
    assert [m["t"] for m in report["markers"]] == [1.0]
    assert report["scores"]["count"] == 1


def test_close_interrupted_spares_live_sessions_with_stale_after(store: SessionStore) -> None:
    live = _start(store)
    done = _start(store, "R-002")
    store.finish_session(done)
    assert store.close_interrupted(stale_after=3600.0) == []
    assert store.close_interrupted() == [live]
    report = store.get_session(live)["session"]
    assert report["status"] == "interrupted"
    assert report["ended_at"] == report["started_at"]  # no markers or scores: ends at its start
    assert store.get_session(done)["session"]["status"] == "completed"


def test_missing_session_and_finished_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError) as caught:
        store.get_session(999)
    assert caught.value.session_id == 999
    assert "999" in str(caught.value)
    with pytest.raises(SessionNotFoundError):
        store.add_markers(999, [Marker(ORIGIN, "x")])
    session_id = _start(store)
    store.finish_session(session_id)
    with pytest.raises(StorageError, match="already completed"):
        store.finish_session(session_id, status="failed")


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s, i: s.add_scores(i, [(ORIGIN, "craving", 1.0)]), "rows"),
        (lambda s, i: s.add_markers(i, [("not", "a marker")]), "markers"),
        (lambda s, i: s.add_block_summaries(i, [{"block": "cue"}]), "rows"),
        (lambda s, i: s.finish_session(i, status="running"), "status"),
        (lambda s, i: s.finish_session(i, index={"value": 1.0}), "index"),
        (lambda s, i: s.finish_session(i, prescription={"rules": []}), "prescription"),
        (lambda s, i: _start(s, clock_origin=math.nan), "clock_origin"),
        (lambda s, i: _start(s, seed=-1), "seed"),
        (lambda s, i: s.get_session("1"), "session_id"),
    ],
)
def test_bad_arguments_name_the_argument(store: SessionStore, call, argument: str) -> None:
    session_id = _start(store)
    with pytest.raises(InputError) as caught:
        call(store, session_id)
    assert caught.value.argument == argument
    assert store.get_session(session_id)["session"]["status"] == "running"
