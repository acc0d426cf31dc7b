"""Soak and fan-out of the live web app: many simulated residents, many WebSocket viewers.

The real server runs in its own process (``_live_server.Server``) on loopback. Each of
``--residents`` simulated residents runs the ``demo`` protocol (8 simulated minutes) at
``--speed``, again and again until ``--simulated-hours`` of sessions each are done; every live
assessment has ``--viewers-per-resident`` WebSocket viewers (clinician, second display,
coach...). Measured per round: the server's RSS and the viewers' latency (sample received by the
server → message received by a viewer, as ``bench_web_live.py`` defines it). At the end the
database is checked: every session completed, with every hop's craving score stored (nothing
lost). With ``--window S`` the sessions are instead stopped after S wall seconds (the fan-out
measurement: latency only).

    python benchmarks/soak_live.py --residents 50 --simulated-hours 1 --speed 10
    python benchmarks/soak_live.py --residents 10 --viewers-per-resident 20 --speed 1 --window 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _live_server import (
    Collector,
    Server,
    code,
    prepare_database,
    quiet_collector,
    rss_mb,
    sign_in,
    viewer,
)

__all__ = ["soak"]

DEMO_S = 480.0  # the demo protocol's length (simulated s)
HOP_S = 0.25


def _q(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, p)) if values else math.nan


async def _resident(
    client: httpx.AsyncClient, csrf: str, i: int, rounds: int, speed: float, viewers: int,
    base: str, headers: dict[str, str], out: list[Collector], window: float | None,
) -> int:  # fmt: skip
    """Run ``rounds`` sessions of resident ``i`` one after the other; the sessions started."""
    started = 0
    for r in range(rounds):
        while len(out) <= r:
            out.append(Collector())
        collector = out[r]
        collector.in_window = True
        answer = await client.post(
            f"/residents/{code(i)}/assess",
            data={"csrf_token": csrf, "mode": "simulated", "craving": str(20 + (i * 7) % 70),
                  "seed": str(i * 100 + r), "speed": f"{speed:g}"},
        )  # fmt: skip
        if answer.status_code != 303:
            raise RuntimeError(f"starting {code(i)}: {answer.status_code} {answer.text[:200]}")
        started += 1
        live_id = answer.headers["location"].rsplit("/", 1)[1]
        url = base + f"/ws/assessments/{live_id}"
        ready = [asyncio.Event() for _ in range(viewers)]
        tasks = [
            asyncio.create_task(viewer(i * 1000 + k, url, headers, collector, ready[k], True, True))
            for k in range(viewers)
        ]
        if window is not None:
            await asyncio.sleep(window)
            await client.post(f"/live/assessments/{live_id}/stop", data={"csrf_token": csrf})
        done = await asyncio.gather(*tasks, return_exceptions=True)  # sockets close at the end
        errors = [d for d in done if isinstance(d, Exception)]
        if errors:
            raise RuntimeError(f"{len(errors)} viewer(s) of {code(i)} failed: {errors[0]!r}")
    return started


def _check_store(db: Path, expected: int) -> dict[str, Any]:
    """Every session completed with all its hops' craving scores."""
    from sqlalchemy import text

    from addiction_index.store import open_store

    with open_store(db) as store, store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.status, count(c.id) FROM sessions s LEFT JOIN scores c ON "
                "c.session_id = s.id AND c.kind = 'craving' GROUP BY s.id"
            )
        ).all()
    full = round(DEMO_S / HOP_S) - 7  # hops from the first full EEG window (2 s) to the end
    return {
        "sessions": len(rows),
        "expected": expected,
        "completed": sum(1 for status, _ in rows if status == "completed"),
        "hops_min": min((n for _, n in rows), default=0),
        "hops_expected_min": full,
    }


async def _soak(server: Server, residents: int, rounds: int, speed: float, viewers: int,
                window: float | None, log: Any) -> dict[str, Any]:  # fmt: skip
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        csrf = await sign_in(client)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
            "Origin": server.url,
        }
        base = server.url.replace("http://", "ws://")
        rounds_out: list[list[Collector]] = [[] for _ in range(residents)]
        rss: list[float] = [rss_mb(server.pid)]
        t0 = time.monotonic()

        async def sample_rss() -> None:
            while True:
                await asyncio.sleep(2.0)
                rss.append(rss_mb(server.pid))

        sampler = asyncio.create_task(sample_rss())
        try:
            started = await asyncio.gather(*(
                _resident(client, csrf, i, rounds, speed, viewers, base, headers,
                          rounds_out[i], window)
                for i in range(residents)
            ))  # fmt: skip
        finally:
            sampler.cancel()
        rss.append(rss_mb(server.pid))
        health = (await client.get("/health")).json()
    wall = time.monotonic() - t0
    per_round = []
    for r in range(rounds):
        lat = [x for res in rounds_out for x in (res[r].latency if r < len(res) else [])]
        per_round.append({"round": r + 1, "messages": len(lat), "p50_ms": _q(lat, 50),
                          "p99_ms": _q(lat, 99)})  # fmt: skip
    everything = [x for res in rounds_out for c in res for x in c.latency]
    dropped = sum(c.dropped for res in rounds_out for c in res)
    failed = sum(len(c.failed) for res in rounds_out for c in res)
    log(f"  {sum(started)} sessions in {wall:.0f} s wall")
    return {
        "residents": residents, "viewers": residents * viewers, "speed": speed,
        "rounds": rounds, "sessions": sum(started), "wall_s": round(wall, 1),
        "rss_mb_start": rss[0], "rss_mb_end": rss[-1], "rss_mb_max": max(rss),
        # flat memory: the second half of the run peaks no higher than the first half did
        # (the first half holds the warm-up: imports, compiled kernels, caches)
        "rss_mb_first_half_max": max(rss[: max(1, len(rss) // 2)]),
        "rss_mb_second_half_max": max(rss[len(rss) // 2 :]),
        "p50_ms": _q(everything, 50), "p99_ms": _q(everything, 99),
        "max_ms": float(np.max(everything) * 1000) if everything else math.nan,
        "dropped_eeg_messages": dropped, "failed_viewers": failed, "per_round": per_round,
        "health_status": health["status"],
    }  # fmt: skip


def soak(
    residents: int, *, simulated_hours: float | None = None, rounds: int | None = None,
    speed: float = 10.0, viewers_per_resident: int = 1, window: float | None = None,
    log: Any = print,
) -> dict[str, Any]:  # fmt: skip
    """Run the soak (see the module docstring) and return its numbers."""
    if rounds is None:
        rounds = max(1, math.ceil((simulated_hours or 1.0) * 3600 / DEMO_S))
    with tempfile.TemporaryDirectory(prefix="soak-live-") as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        template = prepare_database(folder, residents)
        server = Server(folder, template, "soak")
        try:
            server.wait_healthy()
            with quiet_collector():
                result = asyncio.run(
                    _soak(server, residents, rounds, speed, viewers_per_resident, window, log)
                )
        finally:
            server.close()
        log_tail = Path(server.log.name).read_text(errors="replace")
        result["server_warnings"] = [ln for ln in log_tail.splitlines() if "WARNING" in ln][-5:]
        if window is None:
            result["store"] = _check_store(server.db, residents * rounds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--simulated-hours", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=10.0, help="1 = real time, up to 100")
    parser.add_argument("--viewers-per-resident", type=int, default=1)
    parser.add_argument("--window", type=float, help="stop each session after S wall s")
    args = parser.parse_args()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result = soak(
        args.residents, simulated_hours=args.simulated_hours, speed=args.speed,
        viewers_per_resident=args.viewers_per_resident, window=args.window, log=log,
    )  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
