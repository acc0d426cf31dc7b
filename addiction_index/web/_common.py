"""Helpers shared by the page and API routes: the store, rendering, identity keys, 404s."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse

from addiction_index.store import SessionNotFoundError, SessionStore
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.web._accounts import User
from addiction_index.web._auth import SESSION_COOKIE, csrf_form, csrf_token_for
from addiction_index.web._identity import IdentityKeys
from addiction_index.web._views import resident_exists

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
#: A resident's pseudonymous code in a route's path.
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
#: The signed-in user of an HTML form POST, after its CSRF check.
CsrfUser = Annotated[User, Depends(csrf_form)]


def store_of(request: Request) -> SessionStore:
    """The app's store."""
    return request.app.state.store


def exercise_of(request: Request) -> ExerciseLog:
    """The app's exercise log."""
    return request.app.state.exercise


def identity_keys(request: Request) -> IdentityKeys:
    """The identity keys, loaded on first use (``IdentityKeyError`` when unavailable)."""
    if request.app.state.identity_keys is None:
        request.app.state.identity_keys = request.app.state.load_identity_keys()
    return request.app.state.identity_keys


def research_secret(request: Request) -> bytes:
    """The key of the study codes: derived from the identity key, so stable across restarts
    and unknown to researchers."""
    key = identity_keys(request).keys[-1]  # the oldest key: codes survive a key rotation
    return hmac.new(key, b"addiction-index research pseudonym", hashlib.sha256).digest()


def csrf_of(request: Request) -> str:
    """The CSRF token of the current session ('' without one)."""
    token = request.cookies.get(SESSION_COOKIE)
    return csrf_token_for(token) if token else ""


def render(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render template ``name`` with the user, the CSRF token and ``context``."""
    templates = request.app.state.templates
    context.setdefault("statement", None)
    return templates.TemplateResponse(
        request, name, {"user": user, "csrf": csrf_of(request), **context},
        status_code=status_code,
    )  # fmt: skip


def require_resident(store: SessionStore, code: str) -> None:
    """404 unless resident ``code`` exists."""
    if not resident_exists(store, code):
        raise HTTPException(status.HTTP_404_NOT_FOUND)


def session_or_404(store: SessionStore, session_id: int) -> dict[str, Any]:
    """``store.get_session`` of an assessment, or 404."""
    try:
        data = store.get_session(session_id)
    except SessionNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND) from None
    return data
