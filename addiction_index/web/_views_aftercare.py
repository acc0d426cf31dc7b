"""What the aftercare pages show, read from the store: plain dicts for the templates.

Texts are the English (``en``) texts of the instrument and risk-factor files. Relapse-risk
reasons are words only (see :mod:`addiction_index.aftercare._resident_risk`). Error messages
built here name the field and what is expected, never the value that was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from markupsafe import Markup

from addiction_index.aftercare import (
    ACCEPTED_DATE_FORMATS,
    FACTOR_IDS,
    FollowupRecords,
    Instrument,
    IntakeRecords,
    RiskFactors,
    load_instruments,
    load_schedule,
    next_visit,
    visits,
)
from addiction_index.aftercare._risk_factors import Factor
from addiction_index.store import SessionStore
from addiction_index.store._aftercare_schema import CONTACT_MODES, CONTACT_STATUSES, TEST_RESULTS

__all__ = [
    "COHORT_BY",
    "DATE_HINT",
    "MIN_COHORT",
    "VOCABULARY",
    "cohort_body",
    "due_rows",
    "factor_fields",
    "factor_message",
    "followup_view",
    "instrument_form",
    "instrument_or_none",
    "instrument_rows",
    "item_message",
    "risk_view",
]

#: The factors the cohort report may be grouped ``by`` (the outcomes frame's factor columns).
COHORT_BY = FACTOR_IDS
#: The smallest cohort reported (and the smallest group shown), as in ``cohort_report``.
MIN_COHORT = 5
DATE_HINT = "a date like " + ", ".join(ACCEPTED_DATE_FORMATS[:2])
#: The contact form's select lists.
VOCABULARY = {"mode": CONTACT_MODES, "status": CONTACT_STATUSES, "test": TEST_RESULTS}


# -- instruments ------------------------------------------------------------------------------
def instrument_or_none(instrument_id: str) -> Instrument | None:
    """The shipped instrument ``instrument_id``, or None."""
    return next((i for i in load_instruments() if i.id == instrument_id), None)


def _band_label(instrument: Instrument, level: str) -> str:
    scoring = instrument.scoring
    groups = [scoring.bands or []]
    if scoring.bands_by is not None:
        groups += [s.bands for s in scoring.bands_by.sets] + [scoring.bands_by.otherwise]
    for bands in groups:
        for band in bands:
            if band.level == level:
                return band.label.en
    return level


def instrument_rows(store: SessionStore, code: str) -> list[dict[str, Any]]:
    """Each instrument with the resident's latest response (score, band, day, alerts) or None."""
    latest = IntakeRecords(store).latest_scores(code)
    rows = []
    for instrument in load_instruments():
        found = latest.get(instrument.id)
        entry: dict[str, Any] = {
            "id": instrument.id,
            "short_name": instrument.short_name,
            "name": instrument.name.en,
            "latest": None,
        }
        if found is not None:
            answers = found["answers"] or {}
            entry["latest"] = {
                "score": found["score"],
                "band": found["band"],
                "band_label": _band_label(instrument, found["band"]),
                "day": found["entered_at"][:10],
                "alerts": [a.message.en for a in instrument.alerts
                           if answers.get(a.item, -1) >= a.min],
            }  # fmt: skip
        rows.append(entry)
    return rows


def instrument_form(
    instrument: Instrument, selected: Mapping[str, int], errors: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The items of ``instrument`` for its form: number, id, English text, options (value and
    text, ``checked`` for the kept answer) and the item's error message, if any."""
    out = []
    for number, item in enumerate(instrument.items, 1):
        options = sorted(instrument.options(item), key=lambda o: o.value)
        out.append({
            "number": number,
            "id": item.id,
            "text": item.text.en,
            "options": [{"value": o.value, "text": o.text.en,
                         "checked": selected.get(item.id) == o.value} for o in options],
            "error": errors.get(item.id),
        })  # fmt: skip
    return out


def item_message(instrument: Instrument, item_id: str, raw: object) -> str:
    """Why the answer to ``item_id`` was refused, naming the item, never the answer."""
    item = instrument.item(item_id)
    number = instrument.item_ids.index(item_id) + 1
    low, high = instrument.item_range(item)
    missing = raw is None or (isinstance(raw, str) and not raw.strip())
    why = "no answer" if missing else "not one of the listed answers"
    return f"{item_id} (question {number}): {why}; choose one of the answers ({low}-{high})."


# -- risk factors -----------------------------------------------------------------------------
def _display(factor: Factor, value: Any) -> str:
    if value is None:
        return "not recorded"
    if factor.type == "boolean":
        return "yes" if value else "no"
    if factor.type == "choice":
        texts = (factor.choices or {}).get(str(value))
        return texts.en if texts else str(value)
    unit = f" {factor.unit}" if factor.unit and factor.unit != "count" else ""
    return f"{value:g}{unit}" if isinstance(value, int | float) else str(value)


def _form_value(factor: Factor, value: Any) -> str:
    if value is None:
        return ""
    if factor.type == "boolean":
        return "yes" if value else "no"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def factor_fields(
    definitions: RiskFactors, current: Mapping[str, Any], entered: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The factual risk factors for the page and its form: id, English text, type, choices,
    range and unit, the recorded value in words, and the form's value (what the user entered
    when the form is shown again after an error, else blank)."""
    out = []
    for factor_id in FACTOR_IDS:
        factor = definitions.factors[factor_id]
        out.append({
            "id": factor_id,
            "text": factor.text.en,
            "type": factor.type,
            "choices": [(k, t.en) for k, t in (factor.choices or {}).items()],
            "min": factor.min,
            "max": factor.max,
            "step": 1 if factor.type == "integer" else "any",
            "unit": factor.unit,
            "recorded": _display(factor, current.get(factor_id)),
            "value": (entered or {}).get(factor_id, ""),
        })  # fmt: skip
    return out


def factor_message(definitions: RiskFactors, factor_id: str) -> str:
    """What ``factor_id`` expects, naming the factor, never the value sent."""
    factor = definitions.factors.get(factor_id)
    if factor is None:
        return f"{factor_id}: not a risk factor."
    if factor.type == "boolean":
        expected = "yes or no"
    elif factor.type == "choice":
        expected = "one of the listed choices"
    else:
        whole = "a whole number" if factor.type == "integer" else "a number"
        unit = f" {factor.unit}" if factor.unit and factor.unit != "count" else ""
        expected = f"{whole} from {factor.min:g} to {factor.max:g}{unit}"
    return f"{factor_id} ({factor.text.en}): expected {expected}."


def entered_factors(definitions: RiskFactors, values: Mapping[str, Any]) -> dict[str, str]:
    """Accepted factor values as the form shows them (to keep them after an error)."""
    return {k: _form_value(definitions.factors[k], v) for k, v in values.items()}


# -- release, contacts, schedule --------------------------------------------------------------
def followup_view(store: SessionStore, code: str, today: date) -> dict[str, Any]:
    """The resident's releases (with consent), every contact, and the schedule of the latest
    release with its next visit on ``today``."""
    releases = FollowupRecords(store).releases(code)
    contacts = [c | {"release_date": r["release_date"]} for r in releases for c in r["contacts"]]
    contacts.sort(key=lambda c: (c["date"], c["id"]))
    view: dict[str, Any] = {"releases": releases, "contacts": contacts, "latest": None,
                            "next": None, "visits": []}  # fmt: skip
    if not releases:
        return view
    latest = releases[-1]
    released = date.fromisoformat(latest["release_date"])
    schedule = load_schedule()
    dates = [date.fromisoformat(c["date"]) for c in latest["contacts"]]
    where = next_visit(schedule, released, [d for d in dates if d <= today], today)
    view["latest"] = latest
    view["next"] = {
        "label": where.visit.label if where.visit else None,
        "due": where.visit.due.isoformat() if where.visit else None,
        "opens": where.visit.opens.isoformat() if where.visit else None,
        "overdue_after": where.visit.overdue_after.isoformat() if where.visit else None,
        "state": where.state,
        "days_overdue": where.days_overdue,
        "missed": where.missed,
    }
    view["visits"] = [
        {"label": v.label, "due": v.due.isoformat(), "opens": v.opens.isoformat(),
         "overdue_after": v.overdue_after.isoformat(),
         "next": where.visit is not None and v.label == where.visit.label}
        for v in visits(schedule, released)
    ]  # fmt: skip
    return view


# -- relapse risk -----------------------------------------------------------------------------
def risk_view(store: SessionStore, code: str) -> dict[str, Any]:
    """The resident's relapse risk: value 0-100, level, reasons, protective factors and what
    was assumed (all in words), and the model's name."""
    from addiction_index.aftercare._resident_risk import ResidentRisk

    result = ResidentRisk(store).result(code)
    return {"value": result.value, "level": result.level, "reasons": list(result.reasons),
            "protective": list(result.protective), "assumed": list(result.assumed),
            "model": result.model}  # fmt: skip


def due_rows(store: SessionStore, today: date) -> list[dict[str, Any]]:
    """Who is due or overdue for follow-up on ``today``, highest relapse risk first."""
    from addiction_index.aftercare import due_list
    from addiction_index.aftercare._resident_risk import ResidentRisk

    return due_list(store, today, risk=ResidentRisk(store))


# -- cohort report ----------------------------------------------------------------------------
def cohort_body(store: SessionStore, by: str | None) -> Markup | None:
    """The cohort report's content (the ``<body>`` of :func:`render_cohort_html`), to show
    inside the app's own page; None for a cohort too small to report (fewer than
    :data:`MIN_COHORT` people). Any other error of the data propagates (a server error).

    The report's page carries an inline ``<style>`` that the app's CSP (``style-src 'self'``)
    blocks, so only its body is taken: the app's stylesheet styles it (``.cohort-report``).
    The body is the report's own escaped HTML (images as data URIs); it is checked to hold no
    inline style or script, which the CSP would block too.
    """
    from addiction_index.aftercare import outcomes_frame
    from addiction_index.aftercare._cohort_report import cohort_report, render_cohort_html

    frame = outcomes_frame(store)
    if frame["subject"].nunique() < MIN_COHORT:
        return None
    page = render_cohort_html(cohort_report(frame, by=by, min_group=MIN_COHORT))
    body = page.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    lowered = body.lower()
    if "<style" in lowered or "<script" in lowered or " style=" in lowered:
        raise RuntimeError("the cohort report's body has inline styles or scripts")
    return Markup(body)  # the report's template escapes every value
