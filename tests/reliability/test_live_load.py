"""The live server under load, in its own process (as ``benchmarks/soak_live.py`` runs it):
a short soak (residents through several sessions at high speed: memory flat, nothing lost) and
200 concurrent WebSocket viewers over 10 live residents (p99 latency within the web target)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from soak_live import soak

LATENCY_TARGET_MS = 250.0


@pytest.mark.slow
def test_a_short_soak_keeps_memory_flat_and_loses_nothing(capsys) -> None:
    result = soak(3, rounds=2, speed=40.0, log=lambda _: None)
    with capsys.disabled():
        print(f"\nsoak: {result}")
    store = result["store"]
    assert store["sessions"] == store["completed"] == store["expected"] == 6
    assert store["hops_min"] >= store["hops_expected_min"]
    # memory flat: the second half of the run peaks within 10 % (+ 20 MB) of the first half
    assert result["rss_mb_second_half_max"] <= 1.10 * result["rss_mb_first_half_max"] + 20
    assert result["p99_ms"] <= LATENCY_TARGET_MS  # at 40x speed, 3 residents = 120 in real time


@pytest.mark.slow
def test_200_websocket_viewers_keep_the_latency_target(capsys) -> None:
    result = soak(10, rounds=1, speed=1.0, viewers_per_resident=20, window=12.0,
                  log=lambda _: None)  # fmt: skip
    with capsys.disabled():
        print(
            f"\n200 viewers: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"max {result['max_ms']:.0f} ms, dropped {result['dropped_eeg_messages']}"
        )
    assert result["viewers"] == 200
    assert result["p99_ms"] <= LATENCY_TARGET_MS
