"""The store clock: ``simulated_now`` dates every write, in every thread, and is restored."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest

from addiction_index.errors import InputError
from addiction_index.store import open_store
from addiction_index.store._database import simulated_now, utc_now
from addiction_index.store._programme_store import ProgrammeRecords

PAST = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
SESSION = {
    "protocol_name": "demo",
    "protocol_version": "1.0",
    "clock_origin": 0.0,
    "model_name": "m",
    "model_version": "1",
    "feature_spec_hash": "h",
}


def _is_real(when: datetime) -> bool:
    return abs(when - datetime.now(UTC)) < timedelta(seconds=5)


def test_writes_inside_carry_the_simulated_time_and_it_is_restored(store_url: str) -> None:
    with open_store(store_url) as store:
        with simulated_now(PAST):
            assert utc_now() == PAST
            session_id = store.start_session("R-0001", **SESSION)
            # worker threads see it too (the runner writes from asyncio.to_thread)
            with ThreadPoolExecutor(1) as pool:
                assert pool.submit(utc_now).result() == PAST
            assert asyncio.run(asyncio.to_thread(utc_now)) == PAST
            ProgrammeRecords(store).record_intake("R-0001", {"age": 30})  # a column default
            store.finish_session(
                session_id, status="completed", index={"status": "ok", "value": 1, "confidence": 0}
            )
        assert _is_real(utc_now())
        row = store.get_session(session_id)["session"]
        assert datetime.fromisoformat(row["started_at"]) == PAST
        assert datetime.fromisoformat(row["ended_at"]) == PAST
        later = store.start_session("R-0002", **SESSION)
        assert _is_real(datetime.fromisoformat(store.get_session(later)["session"]["started_at"]))


def test_a_function_nests_and_restores_even_on_error() -> None:
    ticks = iter(range(10))
    with simulated_now(lambda: PAST + timedelta(minutes=next(ticks))):
        assert utc_now() == PAST
        assert utc_now() == PAST + timedelta(minutes=1)
        with pytest.raises(RuntimeError), simulated_now(PAST - timedelta(days=1)):
            assert utc_now() == PAST - timedelta(days=1)
            raise RuntimeError
        assert utc_now() == PAST + timedelta(minutes=2)
    assert _is_real(utc_now())
    east = timezone(timedelta(hours=8))
    with simulated_now(PAST.astimezone(east)):
        assert utc_now() == PAST and utc_now().tzinfo == UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(InputError), simulated_now(datetime(2024, 1, 1)):
        pass
    with simulated_now(lambda: datetime(2024, 1, 1)), pytest.raises(InputError):
        utc_now()
    assert _is_real(utc_now())
