"""Aftercare pages for case managers and clinicians: the due list, a resident's aftercare page
and its forms (instruments, risk factors, release, contacts), and the cohort report.

Every route depends on :func:`~addiction_index.web._auth.require_access` (roles in
:data:`~addiction_index.web._access.ACCESS`), every POST on a CSRF check. Reads of personal data
and every decision are audited with ids and field names only. A refused entry re-renders its
page with status 422, a message naming the field (never the value sent) and everything else
the user entered kept in the form. Texts are the English texts of the instrument files.

The cohort report is shown inside the app's own page (see
:func:`~addiction_index.web._views_aftercare.cohort_body`), not as its standalone HTML: the
standalone page's inline ``<style>`` would be blocked by the app's CSP.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from addiction_index.aftercare import (
    AnswerErrors,
    Contact,
    FollowupRecords,
    IntakeRecords,
    Release,
    check_factors,
    check_form,
    load_risk_factors,
    parse_date,
)
from addiction_index.errors import InputError
from addiction_index.web._accounts import User
from addiction_index.web._audit import audit
from addiction_index.web._auth import CurrentUser, require_access
from addiction_index.web._common import (
    Code,
    CsrfUser,
    render,
    require_resident,
    store_of,
)
from addiction_index.web._views_aftercare import (
    COHORT_BY,
    DATE_HINT,
    MIN_COHORT,
    VOCABULARY,
    cohort_body,
    due_rows,
    entered_factors,
    factor_fields,
    factor_message,
    followup_view,
    instrument_form,
    instrument_or_none,
    instrument_rows,
    item_message,
    risk_view,
)

__all__ = ["router"]

InstrumentId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Short = Annotated[str, Form(max_length=64)]

router = APIRouter(dependencies=[Depends(require_access)], include_in_schema=False)

_422 = status.HTTP_422_UNPROCESSABLE_CONTENT
_MAX_ANSWER = 64  # characters of one raw answer read from the form


def _today() -> date:
    """The centre's today (the server's local date)."""
    return date.today()


def _see(code: str) -> RedirectResponse:
    return RedirectResponse(f"/residents/{code}/aftercare", status_code=status.HTTP_303_SEE_OTHER)


# -- due list ---------------------------------------------------------------------------------
@router.get("/aftercare/due", response_class=HTMLResponse)
def due_page(request: Request, user: CurrentUser) -> Response:
    """Who is due or overdue for follow-up today, highest relapse risk first."""
    store = store_of(request)
    today = _today()
    rows = due_rows(store, today)
    audit(store, user.username, user.role, "list_followups_due", detail={"count": len(rows)})
    return render(request, "aftercare_due.html", user, rows=rows, today=today.isoformat(),
                  statement="NOT_A_DIAGNOSIS")  # fmt: skip


# -- a resident's aftercare page --------------------------------------------------------------
def aftercare_page(
    request: Request,
    user: User,
    code: str,
    status_code: int = 200,
    *,
    form: str | None = None,
    errors: list[str] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    """The resident's aftercare page (no audit: the caller audits). After a refused entry,
    ``form`` names the form, ``errors`` its messages and ``entered`` what to show in it again."""
    store = store_of(request)
    definitions = load_risk_factors()
    factors = IntakeRecords(store).risk_factors(code)
    entered = entered or {}
    context = {
        "code": code,
        "instruments": instrument_rows(store, code),
        "factors": factor_fields(definitions, factors,
                                 entered if form == "factors" else None),
        "followup": followup_view(store, code, _today()),
        "risk": risk_view(store, code),
        "vocabulary": VOCABULARY,
        "date_hint": DATE_HINT,
        "form": form,
        "errors": errors or [],
        "entered": entered,
    }  # fmt: skip
    return render(request, "aftercare.html", user, status_code, statement="NOT_A_DIAGNOSIS",
                  **context)  # fmt: skip


@router.get("/residents/{code}/aftercare", response_class=HTMLResponse)
def aftercare(request: Request, user: CurrentUser, code: Code) -> Response:
    """Intake instruments, risk factors, releases, contacts, schedule and relapse risk."""
    store = store_of(request)
    require_resident(store, code)
    audit(store, user.username, user.role, "view_aftercare", "subject", code)
    return aftercare_page(request, user, code)


# -- instruments ------------------------------------------------------------------------------
def _instrument(instrument_id: str) -> Any:
    instrument = instrument_or_none(instrument_id)
    if instrument is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return instrument


def _instrument_page(
    request: Request,
    user: User,
    code: str,
    instrument: Any,
    status_code: int = 200,
    selected: dict[str, int] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    items = instrument_form(instrument, selected or {}, errors or {})
    return render(request, "aftercare_instrument.html", user, status_code, code=code,
                  instrument=instrument, items=items,
                  errors=[i["error"] for i in items if i["error"]])  # fmt: skip


@router.get("/residents/{code}/instruments/{instrument}", response_class=HTMLResponse)
def instrument_page(
    request: Request, user: CurrentUser, code: Code, instrument: InstrumentId
) -> Response:
    """The form of one instrument (blank: it shows no recorded answer)."""
    found = _instrument(instrument)
    require_resident(store_of(request), code)
    return _instrument_page(request, user, code, found)


@router.post("/residents/{code}/instruments/{instrument}", response_class=HTMLResponse)
async def instrument_save(
    request: Request, user: CsrfUser, code: Code, instrument: InstrumentId
) -> Response:
    """Check and score one instrument's answers; store them, or show the form again with the
    bad items named and every accepted answer kept (nothing is stored then)."""
    found = _instrument(instrument)
    form = await request.form()  # parsed once already (the CSRF check read it)
    raw: dict[str, str] = {}
    for item_id in found.item_ids:
        value = form.get(item_id)
        raw[item_id] = value[: _MAX_ANSWER + 1] if isinstance(value, str) else ""
    return await run_in_threadpool(_save_instrument, request, user, code, found, raw)


def _save_instrument(
    request: Request, user: User, code: str, instrument: Any, raw: dict[str, str]
) -> Response:
    store = store_of(request)
    require_resident(store, code)
    records = IntakeRecords(store)
    too_long = {k for k, v in raw.items() if len(v) > _MAX_ANSWER}
    result = check_form(instrument, {k: ("?" if k in too_long else v) for k, v in raw.items()},
                        records.risk_factors(code))  # fmt: skip
    if isinstance(result, AnswerErrors):
        errors = {k: item_message(instrument, k, raw.get(k)) for k in result.errors}
        return _instrument_page(request, user, code, instrument, _422, result.answers, errors)
    stored = records.record_intake(code, scores=[result], language="en", by=user.username)
    audit(store, user.username, user.role, "record_instrument", "subject", code,
          {"instrument": instrument.id, "response_ids": stored["response_ids"],
           "fields": instrument.item_ids})  # fmt: skip
    return _see(code)


# -- risk factors -----------------------------------------------------------------------------
@router.post("/residents/{code}/risk-factors", response_class=HTMLResponse)
def risk_factors_save(
    request: Request,
    user: CsrfUser,
    code: Code,
    drug_type: Short = "",
    years_of_use: Short = "",
    prior_treatments: Short = "",
    employment: Short = "",
    income: Short = "",
    marital_status: Short = "",
    lives_where_registered: Short = "",
) -> Response:
    """Record the factual risk factors filled in (blank ones keep their recorded value)."""
    store = store_of(request)
    require_resident(store, code)
    definitions = load_risk_factors()
    raw = {"drug_type": drug_type, "years_of_use": years_of_use,
           "prior_treatments": prior_treatments, "employment": employment, "income": income,
           "marital_status": marital_status,
           "lives_where_registered": lives_where_registered}  # fmt: skip
    checked = check_factors(definitions, raw)
    if checked.ok and not checked.values:
        return aftercare_page(request, user, code, _422, form="factors",
                              errors=["Fill in at least one risk factor."])  # fmt: skip
    if not checked.ok:
        errors = [factor_message(definitions, k) for k in checked.errors]
        return aftercare_page(request, user, code, _422, form="factors", errors=errors,
                              entered=entered_factors(definitions, checked.values))  # fmt: skip
    IntakeRecords(store).record_intake(
        code, factors=checked.values, factors_version=definitions.version, by=user.username
    )
    audit(store, user.username, user.role, "record_risk_factors", "subject", code,
          {"fields": sorted(checked.values)})  # fmt: skip
    return _see(code)


# -- release and contacts ---------------------------------------------------------------------
def _date_or_none(text: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError:
        return None


@router.post("/residents/{code}/release", response_class=HTMLResponse)
def release_save(
    request: Request,
    user: CsrfUser,
    code: Code,
    release_date: Short = "",
    station: Annotated[str, Form(max_length=200)] = "",
    consent: Short = "",
    consent_date: Short = "",
) -> Response:
    """Record a release to a receiving station, with or without consent to the hand-over
    (the consent date defaults to the release date, as on the command line)."""
    store = store_of(request)
    require_resident(store, code)
    errors: list[str] = []
    released = _date_or_none(release_date)
    if released is None:
        errors.append(f"release_date: expected {DATE_HINT}.")
    if not station.strip() or len(station.strip()) > 128:
        errors.append("station: expected the receiving station, 1-128 characters.")
    consented = bool(consent)
    consent_day = _date_or_none(consent_date) if consent_date.strip() else None
    if consent_date.strip() and consent_day is None:
        errors.append(f"consent_date: expected {DATE_HINT}.")
    elif consent_day is not None and not consented:
        errors.append("consent_date: only with consent to the hand-over (tick the box).")
    out = None
    if not errors:
        assert released is not None
        release = Release(code, released, station, consented,
                          consent_day or (released if consented else None))  # fmt: skip
        try:
            out = FollowupRecords(store).add_release(release, by=user.username, source="web")
        except InputError as exc:
            errors.append(_release_message(exc.argument))
    if out is None:
        entered = {
            "release_date": released.isoformat() if released else "",
            "station": station.strip() if not any(e.startswith("station") for e in errors) else "",
            "consent": consented,
            "consent_date": consent_day.isoformat() if consent_day else "",
        }
        return aftercare_page(request, user, code, _422, form="release", errors=errors,
                              entered=entered)  # fmt: skip
    fields = ["release_date", "station", "consent", "consent_date"]
    audit(store, user.username, user.role, "record_release", "release", out["id"],
          {"subject": code, "fields": fields})  # fmt: skip
    return _see(code)


def _release_message(argument: str) -> str:
    if argument == "release_date":
        return "release_date: a release of this resident is already recorded on that day."
    if argument == "station":
        return "station: expected the receiving station, 1-128 characters."
    return f"{argument}: not accepted."


@router.post("/residents/{code}/contacts", response_class=HTMLResponse)
def contact_save(
    request: Request,
    user: CsrfUser,
    code: Code,
    contact_date: Short = "",
    mode: Short = "",
    contact_status: Annotated[str, Form(alias="status", max_length=64)] = "",
    test: Short = "not_done",
) -> Response:
    """Record a follow-up contact (it belongs to the latest release on or before its date)."""
    store = store_of(request)
    require_resident(store, code)
    errors: list[str] = []
    when = _date_or_none(contact_date)
    if when is None:
        errors.append(f"contact_date: expected {DATE_HINT}.")
    elif when > _today():
        errors.append("contact_date: expected a day that has come (not in the future).")
        when = None
    given = {"mode": mode, "status": contact_status, "test": test or "not_done"}
    for name, value in given.items():
        if value not in VOCABULARY[name]:
            errors.append(f"{name}: expected one of {', '.join(VOCABULARY[name])}.")
    out = None
    if not errors:
        assert when is not None
        contact = Contact(code, when, given["mode"], given["status"], given["test"])
        try:
            out = FollowupRecords(store).add_contact(contact, by=user.username, source="web")
        except InputError:
            errors.append("contact_date: expected a day on or after a recorded release.")
    if out is None:
        entered = {"contact_date": when.isoformat() if when else ""} | {
            k: v for k, v in given.items() if v in VOCABULARY[k]
        }
        return aftercare_page(request, user, code, _422, form="contact", errors=errors,
                              entered=entered)  # fmt: skip
    audit(store, user.username, user.role, "record_contact", "release", out["release_id"],
          {"subject": code, "contact_id": out["id"],
           "fields": ["contact_date", "mode", "status", "test"]})  # fmt: skip
    return _see(code)


# -- cohort report ----------------------------------------------------------------------------
@router.get("/aftercare/cohort", response_class=HTMLResponse)
def cohort_page(
    request: Request,
    user: CurrentUser,
    by: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The aftercare cohort report (aggregates only), optionally by one risk factor."""
    store = store_of(request)
    context: dict[str, Any] = {"choices": COHORT_BY, "by": None, "body": None, "error": None,
                               "too_small": False, "min_cohort": MIN_COHORT}  # fmt: skip
    if by and by not in COHORT_BY:
        context["error"] = "by: expected one of " + ", ".join(COHORT_BY) + "."
        return render(request, "aftercare_cohort.html", user, _422, **context)
    context["by"] = by or None
    context["body"] = cohort_body(store, by or None)
    context["too_small"] = context["body"] is None
    audit(store, user.username, user.role, "view_cohort_report",
          detail={"by": by or None, "shown": context["body"] is not None})  # fmt: skip
    return render(request, "aftercare_cohort.html", user, **context)
