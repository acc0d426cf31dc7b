"""A session killed with SIGKILL mid-way: the store keeps everything flushed before the kill,
loses at most the last second (the runner flushes once a wall-clock second), closes the session
as interrupted on the next start, and a new session then runs cleanly on the same file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from addiction_index.sessions import run_simulated_assessment
from addiction_index.store import open_store

REPO = Path(__file__).resolve().parents[2]
SPEED = 2.0  # session seconds per wall second: a flush every wall second = every 2 session s
FLUSH_S = 1.0  # the runner's flush period (wall s)
SLACK_S = 0.25  # the flush's own duration and one loop turn on a busy machine (wall s)


def _run_child(db: Path, flushes_before_kill: int) -> tuple[list[float], list[tuple], float]:
    """Start the child, kill it (SIGKILL) between two flushes; (hop times, markers, kill time)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._child_session", str(db), str(SPEED)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    hops: list[float] = []
    markers: list[tuple[float, str]] = []
    flushes = threading.Semaphore(0)

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            kind, *rest = line.split()
            if kind == "H":
                hops.append(float(rest[0]))
            elif kind == "M":
                markers.append((float(rest[0]), rest[1]))
            elif kind == "F":
                flushes.release()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(flushes_before_kill):
            assert flushes.acquire(timeout=120), "the child session did not flush"
        time.sleep(0.6)  # mid-way between two flushes
        child.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    reader.join(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return hops, markers, killed_at


@pytest.mark.slow
def test_sigkill_mid_session_loses_at_most_the_last_second(tmp_path: Path, capsys) -> None:
    db = tmp_path / "centre.sqlite"
    hops, markers, _ = _run_child(db, flushes_before_kill=3)
    assert len(hops) > 20, "the child computed too little to judge"

    with open_store(db) as store:
        with store.engine.connect() as conn:
            ((sid, origin, status),) = conn.execute(
                text("SELECT id, clock_origin, status FROM sessions")
            ).all()
            stored = np.array(conn.execute(
                text("SELECT t FROM scores WHERE session_id = :s AND kind = 'craving' ORDER BY t"),
                {"s": sid},
            ).scalars().all())  # fmt: skip
            stored_markers = set(conn.execute(
                text("SELECT label, round(t, 6) FROM markers WHERE session_id = :s"), {"s": sid}
            ).all())  # fmt: skip
        assert status == "running"  # as the kill left it
        # everything flushed is intact: the stored hops are exactly the first computed ones
        computed = np.array(hops) - origin
        assert stored.size > 0 and np.allclose(stored, computed[: stored.size], atol=1e-6)
        last_stored = stored[-1] + origin
        for t, label in markers:
            if t <= last_stored - 1e-6:
                assert (label, round(t - origin, 6)) in stored_markers, (label, t - origin)
        # at most the last (wall) second is lost
        lost_s = hops[-1] - last_stored  # session seconds
        lost_hops = len(hops) - stored.size
        with capsys.disabled():
            print(
                f"\nSIGKILL at speed {SPEED:g}: {lost_hops} of {len(hops)} hops lost, "
                f"{lost_s:.2f} session s = {lost_s / SPEED:.2f} wall s"
            )
        assert lost_s / SPEED <= FLUSH_S + SLACK_S

        # the next start closes it as interrupted, ending at its last stored data
        assert store.close_interrupted() == [sid]
        with store.engine.connect() as conn:
            status, = conn.execute(text("SELECT status FROM sessions WHERE id = :s"),
                                   {"s": sid}).one()  # fmt: skip
        assert status == "interrupted"

    # and a new session runs cleanly on the same file
    result = asyncio.run(run_simulated_assessment(subject="R-0002", craving=30.0, seed=5,
                                                  db=str(db)))  # fmt: skip
    assert result.outcome.completed and result.session_id != sid
