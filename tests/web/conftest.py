"""A real uvicorn server on 127.0.0.1 around a SQLite file with one simulated resident."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from addiction_index.sessions import run_simulated_assessment
from addiction_index.sessions._exercise import exercise_target, run_simulated_exercise
from addiction_index.store import open_store
from addiction_index.store._programme_store import ProgrammeRecords
from addiction_index.web import WebSettings, add_user, create_app
from addiction_index.web._db import ensure_tables

SUBJECT = "R-0001"
PASSWORD = "correct horse battery staple"
ROLES = ("clinician", "coach", "researcher", "case-manager", "admin")


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Centre:
    base_url: str
    db: Path
    app: FastAPI
    key: str
    session_id: int
    prescription_id: int

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form (with its double-submit CSRF token)."""
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def csrf(client: httpx.Client) -> str:
    """The session's CSRF token (from the API)."""
    return client.get("/api/me").json()["csrf_token"]


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """One resident with a real simulated assessment and exercise session, one user per role,
    and the app served by uvicorn."""
    db = tmp_path_factory.mktemp("web") / "centre.sqlite"
    result = asyncio.run(
        run_simulated_assessment(subject=SUBJECT, craving=60.0, seed=1, db=str(db))
    )
    with open_store(db) as store:
        target = exercise_target(None, SUBJECT, zone=(117, 139), minutes=5)
        asyncio.run(run_simulated_exercise(SUBJECT, target, store, seed=1))
        ensure_tables(store)
        for role in ROLES:
            add_user(store, role.replace("-", ""), role, PASSWORD)
        add_user(store, "throttled", "coach", PASSWORD)
        prescription_id = ProgrammeRecords(store).prescriptions(SUBJECT)[-1]["id"]
    key = Fernet.generate_key().decode()
    # no start-up warm-up: a server per test module, and the load tests cover it
    app = create_app(str(db), settings=WebSettings(identity_key=key, warm_up=False))
    with serve(app) as base_url:
        yield Centre(base_url, db, app, key, result.session_id, prescription_id)


@pytest.fixture(scope="module")
def clients(centre: Centre) -> Iterator[dict[str, httpx.Client]]:
    """A signed-in client per role, and ``None`` → an anonymous one."""
    out: dict = {}
    for role in ROLES:
        client = centre.client()
        assert login(client, role.replace("-", "")).status_code == 303
        out[role] = client
    out[None] = centre.client()
    yield out
    for client in out.values():
        client.close()
