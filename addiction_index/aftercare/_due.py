"""Who is due or overdue for follow-up, highest risk first.

:func:`due_list` takes the risk function as a parameter: any callable ``subject code → (risk
value, level, reasons)``. The default, :class:`IntakeRiskCount`, counts the evidence-backed
intake risk factors and instrument results of ``instruments/risk-factors.yaml`` (a plain count,
not a validated score; the relapse-risk model replaces it). Only each resident's latest release
is followed; a later release supersedes an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from addiction_index.aftercare._followup_store import FollowupRecords
from addiction_index.aftercare._intake_store import IntakeRecords
from addiction_index.aftercare._risk_factors import RiskFactors, load_risk_factors
from addiction_index.aftercare._schedule import FollowupSchedule, load_schedule, next_visit
from addiction_index.store import SessionStore

__all__ = ["IntakeRiskCount", "RiskFunction", "due_list"]

RiskFunction = Callable[[str], tuple[float, str, list[str]]]
"""subject code → (risk value, level, reasons); higher values come first in the due list."""


class IntakeRiskCount:
    """Default risk: how many intake risk factors and instrument results count as a risk.

    Level ``high`` from 4, ``moderate`` from 2, else ``low`` (a convention). Reasons name each
    factor counted and the EVIDENCE items it rests on.
    """

    def __init__(self, store: SessionStore, definitions: RiskFactors | None = None) -> None:
        self.store = store
        self.definitions = definitions or load_risk_factors()

    def __call__(self, subject: str) -> tuple[float, str, list[str]]:
        records = IntakeRecords(self.store)
        factors = records.risk_factors(subject)
        reasons = []
        for name, factor in self.definitions.factors.items():
            value = factors.get(name)
            if factor.counts_as_risk(value):
                cited = ", ".join(factor.evidence)
                reasons.append(f"{name} = {value} (EVIDENCE {cited})")
        for name, response in records.latest_scores(subject).items():
            risk = self.definitions.instrument_risks.get(name)
            if risk is not None and response["band"] in risk.levels:
                reasons.append(f"{name} {response['score']:g} ({response['band']}; {risk.basis})")
        count = len(reasons)
        level = "high" if count >= 4 else "moderate" if count >= 2 else "low"
        return float(count), level, reasons


def due_list(
    store: SessionStore,
    today: date,
    *,
    risk: RiskFunction | None = None,
    schedule: FollowupSchedule | None = None,
    include_upcoming: bool = False,
) -> list[dict[str, Any]]:
    """Residents due or overdue on ``today``, highest risk first (then most days overdue).

    Each row: subject, release_id, release_date, station, days_since_release, visit (label),
    visit_due, state (due / overdue; upcoming too with ``include_upcoming``), days_overdue,
    missed (visits overdue), last_contact, last_status, risk, risk_level, reasons.
    """
    schedule = schedule or load_schedule()
    risk = risk or IntakeRiskCount(store)
    latest: dict[str, dict[str, Any]] = {}
    for release in FollowupRecords(store).releases():
        latest[release["subject"]] = release  # ordered by date: the last one wins
    rows = []
    for subject, release in latest.items():
        released = date.fromisoformat(release["release_date"])
        if released > today:
            continue
        contacts = release["contacts"]
        dates = [date.fromisoformat(c["date"]) for c in contacts if c["date"] <= today.isoformat()]
        where = next_visit(schedule, released, dates, today)
        wanted = ("due", "overdue", "upcoming") if include_upcoming else ("due", "overdue")
        if where.state not in wanted or where.visit is None:
            continue
        value, level, reasons = risk(subject)
        last = contacts[-1] if contacts else None
        rows.append(
            {
                "subject": subject,
                "release_id": release["id"],
                "release_date": release["release_date"],
                "station": release["station"],
                "days_since_release": (today - released).days,
                "visit": where.visit.label,
                "visit_due": where.visit.due.isoformat(),
                "state": where.state,
                "days_overdue": where.days_overdue,
                "missed": where.missed,
                "last_contact": last["date"] if last else None,
                "last_status": last["status"] if last else None,
                "risk": value,
                "risk_level": level,
                "reasons": list(reasons),
            }
        )
    rows.sort(key=lambda r: (-r["risk"], r["state"] != "overdue", -r["days_overdue"], r["subject"]))
    return rows
