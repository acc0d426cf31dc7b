"""Sign-in, server-side sessions, CSRF tokens, login throttling and the access dependency.

Sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie (Secure when
``WebSettings.secure_cookies``); the ``web_sessions`` table holds only its SHA-256. A session
ends on logout, after ``idle_timeout`` without a request, or ``absolute_timeout`` after sign-in.

CSRF: the per-session token is HMAC-SHA256(session token, "csrf"), so it needs no storage and
cannot be derived from the database. Forms carry it in a hidden ``csrf_token`` field, JSON API
calls in an ``X-CSRF-Token`` header; the login form (before any session) uses a double-submit
cookie. SameSite=Strict cookies are a second line of defence.

Throttling: after ``max_login_failures`` failures for one username, further attempts are refused
for a delay doubling with each failure (capped), counted in memory per server process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Form, Header, HTTPException, Request, WebSocketException, status
from fastapi.requests import HTTPConnection
from sqlalchemy import delete, select

from addiction_index.store import SessionStore
from addiction_index.store._accounts_schema import UserRecord
from addiction_index.store._database import utc_now
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
    """Delete sessions past their idle or absolute timeout; return how many."""
    now = utc_now()
    with transaction(store, "purging web sessions") as session:
        result = session.execute(
            delete(WebSessionRecord).where(
                (WebSessionRecord.last_seen_at < now - settings.idle_timeout)
                | (WebSessionRecord.created_at < now - settings.absolute_timeout)
            )
        )
        return result.rowcount or 0


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
    """Failed logins per username, with an exponential lockout after too many."""

    def __init__(self, max_failures: int, base_s: float, max_s: float) -> None:
        self.max_failures, self.base_s, self.max_s = max_failures, base_s, max_s
        self._failures: dict[str, tuple[int, float]] = {}  # name → (count, locked until)
        self._lock = threading.Lock()

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may try again (0 when it may now)."""
        with self._lock:
            _, until = self._failures.get(name, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def failed(self, name: str) -> None:
        """Count a failure; lock the name once the count passes the limit."""
        with self._lock:
            count = self._failures.get(name, (0, 0.0))[0] + 1
            extra = count - self.max_failures
            delay = min(self.max_s, self.base_s * 2 ** (extra - 1)) if extra > 0 else 0.0
            self._failures[name] = (count, time.monotonic() + delay)
            if len(self._failures) > 10_000:  # bound the memory under a spray of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with self._lock:
            self._failures.pop(name, None)


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
