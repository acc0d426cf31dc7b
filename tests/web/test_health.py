"""``GET /health`` on the real uvicorn server: no sign-in, no personal data, and its status
(ok / warning: 200, error: 503) from the database, the disks, failed writes and backups."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from addiction_index.store import open_store
from addiction_index.store.migrations import head_revision
from addiction_index.web import _health as health_module
from addiction_index.web import create_app
from tests.web.conftest import serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path]]:
    db = tmp_path_factory.mktemp("health") / "centre.sqlite"
    open_store(db).close()
    app = create_app(str(db))
    with serve(app) as url:
        yield url, app, db


def test_health_reports_database_disks_live_sessions_version_and_uptime(server) -> None:
    url, _, db = server
    answer = httpx.get(url + "/health", timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] in ("ok", "warning") and body["version"] and body["uptime_s"] >= 0
    database = body["database"]
    assert database["answers"] and database["revision"] == head_revision()
    assert database["up_to_date"] and 0 <= database["latency_ms"] < 5000
    assert [d["folder"] for d in body["disks"]] == ["data", "database"]
    assert all(d["free_bytes"] > 0 and 0 < d["free_pct"] <= 100 for d in body["disks"])
    assert body["live"] == {"assessments_running": 0, "exercises_running": 0, "devices": []}
    assert "last" in body["backup"] and body["last_write_error"] is None
    assert str(db) not in answer.text and str(db.parent) not in answer.text  # no paths


def test_an_almost_full_disk_or_a_failed_write_is_an_error(server, monkeypatch) -> None:
    url, app, _ = server
    monkeypatch.setattr(health_module, "DISK_ERROR_PCT", 100.1)  # every disk "almost full"
    answer = httpx.get(url + "/health", timeout=30)
    assert answer.status_code == 503 and answer.json()["status"] == "error"
    assert {d["status"] for d in answer.json()["disks"]} == {"error"}
    monkeypatch.setattr(health_module, "DISK_ERROR_PCT", 0.0)
    monkeypatch.setattr(health_module, "DISK_WARNING_PCT", 0.0)
    store_url = app.state.store.url
    message = f"writing scores failed on {store_url}: database or disk is full"
    monkeypatch.setattr(app.state.hub, "last_write_error", (time.time(), message))
    answer = httpx.get(url + "/health", timeout=30)
    assert answer.status_code == 503
    error = answer.json()["last_write_error"]
    assert error["error"] == "writing scores failed on the database: database or disk is full"
