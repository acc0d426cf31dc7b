"""Sessions, CSRF, login throttling, identities, the audit log, logs and error pages."""

from __future__ import annotations

import inspect
import logging
import re
import stat
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import text
from typer.testing import CliRunner

from addiction_index._cli_users import users_app
from addiction_index.store import open_store
from addiction_index.web import (
    Identity,
    IdentityKeyError,
    WebSettings,
    create_app,
    load_identity_keys,
    read_audit,
    read_identity,
    verify,
)
from addiction_index.web import _audit as audit_module
from addiction_index.web._auth import session_user, start_session
from addiction_index.web._identity import save_identity
from tests.web.conftest import PASSWORD, SUBJECT, Centre, csrf, login, serve

NAME = "Zebulon Quixote-Vance"


def test_session_cookie_flags_and_logout(centre: Centre) -> None:
    with centre.client() as client:
        response = login(client, "coach")
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        token = client.cookies["ai_session"]
        with open_store(centre.db) as store:
            raw = store.engine.raw_connection()
            try:
                rows = raw.execute("SELECT token_hash FROM web_sessions").fetchall()
            finally:
                raw.close()
        assert token not in str(rows)  # only its hash is stored
        assert client.get("/").status_code == 200
        assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
        assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 303
        client.cookies.set("ai_session", token)
        assert client.get("/").status_code == 401  # the old token is dead


def test_idle_and_absolute_timeouts(centre: Centre) -> None:
    with open_store(centre.db) as store:
        user = verify(store, "coach", PASSWORD)
        assert user is not None
        token = start_session(store, user)
        assert session_user(store, token, WebSettings()) == user
        assert session_user(store, token, WebSettings(idle_timeout=timedelta(-1))) is None
        assert session_user(store, token, WebSettings()) is None  # deleted on expiry
        token = start_session(store, user)
        assert session_user(store, token, WebSettings(absolute_timeout=timedelta(-1))) is None


def test_csrf_on_forms_and_api(centre: Centre, clients: dict) -> None:
    clinician: httpx.Client = clients["clinician"]
    path = f"/residents/{SUBJECT}/identity"
    assert clinician.post(path, data={"name": NAME}).status_code == 403
    assert clinician.post(path, data={"name": NAME, "csrf_token": "x" * 64}).status_code == 403
    token = csrf(clinician)
    response = clinician.post(path, data={"name": NAME, "birth_date": "1990-02-03",
                                          "csrf_token": token})  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == path
    api = f"/api/prescriptions/{centre.prescription_id}/override"
    body = {"changes": {"exercise": {"type": "brisk walking"}}, "reason": "prefers walking"}
    assert clinician.post(api, json=body).status_code == 403
    assert clinician.post(api, json=body, headers={"X-CSRF-Token": "nope"}).status_code == 403
    ok = clinician.post(api, json=body, headers={"X-CSRF-Token": token})
    assert (
        ok.status_code == 200 and ok.json()["prescription"]["exercise"]["type"] == "brisk walking"
    )
    # the login form has its own double-submit token
    with centre.client() as anonymous:
        data = {"username": "coach", "password": PASSWORD, "csrf_token": "forged"}
        assert anonymous.post("/login", data=data).status_code == 403


def test_identity_encrypted_clinician_only_and_audited(centre: Centre, clients: dict) -> None:
    clinician = clients["clinician"]
    token = csrf(clinician)
    path = f"/residents/{SUBJECT}/identity"
    clinician.post(path, data={"name": NAME, "phone": "+1 555 0100", "csrf_token": token})
    page = clinician.get(path)
    assert page.status_code == 200 and NAME in page.text
    assert clients["coach"].get(path).status_code == 403
    for suffix in ("", "-wal"):  # neither the database nor its write-ahead log holds it
        file = Path(str(centre.db) + suffix)
        if file.exists():
            assert NAME.encode() not in file.read_bytes()
            assert b"555 0100" not in file.read_bytes()
    with open_store(centre.db) as store:
        entries = read_audit(store, action="read_identity")
        assert entries and entries[0]["actor"] == "clinician"
        assert entries[0]["target_id"] == SUBJECT
        assert NAME not in str(read_audit(store, limit=1000))
        keys = load_identity_keys(centre.key)
        assert read_identity(store, SUBJECT, keys).name == NAME
        with pytest.raises(IdentityKeyError, match="not loaded"):
            read_identity(store, SUBJECT, load_identity_keys(Fernet.generate_key()))


def test_identity_key_file_and_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADDICTION_INDEX_IDENTITY_KEY", raising=False)
    key_file = tmp_path / "keys" / "identity.key"
    keys = load_identity_keys(key_file=key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_identity_keys(key_file=key_file) == keys  # the same key next time
    old, new = keys.keys[0].decode(), Fernet.generate_key().decode()
    with open_store(tmp_path / "db.sqlite") as store:
        store.subject("R-0002")
        from addiction_index.web._db import ensure_tables

        ensure_tables(store)
        save_identity(store, "R-0002", Identity(name=NAME), keys)
        monkeypatch.setenv("ADDICTION_INDEX_IDENTITY_KEY", f"{new},{old}")
        rotated = load_identity_keys()
        assert read_identity(store, "R-0002", rotated).name == NAME  # found by its key id
    # a damaged record (or a key with a colliding id): a clear error, not a crash
    with pytest.raises(IdentityKeyError, match="does not decrypt"):
        keys.decrypt(b"gAAAAAdamaged", keys.current_id)
    with pytest.raises(IdentityKeyError, match="Fernet key"):
        load_identity_keys("not a key")
    key_file.chmod(0o644)
    monkeypatch.delenv("ADDICTION_INDEX_IDENTITY_KEY")
    with pytest.raises(IdentityKeyError, match="chmod 600"):
        load_identity_keys(key_file=key_file)


def test_login_failures_are_audited_and_throttled(centre: Centre) -> None:
    with centre.client() as client:
        for _ in range(5):
            assert login(client, "throttled", "wrong password!!").status_code == 401
        assert login(client, "throttled", "wrong password!!").status_code == 401  # 6th counts
        response = login(client, "throttled", PASSWORD)  # locked even with the right one
        assert response.status_code == 429 and "Retry-After" in response.headers
    with open_store(centre.db) as store:
        failures = read_audit(store, action="login_failure")
        assert {e["actor"] for e in failures} == {"throttled"}
        assert read_audit(store, action="login_throttled")
        assert "wrong password" not in str(read_audit(store, limit=1000))


def test_the_throttle_is_shared_by_every_worker(centre: Centre) -> None:
    """A second app on the same database (another worker or process) sees the same count."""
    other = create_app(str(centre.db), settings=WebSettings(identity_key=centre.key))
    with (
        serve(other) as other_url,
        centre.client() as first,
        httpx.Client(base_url=other_url, follow_redirects=False, timeout=30) as second,
    ):
        for k in range(6):  # 5 allowed, the 6th still answered: 3 through each worker
            assert login((first, second)[k % 2], "Sprayed-Name", "guess").status_code == 401
        for client in (first, second):
            response = login(client, "sprayed-name", "guess")
            assert response.status_code == 429 and "Retry-After" in response.headers
    with open_store(centre.db) as store, store.engine.connect() as connection:
        names = connection.execute(text("SELECT * FROM login_throttle")).all()
    assert names and "sprayed" not in str(names).lower()  # keyed by a hash, not the name


def test_audit_module_is_append_only() -> None:
    source = inspect.getsource(audit_module)
    assert not re.search(r"\b(update|delete)\s*\(", source, re.IGNORECASE)
    assert not re.search(r"\b(UPDATE|DELETE)\b", source)
    assert not re.search(r"\.delete\b|\bsetattr\b", source)


def test_every_view_and_decision_is_audited(centre: Centre, clients: dict) -> None:
    clients["clinician"].get(f"/sessions/{centre.session_id}")
    clients["researcher"].get(f"/api/sessions/{centre.session_id}")
    with open_store(centre.db) as store:
        actions = {(e["action"], e["role"]) for e in read_audit(store, limit=5000)}
    assert {("view_report", "clinician"), ("view_report", "researcher"),
            ("login_success", "coach")} <= actions  # fmt: skip
    assert ("override_prescription", "clinician") in actions
    assert ("set_identity", "clinician") in actions


def test_no_external_urls_in_pages_or_assets(centre: Centre, clients: dict) -> None:
    own = re.escape(centre.base_url)
    external = re.compile(rf"https?://(?!{own[len('http://') :]})", re.IGNORECASE)
    pages = {
        "clinician": ["/", "/residents", f"/residents/{SUBJECT}", f"/residents/{SUBJECT}/identity",
                      f"/sessions/{centre.session_id}", "/prescriptions/today", "/openapi.json",
                      f"/api/sessions/{centre.session_id}"],
        "coach": ["/", "/residents", f"/residents/{SUBJECT}", "/prescriptions/today"],
        "admin": ["/", "/audit", "/users"],
        None: ["/login", "/static/app.css", "/static/app.js", "/nowhere"],
    }  # fmt: skip
    for role, paths in pages.items():
        for path in paths:
            text = clients[role].get(path).text
            assert not external.search(text), (role, path, external.findall(text)[:3])
    assert "/static/app.css" in clients[None].get("/login").text


def _server_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the server logged (not the test's own httpx client)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("addiction_index", "uvicorn", "fastapi", "starlette"))
    )


def test_urls_logs_and_errors_carry_no_personal_data(
    centre: Centre, clients: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clinician = clients["clinician"]
    clinician.get("/residents", params={"q": NAME})
    not_found = clinician.get("/sessions/999999")
    assert not_found.status_code == 404 and "sqlite" not in not_found.text
    bad = clinician.post(f"/residents/{SUBJECT}/identity",
                         data={"name": NAME, "birth_date": "1990-13-45",
                               "csrf_token": csrf(clinician)})  # fmt: skip
    assert bad.status_code == 422 and "1990-13-45" not in bad.text
    log = _server_log(caplog)
    assert NAME not in log and "q=" not in log
    assert "GET /residents 200" in log  # the route template, not the URL


def test_unhandled_errors_show_a_generic_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = create_app(str(tmp_path / "boom.sqlite"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"identity of {NAME}, born 1990-02-03")

    caplog.set_level(logging.INFO)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        response = client.get("/boom")
        api = client.get("/api/nothing")
    assert response.status_code == 500
    assert NAME not in response.text and "RuntimeError" not in response.text
    assert "Something went wrong" in response.text
    assert api.status_code == 404 and api.json() == {"detail": "There is nothing here."}
    log = _server_log(caplog)
    assert "unhandled RuntimeError on GET /boom" in log
    assert NAME not in log and "1990-02-03" not in log


def test_users_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "users.sqlite")
    short = runner.invoke(users_app, ["add", "ana", "--role", "coach", "--password-stdin",
                                      "--db", db], input="short\n")  # fmt: skip
    assert short.exit_code == 2 and "12 characters" in short.output
    bad_role = runner.invoke(users_app, ["add", "ana", "--role", "nurse", "--db", db],
                             input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert bad_role.exit_code == 2
    prompted = runner.invoke(users_app, ["add", "ana", "--role", "coach", "--db", db],
                             input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output
    listed = runner.invoke(users_app, ["list", "--json", "--db", db])
    assert '"role": "coach"' in listed.output and "hash" not in listed.output
    assert runner.invoke(users_app, ["deactivate", "ana", "--db", db]).exit_code == 0
    with open_store(db) as store:
        assert verify(store, "ana", PASSWORD) is None
        raw = store.engine.raw_connection()
        try:
            stored = raw.execute("SELECT password_hash FROM users").fetchone()[0]
        finally:
            raw.close()
    assert stored.startswith("$argon2id$")
