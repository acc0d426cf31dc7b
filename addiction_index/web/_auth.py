"""Sign-in, server-side sessions, CSRF tokens, login throttling and the access dependency.

Sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie (Secure when
``WebSettings.secure_cookies``); the ``web_sessions`` table holds only its SHA-256. A session
ends on logout, after ``idle_timeout`` without a request, or ``absolute_timeout`` after sign-in.

CSRF: the per-session token is HMAC-SHA256(session token, "csrf"), so it needs no storage and
cannot be derived from the database. Forms carry it in a hidden ``csrf_token`` field, JSON API
calls in an ``X-CSRF-Token`` header; the login form (before any session) uses a double-submit
cookie. SameSite=Strict cookies are a second line of defence.

Throttling: after ``max_login_failures`` failures for one username, further attempts are refused
for a delay doubling with each failure (capped). The counts live in the ``login_throttle`` table,
keyed by a SHA-256 of the case-folded username (never the name itself), so every worker and
process of the server shares them: running several does not multiply an attacker's attempts.
Each failure is one atomic UPSERT (``INSERT ... ON CONFLICT DO UPDATE SET failures = failures +
1``), so concurrent failures are all counted; lock times are UTC wall-clock times from
:func:`~addiction_index.store._database.utc_now`, so processes agree. Rows with no failure for a
day and no lock left are purged on start and, at most hourly, on later failures.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Form, Header, HTTPException, Request, WebSocketException, status
from fastapi.requests import HTTPConnection
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from addiction_index.store import SessionStore
from addiction_index.store._accounts_schema import UserRecord
from addiction_index.store._database import utc_now
from addiction_index.store._login_throttle_schema import (
    STALE_AFTER,
    LoginThrottleRecord,
    throttle_key,
)
from addiction_index.store._web_sessions_schema import WebSessionRecord
from addiction_index.web._access import ACCESS
from addiction_index.web._accounts import User
from addiction_index.web._db import transaction

__all__ = [
    "SESSION_COOKIE",
    "CurrentUser",
    "LoginThrottle",
    "WebSettings",
    "csrf_form",
    "csrf_header",
    "csrf_token_for",
    "end_session",
    "purge_login_failures",
    "require_access",
    "start_session",
]

SESSION_COOKIE = "ai_session"
LOGIN_CSRF_COOKIE = "ai_login_csrf"
_TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class WebSettings:
    """Settings of one app instance (the defaults suit a centre's local network)."""

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    secure_cookies: bool = False  # True when served over https (or behind a TLS proxy)
    max_login_failures: int = 5
    lockout_base_s: float = 2.0
    lockout_max_s: float = 900.0
    identity_key: str | None = None  # else $ADDICTION_INDEX_IDENTITY_KEY, else the key file
    identity_key_file: Path | None = None
    # load the live path and freeze the heap at start-up (see web/_warmup.py); tests that start
    # many short-lived apps may switch it off
    warm_up: bool = True
    lang: str | None = None  # "en" or "zh-CN" for every page; None: the browser's Accept-Language


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 keyed by the session token."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def start_session(store: SessionStore, user: User) -> str:
    """Create a session for ``user`` and return its token (for the cookie only)."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with transaction(store, "starting a web session") as session:
        session.add(
            WebSessionRecord(token_hash=_hash(token), user_id=user.id, created_at=now,
                             last_seen_at=now)
        )  # fmt: skip
    return token


def end_session(store: SessionStore, token: str) -> None:
    """Delete the session of ``token`` (logout)."""
    with transaction(store, "ending a web session") as session:
        session.execute(delete(WebSessionRecord).where(WebSessionRecord.token_hash == _hash(token)))


def purge_expired(store: SessionStore, settings: WebSettings) -> int:
    """Delete sessions past their idle or absolute timeout; return how many.

    Stale login-throttle rows (see :func:`purge_login_failures`) go in the same transaction.
    """
    now = utc_now()
    with transaction(store, "purging web sessions") as session:
        result = session.execute(
            delete(WebSessionRecord).where(
                (WebSessionRecord.last_seen_at < now - settings.idle_timeout)
                | (WebSessionRecord.created_at < now - settings.absolute_timeout)
            )
        )
        _purge_login_failures(session, now)
        return result.rowcount or 0


def _purge_login_failures(session: Session, now: datetime) -> int:
    t = LoginThrottleRecord
    result = session.execute(
        delete(t).where(
            t.last_failure_at < now - STALE_AFTER,
            t.locked_until.is_(None) | (t.locked_until <= now),
        )
    )
    return result.rowcount or 0


def purge_login_failures(store: SessionStore) -> int:
    """Delete the login-throttle rows with no failure for a day and no lock left; how many."""
    with transaction(store, "purging the login throttle") as session:
        return _purge_login_failures(session, utc_now())


def session_user(store: SessionStore, token: str, settings: WebSettings) -> User | None:
    """The active user of a valid, unexpired session ``token``, refreshing its idle clock."""
    now = utc_now()
    with transaction(store, "reading a web session") as session:
        row = session.execute(
            select(WebSessionRecord, UserRecord)
            .join(UserRecord, UserRecord.id == WebSessionRecord.user_id)
            .where(WebSessionRecord.token_hash == _hash(token))
        ).first()
        if row is None:
            return None
        record, user = row
        expired = (
            now - record.last_seen_at > settings.idle_timeout
            or now - record.created_at > settings.absolute_timeout
        )
        if expired or not user.active:
            session.delete(record)
            return None
        if now - record.last_seen_at > _TOUCH_EVERY:
            record.last_seen_at = now
        return User(user.id, user.username, user.role, bool(user.active))


class LoginThrottle:
    """Failed logins per username, with an exponential lockout after too many.

    The counts are rows of ``store`` (table ``login_throttle``), shared by every instance on the
    same database: one per server worker or process. Names are case-folded, then hashed.
    """

    #: How often (per instance, at most) :meth:`failed` also purges stale rows.
    PURGE_EVERY_S = 3600.0

    def __init__(self, store: SessionStore, max_failures: int, base_s: float, max_s: float) -> None:
        self.store = store
        self.max_failures, self.base_s, self.max_s = max_failures, base_s, max_s
        self._next_purge = time.monotonic() + self.PURGE_EVERY_S  # the app purges on start

    def delay_s(self, failures: int) -> float:
        """The lockout after the ``failures``-th failure: 0 up to the limit, then doubling."""
        extra = failures - self.max_failures
        return min(self.max_s, self.base_s * 2 ** (extra - 1)) if extra > 0 else 0.0

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may try again (0 when it may now)."""
        with transaction(self.store, "reading the login throttle") as session:
            until = session.scalar(
                select(LoginThrottleRecord.locked_until).where(
                    LoginThrottleRecord.name_hash == throttle_key(name)
                )
            )
        return 0.0 if until is None else max(0.0, (until - utc_now()).total_seconds())

    def failed(self, name: str) -> int:
        """Count a failure; lock the name once the count passes the limit; return the count.

        One transaction: an UPSERT adds 1 to the row's count (a conflicting concurrent failure
        waits for the row lock on PostgreSQL, or for SQLite's write lock, then adds its own 1)
        and returns the new count, from which the lock time is set while the row is still locked.
        """
        key, now = throttle_key(name), utc_now()
        table = LoginThrottleRecord.__table__
        dialect = self.store.engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the store supports two
            raise NotImplementedError(f"login throttling on {dialect}")
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).values(name_hash=key, failures=1, last_failure_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.name_hash],
            set_={
                "failures": table.c.failures + 1,
                "last_failure_at": stmt.excluded.last_failure_at,
            },
        ).returning(table.c.failures)
        with transaction(self.store, "counting a failed login") as session:
            count = session.execute(stmt).scalar_one()
            delay = self.delay_s(count)
            if delay > 0:
                session.execute(
                    update(table)
                    .where(table.c.name_hash == key)
                    .values(locked_until=now + timedelta(seconds=delay))
                )
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + self.PURGE_EVERY_S
            purge_login_failures(self.store)
        return count

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with transaction(self.store, "clearing the login throttle") as session:
            session.execute(
                delete(LoginThrottleRecord).where(
                    LoginThrottleRecord.name_hash == throttle_key(name)
                )
            )


def current_user(conn: HTTPConnection) -> User | None:
    """The signed-in user of this request, or None (looked up once per request)."""
    if "ai_user" not in conn.scope:
        token = conn.cookies.get(SESSION_COOKIE)
        app = conn.app
        user = session_user(app.state.store, token, app.state.settings) if token else None
        conn.scope["ai_user"] = user
    return conn.scope["ai_user"]


def _route_path(conn: HTTPConnection) -> str:
    route = conn.scope.get("route")
    return getattr(route, "path", "")


def require_access(conn: HTTPConnection) -> User:
    """The dependency every router uses: 401 unless signed in, 403 unless the user's role is
    in :data:`ACCESS` for this route (a route missing from the table is refused to everyone).

    On a WebSocket the refusal closes the socket with code 1008 (policy violation).
    """
    is_ws = conn.scope["type"] == "websocket"
    user = current_user(conn)
    if user is None:
        if is_ws:
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "not signed in")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    if user.role not in ACCESS.get(_route_path(conn), frozenset()):
        if is_ws:
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "not allowed")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for your role")
    return user


CurrentUser = Annotated[User, Depends(require_access)]


def _check_csrf(conn: HTTPConnection, given: str) -> None:
    token = conn.cookies.get(SESSION_COOKIE, "")
    if not token or not given or not hmac.compare_digest(csrf_token_for(token), given):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def csrf_form(request: Request, user: CurrentUser, csrf_token: Annotated[str, Form()] = "") -> User:
    """For HTML form POSTs: the signed-in user, after checking the hidden ``csrf_token``."""
    _check_csrf(request, csrf_token)
    return user


def csrf_header(
    request: Request,
    user: CurrentUser,
    x_csrf_token: Annotated[str, Header(alias="X-CSRF-Token")] = "",
) -> User:
    """For JSON API POSTs: the signed-in user, after checking the ``X-CSRF-Token`` header."""
    _check_csrf(request, x_csrf_token)
    return user
