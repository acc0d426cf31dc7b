"""The follow-up schedule (``instruments/follow-up-schedule.yaml``), where a release stands on it.

Pure functions on dates: :func:`visits` lists the scheduled visits after a release date;
:func:`next_visit` says, from the dates of the contacts made so far and today, which visit is
next and whether it is upcoming, due or overdue. A contact counts for a visit when it falls on or
after the opening of that visit's window (``early_days`` before its date); the next visit is the
first one whose window opens after the last contact. It is *due* from its window's opening to
``grace_days`` after its date, *overdue* after that (``missed`` counts the visits overdue).
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.resources import content_dir

__all__ = [
    "FollowupSchedule",
    "NextVisit",
    "Visit",
    "add_months",
    "load_schedule",
    "next_visit",
    "visits",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_Strict):
    """Visits at some weeks or months after release, with their window."""

    name: Annotated[str, Field(min_length=1)]
    weeks: list[Annotated[int, Field(ge=1, le=520)]] | None = None
    months: list[Annotated[int, Field(ge=1, le=120)]] | None = None
    early_days: Annotated[int, Field(ge=0, le=60)]
    grace_days: Annotated[int, Field(ge=0, le=90)]

    @model_validator(mode="after")
    def _one_unit(self) -> Phase:
        if (self.weeks is None) == (self.months is None):
            raise ValueError("a phase has either 'weeks' or 'months'")
        return self


class FollowupSchedule(_Strict):
    """The whole schedule file."""

    version: Annotated[str, Field(min_length=1)]
    evidence: Annotated[list[Annotated[str, Field(pattern=r"^\d+\.\d+$")]], Field(min_length=1)]
    phases: Annotated[list[Phase], Field(min_length=1)]


def load_schedule(folder: str | os.PathLike[str] | None = None) -> FollowupSchedule:
    """Load ``follow-up-schedule.yaml`` from the instruments folder (errors name file, line,
    key)."""
    return load_yaml(
        content_dir("instruments", folder) / "follow-up-schedule.yaml", FollowupSchedule
    )


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar ``months``; the day of month is clamped (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Visit:
    """One scheduled visit: its label (``week 1``, ``month 3``), date and window."""

    label: str
    due: date
    opens: date
    overdue_after: date


def visits(schedule: FollowupSchedule, release: date) -> list[Visit]:
    """The scheduled visits after ``release``, in date order."""
    out = []
    for phase in schedule.phases:
        offsets = [("week", w, release + timedelta(weeks=w)) for w in phase.weeks or []]
        offsets += [("month", m, add_months(release, m)) for m in phase.months or []]
        for unit, n, due in offsets:
            out.append(
                Visit(
                    label=f"{unit} {n}",
                    due=due,
                    opens=due - timedelta(days=phase.early_days),
                    overdue_after=due + timedelta(days=phase.grace_days),
                )
            )
    return sorted(out, key=lambda v: v.due)


@dataclass(frozen=True)
class NextVisit:
    """Where a release stands: the next visit, its state, days overdue and visits missed."""

    visit: Visit | None  # None: the schedule is complete
    state: Literal["upcoming", "due", "overdue", "complete"]
    days_overdue: int
    missed: int


def next_visit(
    schedule: FollowupSchedule, release: date, contacts: Iterable[date], today: date
) -> NextVisit:
    """The next visit after the last contact (or the release), and its state on ``today``."""
    dates = [d for d in contacts if d >= release]
    last = max(dates) if dates else None
    pending = [v for v in visits(schedule, release) if last is None or v.opens > last]
    if not pending:
        return NextVisit(None, "complete", 0, 0)
    first = pending[0]
    if today < first.opens:
        return NextVisit(first, "upcoming", 0, 0)
    if today <= first.overdue_after:
        return NextVisit(first, "due", 0, 0)
    missed = sum(1 for v in pending if today > v.overdue_after)
    return NextVisit(first, "overdue", (today - first.due).days, missed)
