"""The relapse risk of one resident from the store: intake factors, instruments, and the two
in-centre terms of the score (the trend of the addiction index and exercise adherence).

:class:`ResidentRisk` is the risk function of the due list (``code → (value, level, reasons)``)
and gives the full :class:`~addiction_index.aftercare._risk.RiskResult` through :meth:`result`.
Reasons are words only (never drug names or index values), so the due list and the hand-over
carry no clinical detail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from addiction_index.aftercare._intake_store import IntakeRecords
from addiction_index.aftercare._outcomes import INSTRUMENT_COLUMNS
from addiction_index.aftercare._risk import RiskDefinition, RiskResult, relapse_risk
from addiction_index.aftercare._risk_factors import FACTOR_IDS
from addiction_index.store import SessionStore

__all__ = ["ResidentRisk", "exercise_adherence", "index_trend", "with_centre_terms"]

DAYS_PER_MONTH = 365.25 / 12
# An exercise session counts as done when at least half of its planned time was done
# (convention: a session stopped early for safety still counts as attended).
_DONE_FRACTION = 0.5


def index_trend(assessments: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of the addiction index in points per month over the completed
    assessments (``ProgrammeRecords.assessments``); None with fewer than two indices."""
    points = [(a["when"], a["index"]) for a in assessments if a.get("index") is not None]
    if len(points) < 2:
        return None
    first = points[0][0]
    months = np.array([(when - first).total_seconds() / 86400 / DAYS_PER_MONTH
                       for when, _ in points])  # fmt: skip
    if np.ptp(months) <= 0:
        return None
    return float(np.polyfit(months, np.array([v for _, v in points], dtype=float), 1)[0])


def exercise_adherence(
    prescriptions: list[dict[str, Any]], sessions: list[dict[str, Any]], today: dt.datetime
) -> float | None:
    """Share (0-1) of the prescribed exercise sessions done: sessions with at least half their
    planned time, over the sessions per week each prescription asked for while it was in force
    (until the next one or ``today``). None without a prescription of exercise."""
    expected = 0.0
    for i, p in enumerate(prescriptions):
        exercise = (p.get("prescription") or {}).get("exercise")
        if not exercise:
            continue
        start = p["created_at"]
        end = prescriptions[i + 1]["created_at"] if i + 1 < len(prescriptions) else today
        weeks = max(0.0, (end - start).total_seconds() / (7 * 86400))
        expected += weeks * float(exercise.get("sessions_per_week") or 0)
    if expected < 1:
        return None
    done = sum(
        1
        for s in sessions
        if s["status"] != "running"
        and (s.get("elapsed_s") or 0) >= _DONE_FRACTION * (s.get("planned_s") or 0)
    )
    return min(1.0, done / expected)


class ResidentRisk:
    """The relapse-risk score of residents in ``store`` (the transparent default, or a retrained
    ``model``); callable as the due list's risk function."""

    def __init__(
        self,
        store: SessionStore,
        definition: RiskDefinition | None = None,
        model: Any | None = None,
        today: dt.datetime | None = None,
    ) -> None:
        self.store, self.definition, self.model = store, definition, model
        self.today = today or dt.datetime.now(dt.UTC)

    def row(self, code: str) -> dict[str, Any]:
        """The score's inputs for ``code``: intake factors, instrument totals, index trend and
        exercise adherence (missing ones are left out: the score lists what it assumed)."""
        from addiction_index.store._exercise_log import ExerciseLog
        from addiction_index.store._programme_store import ProgrammeRecords

        intake = IntakeRecords(self.store)
        factors = intake.risk_factors(code)
        row: dict[str, Any] = {k: factors[k] for k in FACTOR_IDS if factors.get(k) is not None}
        for instrument, column in INSTRUMENT_COLUMNS.items():
            found = intake.latest_scores(code).get(instrument)
            if found is not None:
                row[column] = float(found["score"])
        programme = ProgrammeRecords(self.store)
        trend = index_trend(programme.assessments(code))
        if trend is not None:
            row["index_trend"] = trend
        adherence = exercise_adherence(
            programme.prescriptions(code),
            ExerciseLog(self.store).list_for_subject(code, limit=1000),
            self.today,
        )
        if adherence is not None:
            row["exercise_adherence"] = adherence
        return row

    def result(self, code: str) -> RiskResult:
        return relapse_risk(self.row(code), self.definition, self.model)

    def __call__(self, code: str) -> tuple[float, str, list[str]]:
        result = self.result(code)
        return result.value, result.level, result.reasons


def with_centre_terms(store: SessionStore, frame: Any) -> Any:
    """``frame`` (the outcomes table) with the in-centre columns of each subject added:
    ``index_trend`` and ``exercise_adherence`` (NaN when unknown), for retraining."""
    risk = ResidentRisk(store)
    terms = {code: risk.row(code) for code in frame["subject"].unique()}
    out = frame.copy()
    for column in ("index_trend", "exercise_adherence"):
        out[column] = [terms[code].get(column, np.nan) for code in out["subject"]]
    return out
