"""The login throttle in the database, shared by every server worker and process.

Each store below is opened separately (its own engine and connections), as two uvicorn workers
or two server processes on one database would be. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from addiction_index.errors import StorageError
from addiction_index.store import open_store
from addiction_index.store._database import create_store_engine
from addiction_index.store._login_throttle_schema import LoginThrottleRecord, throttle_key
from addiction_index.store.migrations import alembic_config, head_revision
from addiction_index.web import _auth
from addiction_index.web._auth import LoginThrottle, purge_login_failures
from addiction_index.web._db import transaction

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Clock:
    """A settable ``utc_now`` (the throttle's only source of time)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(_auth, "utc_now", clock)
    return clock


def _rows(store) -> list[LoginThrottleRecord]:
    with transaction(store, "reading") as session:
        return list(session.scalars(select(LoginThrottleRecord)))


def test_two_workers_share_the_count(store_url: str, clock: Clock) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        first = LoginThrottle(one, max_failures=3, base_s=2.0, max_s=900.0)
        second = LoginThrottle(two, max_failures=3, base_s=2.0, max_s=900.0)
        assert [first.failed("alice"), second.failed("Alice"), first.failed("ALICE")] == [1, 2, 3]
        assert first.retry_after("alice") == second.retry_after("alice") == 0.0  # at the limit
        assert second.failed("alice") == 4  # past it: locked for base_s, on both workers
        assert first.retry_after("alice") == pytest.approx(2.0)
        assert second.retry_after("alice") == pytest.approx(2.0)
        assert first.retry_after("bob") == 0.0
        clock.now += timedelta(seconds=1.5)
        assert first.retry_after("alice") == pytest.approx(0.5)
        assert first.failed("alice") == 5  # the delay doubles with each failure past the limit
        assert second.retry_after("alice") == pytest.approx(4.0)
        second.succeeded("alice")  # a success on one worker clears it for all
        assert first.retry_after("alice") == second.retry_after("alice") == 0.0
        assert first.failed("alice") == 1


def test_the_delay_doubles_up_to_the_cap(store_url: str, clock: Clock) -> None:
    with open_store(store_url) as store:
        throttle = LoginThrottle(store, max_failures=2, base_s=2.0, max_s=10.0)
        delays = []
        for _ in range(7):
            throttle.failed("carol")
            delays.append(throttle.retry_after("carol"))
        assert delays == pytest.approx([0.0, 0.0, 2.0, 4.0, 8.0, 10.0, 10.0])
        clock.now += timedelta(seconds=10)
        assert throttle.retry_after("carol") == 0.0


def test_rows_are_keyed_by_a_hash_not_the_username(store_url: str, clock: Clock) -> None:
    with open_store(store_url) as store:
        LoginThrottle(store, 5, 2.0, 900.0).failed("Dr.Zebulon")
        (row,) = _rows(store)
        assert row.name_hash == throttle_key("dr.zebulon") != "dr.zebulon"
        assert len(row.name_hash) == 64 and "zebulon" not in str(vars(row)).lower()
        assert (row.failures, row.locked_until, row.last_failure_at) == (1, None, T0)


def test_stale_rows_are_purged(store_url: str, clock: Clock) -> None:
    with open_store(store_url) as store:
        throttle = LoginThrottle(store, max_failures=1, base_s=2.0, max_s=365 * 86400.0)
        throttle.failed("old")
        for _ in range(40):  # locked for longer than the purge age
            throttle.failed("locked")
        clock.now += timedelta(hours=25)
        throttle.failed("recent")
        assert purge_login_failures(store) == 1
        assert {r.name_hash for r in _rows(store)} == {
            throttle_key("locked"),
            throttle_key("recent"),
        }
        assert throttle.retry_after("locked") > 0


def test_failed_purges_at_most_hourly(store_url: str, clock: Clock, monkeypatch) -> None:
    with open_store(store_url) as store:
        throttle = LoginThrottle(store, 5, 2.0, 900.0)
        throttle.failed("old")
        clock.now += timedelta(days=2)
        throttle.failed("new")
        assert len(_rows(store)) == 2  # not yet: the app purged on start
        monkeypatch.setattr(throttle, "_next_purge", 0.0)
        throttle.failed("new")
        assert [r.name_hash for r in _rows(store)] == [throttle_key("new")]


def test_concurrent_failures_are_all_counted(store_url: str) -> None:
    """Two workers failing the same name at once: no increment is lost (2 x 10 -> 20)."""
    per_thread, stores = 10, [open_store(store_url), open_store(store_url)]
    ready, counts, errors = threading.Barrier(len(stores)), [], []

    def fail(store) -> None:
        try:
            throttle = LoginThrottle(store, max_failures=5, base_s=2.0, max_s=900.0)
            ready.wait()
            counts.extend(throttle.failed("mallory") for _ in range(per_thread))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=fail, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sorted(counts) == list(range(1, 2 * per_thread + 1))  # each count seen once
        (row,) = _rows(stores[0])
        assert row.failures == 2 * per_thread
        assert LoginThrottle(stores[1], 5, 2.0, 900.0).retry_after("mallory") > 0
    finally:
        for store in stores:
            store.close()


def test_a_0001_database_gets_the_table(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            connection.execute(
                text("INSERT INTO subjects (code, created_at) VALUES ('R-OLD', :at)"), {"at": T0}
            )
        assert "login_throttle" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    with open_store(store_url) as store:
        assert store.subject("R-OLD") == 1
        LoginThrottle(store, 5, 2.0, 900.0).failed("erin")
        assert len(_rows(store)) == 1
        with store.engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == (
                head_revision()
            )


def test_a_created_throttle_table_with_other_columns_is_refused(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            connection.execute(text("CREATE TABLE login_throttle (username VARCHAR(64))"))
    finally:
        engine.dispose()
    with pytest.raises(StorageError, match="login_throttle exists but has the columns"):
        open_store(store_url)
