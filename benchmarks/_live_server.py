"""What the live-server benchmarks and the reliability tests share: the real server in its own
process (``addiction-index serve`` on loopback around a copy of a prepared SQLite file), signing
in through the login form, WebSocket viewers that time every ``eeg``/``hr`` message, and the
server's CPU and memory from ``/proc``.

Used by ``bench_web_live.py``, ``soak_live.py`` and ``tests/reliability/test_live_load.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect

__all__ = [
    "CLINICIAN",
    "PASSWORD",
    "Collector",
    "Server",
    "code",
    "machine_ticks",
    "prepare_database",
    "rss_mb",
    "server_ticks",
    "sign_in",
    "viewer",
]

CLINICIAN = "benchclinician"
PASSWORD = "benchmark password for loopback only"


def _proc_ticks(path: str) -> int:
    """utime + stime of /proc/.../stat."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def server_ticks(pid: int) -> tuple[int, int]:
    """(all threads, main thread) CPU ticks of process ``pid``."""
    return _proc_ticks(f"/proc/{pid}/stat"), _proc_ticks(f"/proc/{pid}/task/{pid}/stat")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of every core."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def prepare_database(folder: Path, residents: int) -> Path:
    """A SQLite file with ``residents`` residents (B-0001 ...) and the clinician."""
    from addiction_index.store import open_store
    from addiction_index.web import add_user
    from addiction_index.web._db import ensure_tables

    db = folder / "template.sqlite"
    with open_store(db) as store:
        ensure_tables(store)
        for i in range(residents):
            store.subject(code(i))
        add_user(store, CLINICIAN, "clinician", PASSWORD)
    return db


def code(i: int) -> str:
    return f"B-{i + 1:04d}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``addiction-index serve`` in a child process on a fresh copy of the template database."""

    def __init__(self, folder: Path, template: Path, name: str) -> None:
        from cryptography.fernet import Fernet

        self.db = folder / f"{name}.sqlite"
        shutil.copyfile(template, self.db)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.pop("ADDICTION_INDEX_DB", None)
        env["ADDICTION_INDEX_DATA_DIR"] = str(folder / "data")  # no user folder touched
        env["ADDICTION_INDEX_IDENTITY_KEY"] = Fernet.generate_key().decode()
        self.log = open(folder / f"{name}.log", "wb")  # noqa: SIM115
        cmd = [
            sys.executable, "-m", "addiction_index.cli", "serve", "--db", str(self.db),
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=self.log, stderr=self.log)
        self.pid = self.proc.pid

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.flush()
                tail = Path(self.log.name).read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{tail}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /health in {timeout:g} s")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # graceful: the hub stops what still runs
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in through the form (double-submit CSRF); the session's CSRF token for forms."""
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/login", data={"username": CLINICIAN, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused ({answer.status_code})")
    return (await client.get("/api/me")).json()["csrf_token"]


class Collector:
    """What every viewer receives; latencies are kept only inside the window."""

    def __init__(self) -> None:
        self.in_window = False
        self.latency: list[float] = []
        self.sched: dict[int, list[float]] = {}
        self.best: dict[int, float] = {}
        self.counts: Counter[str] = Counter()
        self.dropped = 0
        self.failed: set[int] = set()
        self.errors: set[str] = set()  # what the failed sessions said


async def viewer(
    index: int, url: str, headers: dict[str, str], out: Collector, ready: asyncio.Event,
    compression: bool, until_done: bool = False,
) -> None:  # fmt: skip
    """One clinician page's socket: receive until closed (``until_done``: until the
    assessment is no longer running)."""
    expected_t0: float | None = None
    out.sched[index] = []
    async with connect(
        url,
        additional_headers=headers,
        compression="deflate" if compression else None,
        max_size=None,
        open_timeout=120,
    ) as ws:
        ready.set()
        async for text in ws:
            now = time.time()
            message = json.loads(text)
            kind = message["type"]
            window = out.in_window
            if window:
                out.counts[kind] += 1
            if kind == "eeg":
                fs, t0, n = message["fs"], message["t0"], len(message["samples"][0])
                behind = now - (t0 + (n - 1) / fs)  # constant offset + how late
                if behind < out.best.get(index, np.inf):
                    out.best[index] = behind
                if window:
                    out.latency.append(now - message["recv"])
                    out.sched[index].append(behind)
                    if expected_t0 is not None and t0 - expected_t0 > 0.5 / fs:
                        out.dropped += max(1, round((t0 - expected_t0) * fs / n))
                expected_t0 = t0 + n / fs
            elif kind == "hr":
                if window:
                    out.latency.append(now - message["recv"])
            elif kind == "state" and message["state"] == "failed":
                out.failed.add(index)
                out.errors.add(str(message.get("error")))
            ended = kind in ("hello", "state") and message["state"] not in ("starting", "running")
            if until_done and ended:
                return


@contextmanager
def quiet_collector() -> Iterator[None]:
    """No cyclic garbage collection in this load client while it measures: its pauses would
    count as server latency (a real viewer is a browser of its own). The server is untouched."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
