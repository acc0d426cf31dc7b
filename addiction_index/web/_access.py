"""Who may open what: one route → roles table, as data, enforced by :func:`require_access`.

Every route of the app (page, JSON API, WebSocket) must have an entry here or be in
:data:`PUBLIC`; a test walks ``app.routes`` and fails on any that has neither. A route's roles
apply to all its methods. What a role sees *within* a page (a coach sees a resident's
prescription but not the index) is decided by the route from ``user.role``.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["ACCESS", "ALL_ROLES", "PUBLIC"]

ALL_ROLES = frozenset({"clinician", "coach", "researcher", "case-manager", "admin"})
_CARE = frozenset({"clinician", "coach", "case-manager"})
_EXERCISE = frozenset({"clinician", "coach"})
# aftercare: case managers follow released residents up; clinicians may too. Coaches and
# researchers never see a resident's risk factors; the cohort report is aggregates only.
_AFTERCARE = frozenset({"clinician", "case-manager"})
_COHORT = frozenset({"clinician", "case-manager", "admin", "researcher"})

#: path template → roles allowed (least privilege).
ACCESS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "/": ALL_ROLES,
        "/logout": ALL_ROLES,
        "/openapi.json": ALL_ROLES,
        "/residents": _CARE,
        "/residents/{code}": _CARE,
        "/residents/{code}/identity": frozenset({"clinician"}),
        "/residents/{code}/prescribe": frozenset({"clinician"}),
        "/residents/{code}/override": frozenset({"clinician"}),
        "/sessions/{session_id}": frozenset({"clinician"}),
        "/prescriptions/today": frozenset({"clinician", "coach"}),
        "/residents/{code}/assess": frozenset({"clinician"}),
        "/live/assessments/{live_id}": frozenset({"clinician"}),
        "/live/assessments/{live_id}/cues": frozenset({"clinician"}),
        "/live/assessments/{live_id}/cues/{cue_set}/{number}": frozenset({"clinician"}),
        "/live/assessments/{live_id}/stop": frozenset({"clinician"}),
        "/ws/assessments/{live_id}": frozenset({"clinician"}),
        # coaches run exercise sessions; clinicians may too (they prescribe them)
        "/exercise/live": _EXERCISE,
        "/residents/{code}/exercise": _EXERCISE,
        "/exercise/live/{live_id}/stop": _EXERCISE,
        "/exercise/{exercise_id}/ratings": _EXERCISE,
        "/ws/exercise": _EXERCISE,
        "/aftercare/due": _AFTERCARE,
        "/aftercare/cohort": _COHORT,
        "/residents/{code}/aftercare": _AFTERCARE,
        "/residents/{code}/instruments/{instrument}": _AFTERCARE,
        "/residents/{code}/risk-factors": _AFTERCARE,
        "/residents/{code}/release": _AFTERCARE,
        "/residents/{code}/contacts": _AFTERCARE,
        "/audit": frozenset({"admin"}),
        "/users": frozenset({"admin"}),
        "/api/me": ALL_ROLES,
        "/api/residents": _CARE,
        "/api/residents/{code}": _CARE,
        "/api/sessions": frozenset({"clinician", "researcher"}),
        "/api/sessions/{session_id}": frozenset({"clinician", "researcher"}),
        "/api/prescriptions/today": frozenset({"clinician", "coach"}),
        "/api/prescriptions/{prescription_id}/override": frozenset({"clinician"}),
        "/api/audit": frozenset({"admin"}),
    }
)

#: Paths anyone may open without signing in (no personal data behind them).
PUBLIC = frozenset({"/login", "/health", "/static"})
