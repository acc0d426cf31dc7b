"""The clinician's decisions on the resident page: intake and a new prescription, and overrides.

Both are HTML form POSTs (CSRF-checked), clinicians only (see :data:`~._access.ACCESS`), and
redirect (303) back to ``/residents/{code}``. A value the store or the rule engine refuses
re-renders the page with status 422 and a message naming the field, never the value sent.
Every decision is audited with ids and field names only, never the values.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from addiction_index.errors import AddictionIndexError, InputError
from addiction_index.store._programme_store import ProgrammeRecords
from addiction_index.web._accounts import User
from addiction_index.web._audit import audit
from addiction_index.web._auth import require_access
from addiction_index.web._common import Code, CsrfUser, require_resident, store_of
from addiction_index.web._i18n import tr

__all__ = ["OVERRIDE_FIELDS", "contraindication_vocabulary", "router"]


router = APIRouter(dependencies=[Depends(require_access)], include_in_schema=False)

#: The dotted keys a clinician may override from the resident page.
OVERRIDE_FIELDS = (
    "exercise.type",
    "exercise.minutes",
    "exercise.sessions_per_week",
    "music.purpose",
)


def _rule_set(request: Request) -> Any:
    """The rule set (loaded once per app, on first use)."""
    rule_set = getattr(request.app.state, "rule_set", None)
    if rule_set is None:
        from addiction_index.prescriptions import load_rule_set

        rule_set = request.app.state.rule_set = load_rule_set()
    return rule_set


def contraindication_vocabulary(request: Request) -> list[tuple[str, str]]:
    """The rule set's contraindication terms and their meanings (for the form's checkboxes)."""
    try:
        return sorted(_rule_set(request).contraindications.items())
    except AddictionIndexError:
        return []


def _page(request: Request, user: User, code: str, error: str) -> Response:
    from addiction_index.web._routes_pages import resident_page

    return resident_page(
        request, user, code, status.HTTP_422_UNPROCESSABLE_CONTENT, decision_error=error
    )


def _number(name: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(name, None, "a number") from None


def _message(request: Request, exc: InputError) -> str:
    """``exc`` as a message naming the field and what was expected (never the value); the
    frame is translated, what was expected comes from the engine in English."""
    field = exc.argument.removeprefix("inputs.")
    return tr(request)("%(field)s: expected %(expected)s.") % {
        "field": field,
        "expected": exc.expected,
    }


@router.post("/residents/{code}/prescribe", response_class=HTMLResponse)
def prescribe(
    request: Request,
    user: CsrfUser,
    code: Code,
    age: Annotated[str, Form(max_length=16)] = "",
    sex: Annotated[str, Form(max_length=16)] = "",
    hr_max_measured: Annotated[str, Form(max_length=16)] = "",
    contraindications: Annotated[list[str] | None, Form()] = None,
    clear_contraindications: Annotated[str, Form(max_length=8)] = "",
    mood: Annotated[str, Form(max_length=16)] = "",
    energy: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Record the intake facts filled in, then prescribe from the latest assessment."""
    from addiction_index.prescriptions._music import centre_library
    from addiction_index.prescriptions._programme import load_programme_settings
    from addiction_index.prescriptions._programme_loop import prescribe_subject

    store = store_of(request)
    require_resident(store, code)
    try:
        facts: dict[str, Any] = {
            "age": _number("age", age),
            "sex": sex.strip() or None,
            "hr_max_measured": _number("hr_max_measured", hr_max_measured),
            "mood": mood.strip() or None,
            "energy": energy.strip() or None,
        }
        terms = [t.strip() for t in contraindications or [] if t.strip()]
        if terms or clear_contraindications:
            facts["contraindications"] = terms
        facts = {k: v for k, v in facts.items() if v is not None}
        rule_set = _rule_set(request)
        for term in facts.get("contraindications", []):
            if term not in rule_set.contraindications:
                raise InputError(
                    "contraindications", None,
                    "terms of the rule set's vocabulary: " + ", ".join(rule_set.contraindications),
                )  # fmt: skip
        settings = load_programme_settings()
        result = prescribe_subject(
            store, code, rule_set, settings, library=centre_library(), new_facts=facts
        )
    except InputError as exc:
        _ = tr(request)
        return _page(request, user, code, _("Could not prescribe:") + " " + _message(request, exc))
    audit(store, user.username, user.role, "prescribe", "subject", code,
          {"prescription_id": result["prescription_id"], "fields": sorted(facts)})  # fmt: skip
    return RedirectResponse(f"/residents/{code}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/residents/{code}/override", response_class=HTMLResponse)
def override(
    request: Request,
    user: CsrfUser,
    code: Code,
    field: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Override one field of the resident's latest prescription (the original is kept)."""
    store = store_of(request)
    require_resident(store, code)
    records = ProgrammeRecords(store)
    _ = tr(request)
    if field not in OVERRIDE_FIELDS:
        return _page(request, user, code, _("Could not override: choose a field from the list."))
    if not reason.strip():
        return _page(request, user, code, _("Could not override: reason is required."))
    if not value.strip():
        return _page(request, user, code, _("Could not override: value is required."))
    latest = records.prescriptions(code)
    if not latest:
        return _page(request, user, code, _("Could not override: there is no prescription yet."))
    section, key = field.split(".", 1)
    if not isinstance(latest[-1]["prescription"].get(section), dict):
        error = _(
            "Could not override: the prescription has no %(section)s (prescribe again first)."
        ) % {"section": section}
        return _page(request, user, code, error)
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return _page(request, user, code, _("Could not override: value could not be read."))
    prescription_id = latest[-1]["id"]
    try:
        records.override(prescription_id, {section: {key: parsed}}, reason, by=user.username)
    except InputError as exc:
        return _page(request, user, code, _("Could not override:") + " " + _message(request, exc))
    audit(store, user.username, user.role, "override", "prescription", prescription_id,
          {"subject": code, "field": field})  # fmt: skip
    return RedirectResponse(f"/residents/{code}", status_code=status.HTTP_303_SEE_OTHER)
