"""The HTML pages: login/logout, dashboard, residents, identity, report, today's cards, audit.

Every route but ``/login`` depends on :func:`~addiction_index.web._auth.require_access`
(through the router), every POST on a CSRF check, and every read of personal data and every
decision is audited.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from addiction_index.i18n import N_
from addiction_index.store._programme_store import ProgrammeRecords
from addiction_index.web._access import ACCESS
from addiction_index.web._accounts import User, list_users, verify
from addiction_index.web._audit import audit, read_audit
from addiction_index.web._auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    end_session,
    require_access,
    start_session,
)
from addiction_index.web._common import (
    Code,
    CsrfUser,
    exercise_of,
    identity_keys,
    render,
    require_resident,
    session_or_404,
    store_of,
)
from addiction_index.web._i18n import tr
from addiction_index.web._identity import (
    Identity,
    IdentityKeyError,
    has_identity,
    read_identity,
    save_identity,
)
from addiction_index.web._views import (
    clinical_report,
    resident_codes,
    resident_view,
    residents_view,
    today_cards,
)

__all__ = ["login_router", "router"]


login_router = APIRouter(include_in_schema=False)
router = APIRouter(dependencies=[Depends(require_access)], include_in_schema=False)


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", path="/",
        secure=request.app.state.settings.secure_cookies,
    )  # fmt: skip


@login_router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The sign-in form, with a double-submit CSRF token (there is no session yet)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, error=None)
    _cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@login_router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (throttled per username), start a session, go to the dashboard."""
    _ = tr(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN)
    store, throttle = store_of(request), request.app.state.throttle
    name = username.strip().lower()[:64]
    wait = throttle.retry_after(name)
    if wait > 0:
        audit(store, name, "none", "login_throttled")
        error = _("Too many failed attempts: wait and retry.")
        response = render(request, "login.html", None, status.HTTP_429_TOO_MANY_REQUESTS,
                          login_csrf=expected, error=error)  # fmt: skip
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    user = verify(store, name, password)
    if user is None:
        throttle.failed(name)
        audit(store, name, "none", "login_failure")
        error = _("Wrong username or password.")
        return render(request, "login.html", None, status.HTTP_401_UNAUTHORIZED,
                      login_csrf=expected, error=error)  # fmt: skip
    throttle.succeeded(name)
    audit(store, user.username, user.role, "login_success")
    token = start_session(store, user)
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    settings = request.app.state.settings
    _cookie(
        response, request, SESSION_COOKIE, token, int(settings.absolute_timeout.total_seconds())
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, user: CsrfUser) -> Response:
    """End the session and go back to the sign-in form."""
    end_session(store_of(request), request.cookies[SESSION_COOKIE])
    audit(store_of(request), user.username, user.role, "logout")
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: CurrentUser) -> Response:
    """The dashboard: links to the pages this role may open."""
    pages = [
        (path, label)
        for path, label in (
            ("/residents", N_("Residents")),
            ("/prescriptions/today", N_("Today's prescriptions")),
            ("/exercise/live", N_("Zone monitor (live exercise sessions)")),
            ("/aftercare/due", N_("Aftercare: follow-ups due today")),
            ("/aftercare/cohort", N_("Aftercare cohort report (aggregates)")),
            ("/audit", N_("Audit log")),
            ("/users", N_("Staff accounts")),
            ("/api/sessions", N_("Pseudonymised sessions (JSON)")),
        )
        if user.role in ACCESS[path]
    ]
    return render(request, "dashboard.html", user, pages=pages,
                  n_residents=len(resident_codes(store_of(request))))  # fmt: skip


@router.get("/residents", response_class=HTMLResponse)
def residents(request: Request, user: CurrentUser) -> Response:
    """Pseudonymous codes; the last index for clinicians, the prescription card for others."""
    store = store_of(request)
    rows = residents_view(store, user.role)
    audit(store, user.username, user.role, "list_residents", detail={"count": len(rows)})
    statement = "NOT_A_DIAGNOSIS" if user.role == "clinician" else None
    return render(request, "residents.html", user, rows=rows, statement=statement)


@router.get("/residents/{code}", response_class=HTMLResponse)
def resident(request: Request, user: CurrentUser, code: Code) -> Response:
    """One resident, cut to the role (see :func:`~addiction_index.web._views.resident_view`)."""
    store = store_of(request)
    require_resident(store, code)
    audit(store, user.username, user.role, "view_resident", "subject", code)
    return resident_page(request, user, code)


def resident_page(
    request: Request,
    user: User,
    code: str,
    status_code: int = 200,
    decision_error: str | None = None,
) -> Response:
    """The resident page (no audit: the caller audits). Clinicians also get the decision forms:
    intake and a new prescription, and an override of the latest prescription."""
    from addiction_index.web._plots import index_history_plot
    from addiction_index.web._routes_decisions import OVERRIDE_FIELDS, contraindication_vocabulary

    store = store_of(request)
    view = resident_view(store, exercise_of(request), code, user.role)
    context: dict[str, Any] = {"view": view, "statement": None, "has_identity": None}
    if user.role == "clinician":
        latest = ProgrammeRecords(store).prescriptions(code)
        current = latest[-1]["prescription"] if latest else None
        context |= {
            "statement": "NOT_A_DIAGNOSIS",
            "has_identity": has_identity(store, code),
            "current": current,
            "vocabulary": contraindication_vocabulary(request),
            "override_fields": OVERRIDE_FIELDS,
            "decision_error": decision_error,
            "history_plot": index_history_plot(view["assessments"]),
        }
    return render(request, "resident.html", user, status_code, **context)


@router.get("/residents/{code}/identity", response_class=HTMLResponse)
def identity_page(request: Request, user: CurrentUser, code: Code) -> Response:
    """The resident's identifying details, decrypted (clinicians only; every read audited)."""
    store = store_of(request)
    require_resident(store, code)
    audit(store, user.username, user.role, "read_identity", "subject", code)
    try:
        identity = read_identity(store, code, identity_keys(request))
    except IdentityKeyError as exc:
        return render(request, "identity.html", user, status.HTTP_503_SERVICE_UNAVAILABLE,
                      code=code, identity=None, error=str(exc))  # fmt: skip
    return render(request, "identity.html", user, code=code, identity=identity, error=None)


@router.post("/residents/{code}/identity", response_class=HTMLResponse)
def identity_save(
    request: Request,
    user: CsrfUser,
    code: Code,
    name: Annotated[str, Form(max_length=200)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    id_number: Annotated[str, Form(max_length=64)] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
    address: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Set or replace the identity (encrypted); audited without its contents."""
    _ = tr(request)
    store = store_of(request)
    require_resident(store, code)
    try:
        identity = Identity(name=name, birth_date=birth_date or None, id_number=id_number,
                            phone=phone, address=address)  # fmt: skip
    except ValidationError:
        error = _("The birth date must be YYYY-MM-DD.")
        return render(request, "identity.html", user, status.HTTP_422_UNPROCESSABLE_CONTENT,
                      code=code, identity=None, error=error)  # fmt: skip
    try:
        key_id = save_identity(store, code, identity, identity_keys(request))
    except IdentityKeyError as exc:
        return render(request, "identity.html", user, status.HTTP_503_SERVICE_UNAVAILABLE,
                      code=code, identity=None, error=str(exc))  # fmt: skip
    audit(store, user.username, user.role, "set_identity", "subject", code, {"key_id": key_id})
    return RedirectResponse(f"/residents/{code}/identity", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_report(request: Request, user: CurrentUser, session_id: int) -> Response:
    """The assessment report: blocks, signal quality, index and why, the prescription."""
    store = store_of(request)
    report = clinical_report(session_or_404(store, session_id))
    audit(store, user.username, user.role, "view_report", "session", session_id)
    return render(request, "session.html", user, r=report, statement="NOT_A_DIAGNOSIS")


@router.get("/prescriptions/today", response_class=HTMLResponse)
def prescriptions_today(request: Request, user: CurrentUser) -> Response:
    """The coach's cards: exercise type, zone, minutes and music per resident."""
    store = store_of(request)
    cards = today_cards(store)
    audit(store, user.username, user.role, "view_prescriptions", detail={"count": len(cards)})
    return render(request, "today.html", user, cards=cards)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: CurrentUser) -> Response:
    """The newest audit entries (admin)."""
    return render(request, "audit.html", user, entries=read_audit(store_of(request)))


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: CurrentUser) -> Response:
    """Staff accounts and their roles (admin); manage them with ``addiction-index users``."""
    return render(request, "users.html", user, users=list_users(store_of(request)))
