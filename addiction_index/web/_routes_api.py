"""The JSON API under ``/api``: the same data as the pages, cut to the role, with models.

POSTs need the session's CSRF token in the ``X-CSRF-Token`` header (``GET /api/me`` gives it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse

from addiction_index.errors import InputError
from addiction_index.store._programme_store import ProgrammeRecords
from addiction_index.web._accounts import User
from addiction_index.web._audit import audit, read_audit
from addiction_index.web._auth import CurrentUser, csrf_header, require_access
from addiction_index.web._common import (
    Code,
    csrf_of,
    exercise_of,
    require_resident,
    research_secret,
    session_or_404,
    store_of,
)
from addiction_index.web._models import (
    AuditEntry,
    Me,
    OverrideRequest,
    OverrideResult,
    PrescriptionCard,
    ResidentDetail,
    ResidentRow,
    SessionReport,
    SessionRow,
)
from addiction_index.web._views import (
    clinical_report,
    pseudonymised_report,
    research_code,
    resident_view,
    residents_view,
    today_cards,
)

__all__ = ["router"]

# full paths, no prefix: the access check reads the matched route's own path
router = APIRouter(dependencies=[Depends(require_access)], tags=["api"])


@router.get("/api/me", response_model=Me)
def me(request: Request, user: CurrentUser) -> Me:
    """The signed-in user, role and CSRF token."""
    return Me(username=user.username, role=user.role, csrf_token=csrf_of(request))


@router.get("/api/residents", response_model=list[ResidentRow])
def api_residents(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    """Residents by pseudonymous code (the last index for clinicians only)."""
    store = store_of(request)
    rows = residents_view(store, user.role)
    audit(store, user.username, user.role, "list_residents", detail={"count": len(rows)})
    return rows


@router.get("/api/residents/{code}", response_model=ResidentDetail)
def api_resident(request: Request, user: CurrentUser, code: Code) -> dict[str, Any]:
    """One resident, cut to the role."""
    store = store_of(request)
    require_resident(store, code)
    view = resident_view(store, exercise_of(request), code, user.role)
    audit(store, user.username, user.role, "view_resident", "subject", code)
    return view


@router.get("/api/sessions", response_model=list[SessionRow])
def api_sessions(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    """Recent sessions; researchers get study codes instead of the centre's codes."""
    store = store_of(request)
    rows = store.list_sessions(limit=500)
    secret = research_secret(request) if user.role == "researcher" else b""
    out = []
    for r in rows:
        row = {k: r[k] for k in ("id", "kind", "status", "index_value", "index_confidence")}
        row["day"] = (r["started_at"] or "")[:10]
        if user.role == "researcher":
            row["study_code"] = research_code(secret, r["subject"])
        else:
            row["subject"] = r["subject"]
        out.append(row)
    audit(store, user.username, user.role, "list_sessions", detail={"count": len(out)})
    return out


@router.get("/api/sessions/{session_id}", response_model=SessionReport)
def api_session(request: Request, user: CurrentUser, session_id: int) -> dict[str, Any]:
    """The assessment report; pseudonymised (study code, day, no free text) for researchers."""
    store = store_of(request)
    data = session_or_404(store, session_id)
    if user.role == "researcher":
        report = pseudonymised_report(data, research_secret(request))
    else:
        report = clinical_report(data)
    audit(store, user.username, user.role, "view_report", "session", session_id,
          {"variant": "pseudonymised" if user.role == "researcher" else "clinical"})  # fmt: skip
    return report


@router.get("/api/prescriptions/today", response_model=list[PrescriptionCard])
def api_today(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    """The coach's cards."""
    store = store_of(request)
    cards = today_cards(store)
    audit(store, user.username, user.role, "view_prescriptions", detail={"count": len(cards)})
    return cards


@router.post("/api/prescriptions/{prescription_id}/override", response_model=OverrideResult)
def api_override(
    request: Request,
    user: Annotated[User, Depends(csrf_header)],
    prescription_id: int,
    body: OverrideRequest,
) -> dict[str, Any] | JSONResponse:
    """A clinician's override of a prescription (the original is kept), audited."""
    store = store_of(request)
    try:
        result = ProgrammeRecords(store).override(
            prescription_id, body.changes, body.reason, by=user.username
        )
    except InputError as exc:
        if exc.argument == "prescription_id":
            raise HTTPException(status.HTTP_404_NOT_FOUND) from None
        return JSONResponse({"detail": f"invalid {exc.argument}"}, status_code=422)
    changed = sorted(f"{s}.{k}" for s, v in body.changes.items()
                     for k in (v if isinstance(v, dict) else {"": None}))  # fmt: skip
    audit(store, user.username, user.role, "override_prescription", "prescription",
          prescription_id, {"fields": changed})  # fmt: skip
    return {"prescription_id": prescription_id, "prescription": result}


@router.get("/api/audit", response_model=list[AuditEntry])
def api_audit(request: Request, user: CurrentUser, limit: int = 200) -> list[dict[str, Any]]:
    """The newest audit entries (admin)."""
    return read_audit(store_of(request), limit=max(1, min(limit, 5000)))
