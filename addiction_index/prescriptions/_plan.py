"""The plan view: weeks of prescriptions, sessions done and indices over time, and its plot.

:func:`build_plan` gives one row per programme week (the prescription in force, sessions done
and their mean time in zone, assessments with index and craving), the programme status and the
last response; :func:`plot_plan` draws the index and craving at each assessment above the
sessions per week and their time in zone (matplotlib, PNG).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from addiction_index.prescriptions._programme import (
    ProgrammeSettings,
    decide_response,
    programme_status,
)
from addiction_index.prescriptions._programme_loop import load_history
from addiction_index.store._database import utc_now

if TYPE_CHECKING:
    from addiction_index.store import SessionStore

__all__ = ["build_plan", "plot_plan"]

WEEK_S = 7 * 86400.0


def _describe(prescription: dict[str, Any]) -> str:
    ex = prescription.get("exercise")
    if ex is None:
        return (
            "no exercise (" + "; ".join((prescription.get("veto") or {}).get("actions", [])) + ")"
        )
    mark = " (overridden)" if prescription.get("overridden") else ""
    return (
        f"{ex['type']} {ex['sessions_per_week']}×/wk {ex['minutes'][0]}-{ex['minutes'][1]} min "
        f"{ex['zone_bpm'][0]}-{ex['zone_bpm'][1]} bpm{mark}"
    )


def build_plan(
    store: SessionStore, subject: str, settings: ProgrammeSettings, now: datetime | None = None
) -> dict[str, Any]:
    """The plan of ``subject`` as plain data (see the module docstring)."""
    from addiction_index.store._programme_store import ProgrammeRecords

    now = now or utc_now()
    history = load_history(store, subject)
    prescriptions = ProgrammeRecords(store).prescriptions(subject)
    status = programme_status(history, settings, now)
    response = decide_response(history, status, settings)
    start = status.started or (history.assessments[0].when if history.assessments else now)
    n_weeks = max(1, math.ceil((now - start).total_seconds() / WEEK_S))

    def week_of(when: datetime) -> int:
        return max(0, int((when - start).total_seconds() // WEEK_S))

    weeks = []
    for w in range(n_weeks):
        in_force = [p for p in prescriptions if week_of(p["created_at"]) <= w]
        sessions = [s for s in history.sessions if week_of(s.when) == w]
        zone = [s.time_in_zone for s in sessions if s.time_in_zone is not None]
        weeks.append(
            {
                "week": w + 1,
                "prescription": _describe(in_force[-1]["prescription"]) if in_force else None,
                "sessions": len(sessions),
                "time_in_zone": round(sum(zone) / len(zone), 3) if zone else None,
                "assessments": [
                    f"index {a.index:.0f}" if a.index is not None else "index —"
                    for a in history.assessments
                    if week_of(a.when) == w
                ],
            }
        )
    return {
        "subject": subject,
        "started": start.isoformat(),
        "weeks": weeks,
        "assessments": [
            {"when": a.when.isoformat(), "index": a.index, "craving": a.craving}
            for a in history.assessments
        ],
        "sessions": [
            {"when": s.when.isoformat(), "completion": s.completion, "time_in_zone": s.time_in_zone}
            for s in history.sessions
        ],
        "status": status.to_dict(),
        "response": response.to_dict(),
    }


def plot_plan(plan: dict[str, Any], path: str | Path) -> Path:
    """Index and craving at each assessment; sessions per week with their time in zone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = datetime.fromisoformat(plan["started"])

    def week(when: str) -> float:
        return (datetime.fromisoformat(when) - start).total_seconds() / WEEK_S

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    xs = [week(a["when"]) for a in plan["assessments"]]
    for key, style in (("index", "o-"), ("craving", "s--")):
        ys = [math.nan if a[key] is None else a[key] for a in plan["assessments"]]
        top.plot(xs, ys, style, label=f"{key} (0-100)")
    top.set_ylim(0, 100)
    top.set_ylabel("at each assessment")
    top.legend(loc="upper right")
    top.set_title(f"Plan of {plan['subject']} (research and decision support, not diagnosis)")
    weeks = [w["week"] - 0.5 for w in plan["weeks"]]
    bottom.bar(weeks, [w["sessions"] for w in plan["weeks"]], width=0.8, alpha=0.6,
               label="sessions")  # fmt: skip
    bottom.set_ylabel("sessions per week")
    twin = bottom.twinx()
    zone = [math.nan if w["time_in_zone"] is None else 100 * w["time_in_zone"]
            for w in plan["weeks"]]  # fmt: skip
    twin.plot(weeks, zone, "k.-", label="time in zone (%)")
    twin.set_ylim(0, 100)
    twin.set_ylabel("time in zone (%)")
    bottom.set_xlabel("weeks in the programme")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
