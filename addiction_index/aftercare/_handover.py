"""The hand-over to the community station: the least data the station needs, and only with a
recorded consent.

What it carries (:data:`HANDOVER_FIELDS`): the pseudonymous code, the release date and the
receiving station, the follow-up schedule, the exercise plan to continue (type, sessions per
week, minutes, heart-rate zone in bpm, RPE), and the relapse-risk level with the reasons a
station can act on. What it never carries: drug history (drug type, years of use, earlier
treatments, dependence severity), mental-health results, instrument answers, the addiction
index or craving values, ratings, identity, or free text. The reasons are filtered through
:data:`SHAREABLE_REASONS` (the social and practical factors: partner, home, work, family,
support, aftercare, counselling, exercise); the others stay in the centre. The urine tests at
street offices that exposed residents to their neighbours (EVIDENCE 8.3) are why: hand-overs
carry the least data possible.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.aftercare._followup_store import FollowupRecords
from addiction_index.aftercare._resident_risk import ResidentRisk
from addiction_index.aftercare._risk import load_risk_definition
from addiction_index.aftercare._schedule import load_schedule, visits
from addiction_index.errors import AddictionIndexError, InputError
from addiction_index.store import SessionStore

__all__ = ["HANDOVER_FIELDS", "SHAREABLE_REASONS", "ConsentMissingError", "handover",
           "render_handover_html"]  # fmt: skip

TEMPLATES = Path(__file__).with_name("templates")

#: Everything a hand-over holds (a test checks that nothing else is there).
HANDOVER_FIELDS = ("code", "release_date", "station", "consent_date", "schedule", "exercise",
                   "risk", "prepared", "statement")  # fmt: skip
#: Risk factors whose reason may be told to the station.
SHAREABLE_REASONS = frozenset({"marital_status", "lives_where_registered", "employment", "family",
                               "social_support", "aftercare", "counselling",
                               "exercise_adherence"})  # fmt: skip
_EXERCISE_KEYS = ("type", "sessions_per_week", "minutes", "zone_bpm", "rpe", "intensity_class")


class ConsentMissingError(AddictionIndexError):
    """No recorded consent to hand the resident over: nothing is produced."""


def handover(store: SessionStore, code: str, *, today: dt.date | None = None,
             risk: ResidentRisk | None = None) -> dict[str, Any]:  # fmt: skip
    """The hand-over of resident ``code``'s latest release (module docstring).

    Raises :class:`ConsentMissingError` without a recorded consent, and ``InputError`` without a
    release.
    """
    releases = FollowupRecords(store).releases(code)
    if not releases:
        raise InputError("subject", code, "a resident with a recorded release")
    release = releases[-1]
    if not release["consent"]:
        raise ConsentMissingError(
            f"no hand-over for {code}: no consent is recorded for the release of "
            f"{release['release_date']} (record it with: addiction-index release {code} "
            f"--date {release['release_date']} --to STATION --consent)"
        )
    released = dt.date.fromisoformat(release["release_date"])
    today = today or dt.date.today()
    schedule = [{"visit": v.label, "due": v.due.isoformat()}
                for v in visits(load_schedule(), released) if v.due >= today]  # fmt: skip
    risk = risk or ResidentRisk(store)
    result = risk.result(code)
    definition = load_risk_definition()
    words = {f.name: f.reason for f in definition.factors}
    shared = sorted(
        (n for n, c in result.contributions.items() if c > 1e-12 and n in SHAREABLE_REASONS),
        key=lambda n: -result.contributions[n],
    )
    return {
        "code": code,
        "release_date": released.isoformat(),
        "station": release["station"],
        "consent_date": release["consent_date"],
        "schedule": schedule,
        "exercise": _exercise_plan(store, code),
        "risk": {"level": result.level, "reasons": [words[n] for n in shared]},
        "prepared": today.isoformat(),
        "statement": NOT_A_DIAGNOSIS,
    }


def _exercise_plan(store: SessionStore, code: str) -> dict[str, Any] | None:
    """The exercise part of the prescription in force, without the rules or scores behind it."""
    from addiction_index.store._programme_store import ProgrammeRecords

    prescriptions = ProgrammeRecords(store).prescriptions(code)
    if not prescriptions:
        return None
    exercise = (prescriptions[-1]["prescription"] or {}).get("exercise")
    if not exercise:
        return None
    return {k: exercise.get(k) for k in _EXERCISE_KEYS if exercise.get(k) is not None}


def render_handover_html(data: dict[str, Any]) -> str:
    """One self-contained page (inline CSS, no link, no script) for HTML and PDF."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("handover.html").render(h=data)
