"""Live web app on loopback: WebSocket latency per load level, and how many live residents fit.

What is measured. The real server (``python -m addiction_index.cli serve``) runs in its own
process on 127.0.0.1 around a fresh SQLite file; one clinician signs in through the login form
(with its CSRF token) and starts N simulated assessments at speed 1 with ``POST
/residents/{code}/assess`` (the ``demo`` protocol, 8 minutes: the measurement window is much
shorter). This process then opens one WebSocket viewer per live resident on
``/ws/assessments/{live_id}`` (Cookie and Origin headers, as the clinician's page does; the
client offers permessage-deflate, as browsers do) and, after a warm-up, records for a window:

* **latency** of every ``eeg`` and ``hr`` message = this client's ``time.time()`` when the
  message is handed to it minus the message's ``recv`` = the server's ``time.time()`` when the
  session runner received those samples from the (simulated) device. That is: sample arrival at
  the server → channel → WebSocket → receipt by a client on loopback. The browser's parsing and
  drawing are *not* included, and neither is the time the samples wait in the runner's queue
  before ``recv`` is stamped; the simulated devices pace their packets in real time (Muse: 12
  EEG samples every ~47 ms, the strap once a second), so ``recv`` is when a real device's packet
  would have been taken in;
* **sched p99**: the same receipt time against the *device schedule* (session time of an EEG
  message's last sample), relative to that viewer's best message: it grows when the server
  falls behind real time before ``recv`` is stamped (the latency above cannot see that);
* **dropped**: EEG messages a viewer never received (a gap in the trace's timestamps; the server
  drops a slow viewer's oldest messages rather than block), inferred from ``t0``/``fs``;
* message rate; the server process's CPU (all threads, and its main thread = the event loop;
  100 % = one core) and RSS; this client's own CPU (it shares the machine with the server);
  the whole machine's CPU and what other processes used in the window.

Each level starts a new server on a fresh copy of the prepared database, so no stopped sessions,
stored samples or memory from the previous level skew the next one (a stopped assessment stays
in the server's hub for an hour with its buffers). At the end of a level every assessment is
stopped through ``POST /live/assessments/{live_id}/stop`` (with the form's CSRF field), then the
server is shut down gracefully.

Threshold rule: a level passes when the p99 latency and the p99 schedule lag are both <= 250 ms
(``--threshold-ms``): a server that falls behind real time delivers late samples however fast
they then travel. Levels run
in increasing order and stop after the first failing one; with ``--refine K`` (default 1) up to K
more levels bisect between the last pass and the first fail. The capacity is the largest passing
N; the first failing N is reported too, with whether the server (its event loop near 100 % of one
core) or this client was the limit.

Run (takes several minutes; nothing else heavy should run on the machine meanwhile)::

    python benchmarks/bench_web_live.py                  # levels 20, 40, 60, 80, 100, 140, 200
    python benchmarks/bench_web_live.py --levels 20,50,80 --warmup 10 --window 20
    python benchmarks/bench_web_live.py --quick          # levels 5 and 10, 5 s windows (smoke)
    python benchmarks/bench_web_live.py --json           # one JSON document on stdout
    python benchmarks/bench_web_live.py --profile DIR    # py-spy raw stacks of each window

Standalone: ``benchmarks/run.py`` collects ``Ratio`` records (ours vs a reference library) and
this benchmark has no reference, so it is not in ``run.py``'s list; :func:`run` returns the
per-level records for anyone who wants them in code. Nothing here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _live_server import (
    Collector,
    Server,
    code,
    machine_ticks,
    prepare_database,
    rss_mb,
    server_ticks,
    sign_in,
    viewer,
)

__all__ = ["LevelResult", "measure_level", "run"]

THRESHOLD_MS = 250.0
DEFAULT_LEVELS = (20, 40, 60, 80, 100, 140, 200)
QUICK_LEVELS = (5, 10)
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class LevelResult:
    """One load level: N live residents, each with one viewer."""

    residents: int
    viewers: int
    window_s: float
    messages: int  # eeg + hr messages in the window (all viewers)
    rate_per_s: float  # every message type, all viewers
    median_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    sched_p99_ms: float  # receipt vs device schedule, over each viewer's best message
    dropped: int  # EEG messages inferred missing in the window
    server_cpu_pct: float  # all threads; 100 = one core
    server_loop_cpu_pct: float  # the main thread: the event loop
    serverrss_mb: float
    client_cpu_pct: float
    machine_cpu_pct: float  # all cores busy, 100 = one core
    other_cpu_pct: float  # machine - server - client
    start_s: float  # time to start the N assessments through the form
    stop_s: float  # time to stop them through the form (concurrent requests)
    failed_sessions: int
    failure_reasons: list[str]
    stops_unanswered: int  # stop requests the server had not answered in 20 s
    passed: bool
    by_type: dict[str, int] = field(default_factory=dict)


# -- the machine -----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the numbers were measured on (as in ``run.py``, without the git commit)."""
    import fastapi
    import uvicorn
    import websockets

    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(ln.split(":", 1)[1].strip() for ln in info.splitlines() if "model name" in ln)
    except (OSError, StopIteration):
        pass
    extras = {}
    for name in ("uvloop", "httptools"):
        try:
            extras[name] = __import__(name).__version__
        except ImportError:
            extras[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "websockets": websockets.__version__,
        "fastapi": fastapi.__version__,
        **extras,
    }


# -- the database and the server -------------------------------------------------------------------
# -- the client ------------------------------------------------------------------------------------
async def _level(
    base_url: str, n: int, warmup: float, window: float, pid: int, compression: bool,
    profile: Path | None, log: Any,
) -> dict[str, Any]:  # fmt: skip
    """Start ``n`` assessments, watch them, measure the window, stop them."""
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(
        base_url=base_url, follow_redirects=False, timeout=120, limits=limits
    ) as client:
        csrf = await sign_in(client)
        t = time.monotonic()
        live_ids = []
        for i in range(n):  # one after the other, as a clinician would start them
            answer = await client.post(
                f"/residents/{code(i)}/assess",
                data={"csrf_token": csrf, "mode": "simulated", "craving": str(20 + (i * 7) % 70),
                      "seed": str(i), "speed": "1"},
            )  # fmt: skip
            if answer.status_code != 303:
                raise RuntimeError(f"starting {code(i)}: {answer.status_code}")
            live_ids.append(answer.headers["location"].rsplit("/", 1)[1])
        start_s = time.monotonic() - t
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        headers = {"Cookie": cookie, "Origin": base_url}
        ws_base = base_url.replace("http://", "ws://")
        out = Collector()
        readies = [asyncio.Event() for _ in live_ids]
        tasks = [
            asyncio.create_task(
                viewer(i, f"{ws_base}/ws/assessments/{lid}", headers, out, readies[i], compression)
            )
            for i, lid in enumerate(live_ids)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
        log(
            f"  {n} assessments started in {start_s:.1f} s, viewers connected; warm-up {warmup:g} s"
        )
        await asyncio.sleep(warmup)

        spy = None
        if profile is not None:
            spy = _start_py_spy(pid, window, profile / f"level-{n}.txt")
        server0, machine0, client0 = server_ticks(pid), machine_ticks(), os.times()
        wall0 = time.monotonic()
        out.in_window = True
        await asyncio.sleep(window)
        out.in_window = False
        elapsed = time.monotonic() - wall0
        server1, machine1, client1 = server_ticks(pid), machine_ticks(), os.times()
        rss = rss_mb(pid)
        if spy is not None:
            await asyncio.to_thread(spy.wait)

        t = time.monotonic()

        async def stop(lid: str) -> bool:
            """Stop one assessment; False when the server has not stopped it in 20 s."""
            try:
                answer = await client.post(
                    f"/live/assessments/{lid}/stop", data={"csrf_token": csrf}, timeout=20
                )
            except httpx.TimeoutException:
                return False
            if answer.status_code != 303:
                log(f"  stopping {lid}: {answer.status_code}")
            return True

        stopped = await asyncio.gather(*(stop(lid) for lid in live_ids))
        stop_s = time.monotonic() - t
        if not all(stopped):
            log(f"  {stopped.count(False)} stop request(s) unanswered after 20 s")
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        closed_early = sum(
            1
            for r in results
            if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError)
        )
        if closed_early:
            log(f"  {closed_early} viewer(s) ended with an error")

    def pct(ticks: float) -> float:
        return 100.0 * ticks / TICK / elapsed

    client_s = (client1.user + client1.system) - (client0.user + client0.system)
    machine_pct = pct(machine1[0] - machine0[0])  # /proc/stat sums every core
    server_pct = pct(server1[0] - server0[0])
    client_pct = 100.0 * client_s / elapsed
    lat = np.asarray(out.latency) * 1000.0
    sched = np.concatenate(
        [np.asarray(v) - out.best[i] for i, v in out.sched.items() if v and i in out.best]
        or [np.zeros(0)]
    ) * 1000.0  # fmt: skip

    def q(a: np.ndarray, p: float) -> float:
        return float(np.percentile(a, p)) if a.size else float("nan")

    return {
        "viewers": len(live_ids),
        "window_s": elapsed,
        "messages": int(lat.size),
        "rate_per_s": sum(out.counts.values()) / elapsed,
        "median_ms": q(lat, 50),
        "p90_ms": q(lat, 90),
        "p99_ms": q(lat, 99),
        "max_ms": float(lat.max()) if lat.size else float("nan"),
        "sched_p99_ms": q(sched, 99),
        "dropped": out.dropped,
        "server_cpu_pct": server_pct,
        "server_loop_cpu_pct": pct(server1[1] - server0[1]),
        "serverrss_mb": rss,
        "client_cpu_pct": client_pct,
        "machine_cpu_pct": machine_pct,
        "other_cpu_pct": max(0.0, machine_pct - server_pct - client_pct),
        "start_s": start_s,
        "stop_s": stop_s,
        "failed_sessions": len(out.failed),
        "failure_reasons": sorted(out.errors),
        "stops_unanswered": stopped.count(False),
        "by_type": dict(out.counts),
    }


def _py_spy() -> str | None:
    return shutil.which("py-spy")


def _start_py_spy(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes] | None:
    exe = _py_spy()
    if exe is None:
        return None
    cmd = [
        exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
        "--rate", "50", "--nonblocking", "--threads", "--format", "raw", "--output", str(path),
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure_level(
    folder: Path, template: Path, n: int, *, warmup: float, window: float,
    threshold_ms: float = THRESHOLD_MS, compression: bool = True, profile: Path | None = None,
    log: Any = print,
) -> LevelResult:  # fmt: skip
    """One level on a new server; see the module docstring."""
    server = Server(folder, template, f"level-{n}")
    try:
        server.wait_healthy()
        numbers = asyncio.run(
            _level(server.url, n, warmup, window, server.pid, compression, profile, log)
        )
    finally:
        server.close()
    # the server must also keep up with real time: a sample generated late is late however
    # quickly it then travels, so the schedule lag counts as well as the latency
    passed = (
        numbers["p99_ms"] <= threshold_ms
        and numbers["sched_p99_ms"] <= threshold_ms
        and numbers["viewers"] == n
    )
    return LevelResult(residents=n, passed=passed, **numbers)


def run(
    quick: bool = False, *, levels: tuple[int, ...] | None = None, warmup: float | None = None,
    window: float | None = None, refine: int | None = None, threshold_ms: float = THRESHOLD_MS,
    compression: bool = True, profile: Path | None = None, log: Any = print,
) -> list[LevelResult]:  # fmt: skip
    """Every level in increasing order until one fails, then ``refine`` bisection levels."""
    levels = tuple(sorted(levels or (QUICK_LEVELS if quick else DEFAULT_LEVELS)))
    warmup = warmup if warmup is not None else (3.0 if quick else 10.0)
    window = window if window is not None else (5.0 if quick else 20.0)
    refine = refine if refine is not None else (0 if quick else 1)
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        if _py_spy() is None:
            log("  py-spy not on PATH: no profiles")
    results: list[LevelResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-web-live-") as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        template = prepare_database(folder, max(levels))

        def one(n: int) -> LevelResult:
            log(f"level {n} residents")
            result = measure_level(
                folder, template, n, warmup=warmup, window=window, threshold_ms=threshold_ms,
                compression=compression, profile=profile, log=log,
            )  # fmt: skip
            log(
                f"  p50 {result.median_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, server CPU "
                f"{result.server_cpu_pct:.0f} % (loop {result.server_loop_cpu_pct:.0f} %), "
                f"client {result.client_cpu_pct:.0f} %: {'pass' if result.passed else 'FAIL'}"
            )
            results.append(result)
            return result

        for n in levels:
            if not one(n).passed:
                break
        for _ in range(refine):
            good = [r.residents for r in results if r.passed]
            bad = [r.residents for r in results if not r.passed]
            if not good or not bad:
                break
            low, high = max(good), min(bad)
            if high - low <= max(5, low // 10):
                break
            mid = (low + high) // 2
            one(mid)
    return sorted(results, key=lambda r: r.residents)


def capacity(results: list[LevelResult], threshold_ms: float = THRESHOLD_MS) -> dict[str, Any]:
    """The largest passing N, the first failing N, and which side was the limit there."""
    passed = [r.residents for r in results if r.passed]
    failed = [r for r in results if not r.passed]
    first_fail = min(failed, key=lambda r: r.residents) if failed else None
    limit = None
    if first_fail is not None:
        if first_fail.server_loop_cpu_pct >= 85:
            limit = "server (event loop near one full core)"
        elif first_fail.client_cpu_pct >= 85:
            limit = "client (this benchmark's own loop near one full core)"
        elif first_fail.machine_cpu_pct >= 180:
            limit = "machine (both cores busy)"
        else:
            limit = "unclear (no core saturated: look at the table)"
    return {
        "threshold_ms": threshold_ms,
        "capacity": max(passed) if passed else 0,
        "first_failing": first_fail.residents if first_fail else None,
        "limit": limit,
    }


def print_table(results: list[LevelResult], title: str, threshold_ms: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    cols = (
        "residents", "p50 ms", "p90 ms", "p99 ms", "max ms", "sched p99", "msg/s", "dropped",
        "server CPU", "loop CPU", "RSS MB", "client CPU", "others CPU", "p99 ≤ limit",
    )  # fmt: skip
    for col in cols:
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            str(r.residents), f"{r.median_ms:.1f}", f"{r.p90_ms:.1f}", f"{r.p99_ms:.1f}",
            f"{r.max_ms:.0f}", f"{r.sched_p99_ms:.0f}", f"{r.rate_per_s:,.0f}", str(r.dropped),
            f"{r.server_cpu_pct:.0f} %", f"{r.server_loop_cpu_pct:.0f} %",
            f"{r.serverrss_mb:.0f}", f"{r.client_cpu_pct:.0f} %", f"{r.other_cpu_pct:.0f} %",
            "yes" if r.passed else "[red]NO[/]",
        )  # fmt: skip
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(table)
    for r in results:
        if r.stops_unanswered or r.failed_sessions:
            console.print(
                f"[yellow]{r.residents} residents: {r.stops_unanswered} stop request(s) "
                f"unanswered after 20 s, {r.failed_sessions} session(s) failed[/]"
            )
    cap = capacity(results, threshold_ms)
    line = f"capacity: {cap['capacity']} live residents with p99 ≤ {threshold_ms:g} ms"
    if cap["first_failing"] is not None:
        line += f"; first over: {cap['first_failing']} (limit: {cap['limit']})"
    else:
        line += " (no level tested exceeded it)"
    console.print(line)
    console.print(
        "[dim]CPU: 100 % = one core; server = all its threads, loop = its main thread; "
        "sched p99 = receipt vs device schedule over each viewer's best message; "
        "dropped = EEG messages missing from the traces[/dim]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="levels 5 and 10, 5 s windows")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--levels", help="comma-separated resident counts, e.g. 20,40,80")
    parser.add_argument("--warmup", type=float, help="seconds before the window (default 10)")
    parser.add_argument("--window", type=float, help="seconds measured per level (default 20)")
    parser.add_argument("--refine", type=int, help="bisection levels after the first fail (1)")
    parser.add_argument("--threshold-ms", type=float, default=THRESHOLD_MS)
    parser.add_argument(
        "--no-compression", action="store_true", help="viewers do not offer permessage-deflate"
    )
    parser.add_argument("--profile", type=Path, help="py-spy raw stacks of each window here")
    args = parser.parse_args()
    levels = tuple(int(v) for v in args.levels.split(",")) if args.levels else None

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.time()
    results = run(
        args.quick, levels=levels, warmup=args.warmup, window=args.window, refine=args.refine,
        threshold_ms=args.threshold_ms, compression=not args.no_compression,
        profile=args.profile, log=log,
    )  # fmt: skip
    if args.json:
        document = {
            "started": started,
            "quick": args.quick,
            "compression": not args.no_compression,
            "machine": machine(),
            "levels": [asdict(r) for r in results],
            **capacity(results, args.threshold_ms),
        }
        print(json.dumps(document, indent=2))
    else:
        title = "Live web app on loopback: eeg/hr message latency (sample at server → client)"
        print_table(results, title, args.threshold_ms)


if __name__ == "__main__":
    main()
