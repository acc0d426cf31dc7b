"""``addiction-index demo-centre``: a simulated rehabilitation centre in a database, for demos.

:func:`fill_demo_centre` admits simulated residents (pseudonymous codes ``R-0001``...) over a
window of months ending today and runs, day by day, what the centre would have recorded: real
simulated assessments through :func:`~addiction_index.sessions.run_simulated_assessment` (which
also prescribes, through the prescription loop) and simulated exercise sessions held against
the prescription in force (:func:`~addiction_index.sessions._exercise.run_simulated_exercise`),
rated afterwards. Every row is marked simulated. The store clock
(:func:`~addiction_index.store._database.simulated_now`) dates each write at the session's
simulated time: its scheduled start plus the simulated seconds elapsed in the session.

The centre is a plausible demonstration, not a model of recovery. Choices (conventions unless
an EVIDENCE item is named):

* Admissions are staggered uniformly over the window, the last one at least 4 weeks before its
  end (so that most residents reach a re-assessment). A stay lasts 12-26 weeks (the 12-week
  programme up to six months); one resident in ten drops out after 3-8 weeks.
* A resident is one simulated person: one seed for every assessment, hence one age, resting
  heart rate and reactivity. Latent craving starts at 45-90; a responder's falls towards a floor
  of 15-35 with a time constant of 6-14 weeks once the programme's craving latency has passed
  (``craving_latency_weeks`` of ``programme.yaml``, EVIDENCE 4.4); one resident in seven does
  not respond (craving stays near intake). Each assessment adds ±4 points of day-to-day noise.
* The intake assessment is on the admission day. Re-assessments follow the programme loop
  itself: on the centre's assessment day (Monday) a resident is re-assessed when
  :func:`~addiction_index.prescriptions._programme.programme_status` says one is due (weeks 4,
  13, 26, or after 12 completed sessions).
* Exercise sessions are on fixed weekday afternoons, as many a week as the prescription in force
  says (at most five, Monday to Friday); each is attended with the resident's adherence,
  drawn from 55-95 % (EVIDENCE 4.8 reports 74 % in a residential programme). One session in
  eight (one in three of the first four, while the strap and the pacing are new) has a scripted
  deviation: slowing down, pushing above the zone, a sprint over the ceiling, or the strap
  losing contact, so cues, warnings and safety stops appear.
* After a session the resident gives an RPE around the prescribed one (±1, +2 after a sprint)
  and a craving 10-45 % below the day's latent craving (an acute drop after moderate exercise).
* Assessments start at 09:00 UTC and exercise sessions at 14:00 UTC, staggered per resident;
  nothing starts later than four hours before now.

Speed: one assessment (the ``demo`` protocol, 8 simulated minutes) takes about 3.5 s on one
core, an exercise session 0.3-0.4 s; the default centre (40 residents, 6 months: about 120
assessments and 1,100 exercise sessions) takes 10-15 minutes. It runs sequentially, on
purpose: the crash recovery at the start of every session closes sessions idle for two minutes,
and the running sessions of parallel workers, dated at different places of the simulated past,
would look idle to each other and be closed as interrupted.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.errors import InputError
from addiction_index.prescriptions._programme import (
    ProgrammeSettings,
    load_programme_settings,
    programme_status,
)
from addiction_index.prescriptions._programme_loop import load_history
from addiction_index.sessions._assessment import run_simulated_assessment
from addiction_index.sessions._exercise import (
    ExerciseTarget,
    FixedRatings,
    exercise_target,
    run_simulated_exercise,
)
from addiction_index.store import open_store
from addiction_index.store._database import resolve_database_url, simulated_now, utc_now
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.store._repository import SessionStore

__all__ = [
    "DemoCentreSummary",
    "DemoResident",
    "demo_window",
    "fill_demo_centre",
    "plan_residents",
    "refuse_filled",
]

DAYS_PER_MONTH = 365.25 / 12
MAX_RESIDENTS = 999  # codes R-0001 ... and seeds seed * 1000 + number stay distinct
MAX_MONTHS = 24
_LAST_ADMISSION_DAYS = 28  # the last admission is at least 4 weeks before the window ends
_STAY_WEEKS = (12.0, 26.0)
_DROPOUT_SHARE = 0.10
_DROPOUT_WEEKS = (3.0, 8.0)
_NON_RESPONDERS = 1 / 7
_INTAKE_CRAVING = (45.0, 90.0)
_FLOOR_CRAVING = (15.0, 35.0)
_TAU_WEEKS = (6.0, 14.0)
_CRAVING_NOISE = 4.0
_ADHERENCE = (0.55, 0.95)
_ASSESSMENT_DAY = 0  # Monday
_ASSESSMENT_AT = timedelta(hours=9)
_EXERCISE_AT = timedelta(hours=14)
_STAGGER = timedelta(minutes=20)  # residents start 20 min apart...
_STAGGER_SLOTS = 9  # ...in 9 slots (3 hours)
_WEEKDAYS = {1: (2,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4)}
_NEW_SESSIONS = 4  # a resident's first sessions, while the strap and the pacing are new...
_DEVIATION_P_NEW = 1 / 3  # ...have a scripted deviation with this probability
_DEVIATION_P = 1 / 8  # and later ones with this
_DEVIATIONS = {  # kind: (probability, duration range in s)
    "drift_low": (0.35, (120.0, 240.0)),
    "drift_high": (0.20, (120.0, 240.0)),
    "spike_above_ceiling": (0.25, (30.0, 90.0)),
    "sensor_off": (0.20, (20.0, 90.0)),
}
_POST_CRAVING_DROP = (0.10, 0.45)
_LATEST_START = timedelta(hours=4)  # nothing starts later than this before now
_STREAMS = ("craving", "attendance", "script", "ratings")


@dataclass(frozen=True)
class DemoResident:
    """One simulated resident: code, the simulated person's seed, stay and craving course.

    The resident is in the centre from ``admitted`` up to the day before ``leaves``. Latent
    craving (0-100) falls from ``intake_craving`` towards ``floor_craving`` with time constant
    ``tau_weeks`` after ``latency_weeks`` (a non-responder's floor is the intake craving).
    ``adherence`` is the probability of attending a scheduled exercise session.
    """

    number: int
    seed: int
    admitted: date
    leaves: date
    intake_craving: float
    floor_craving: float
    tau_weeks: float
    latency_weeks: float
    adherence: float

    @property
    def code(self) -> str:
        return f"R-{self.number:04d}"

    @property
    def responder(self) -> bool:
        return self.floor_craving < self.intake_craving

    def present(self, day: date) -> bool:
        return self.admitted <= day < self.leaves

    def latent_craving(self, day: date) -> float:
        """The craving course on ``day`` (0-100), without the day-to-day noise."""
        weeks = max(0.0, (day - self.admitted).days / 7 - self.latency_weeks)
        fall = 1.0 - math.exp(-weeks / self.tau_weeks)
        return self.intake_craving + (self.floor_craving - self.intake_craving) * fall


@dataclass
class DemoCentreSummary:
    """What :func:`fill_demo_centre` wrote: counts of residents (``in_residence`` on the last day),
    assessments, prescriptions, exercise sessions (``exercise_with_alerts`` of them with a
    warning or an alert), the simulated ``first`` start and ``last`` end, and the wall
    ``seconds`` it took."""

    database: str
    residents: int
    in_residence: int
    assessments: int
    prescriptions: int
    exercise_sessions: int
    exercise_with_alerts: int
    first: datetime | None
    last: datetime | None
    months: int
    seed: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The summary as printed by ``--json`` (datetimes as ISO 8601, marked simulated)."""
        out = asdict(self)
        for key in ("first", "last"):
            out[key] = out[key].isoformat() if out[key] else None
        return out | {"simulated": True, "statement": NOT_A_DIAGNOSIS}


class _SessionClock:
    """The store clock during one simulated session: its start plus the simulated seconds
    elapsed (from ``follow``), never twice the same instant, so writes keep their order."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed_s: Callable[[], float] = lambda: 0.0
        self.last: datetime | None = None
        self._lock = threading.Lock()

    def follow(self, elapsed_s: Callable[[], float]) -> None:
        self.elapsed_s = elapsed_s

    def __call__(self) -> datetime:
        with self._lock:
            now = self.start + timedelta(seconds=self.elapsed_s())
            if self.last is not None and now <= self.last:
                now = self.last + timedelta(milliseconds=1)
            self.last = now
            return now


def demo_window(months: int, start: date | None = None, *, today: date | None = None) -> list[date]:
    """The days of the simulated window: ``months`` from ``start`` (default: ending today),
    never past today. Raises :class:`InputError` for a start after today."""
    today = today or utc_now().date()
    length = round(months * DAYS_PER_MONTH)
    first = start if start is not None else today - timedelta(days=length - 1)
    if first > today:
        raise InputError("start", first.isoformat(), f"a day no later than today ({today})")
    last = min(first + timedelta(days=length - 1), today)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan_residents(
    count: int, days: list[date], seed: int, latency_weeks: float
) -> list[DemoResident]:
    """``count`` residents admitted over ``days`` (earliest first), deterministic in ``seed``."""
    rng = np.random.default_rng([seed, 0])
    span = max(0, len(days) - _LAST_ADMISSION_DAYS)
    offsets = np.sort(rng.integers(0, span + 1, size=count))
    residents = []
    for number, offset in enumerate(offsets.tolist(), start=1):
        dropout = rng.random() < _DROPOUT_SHARE
        weeks = rng.uniform(*(_DROPOUT_WEEKS if dropout else _STAY_WEEKS))
        intake = rng.uniform(*_INTAKE_CRAVING)
        responder = rng.random() >= _NON_RESPONDERS
        floor = rng.uniform(*_FLOOR_CRAVING)
        admitted = days[0] + timedelta(days=offset)
        residents.append(
            DemoResident(
                number=number,
                seed=seed * 1000 + number,
                admitted=admitted,
                leaves=admitted + timedelta(days=round(7 * weeks)),
                intake_craving=round(intake, 1),
                floor_craving=round(floor if responder else intake, 1),
                tau_weeks=round(rng.uniform(*_TAU_WEEKS), 1),
                latency_weeks=latency_weeks,
                adherence=round(rng.uniform(*_ADHERENCE), 2),
            )
        )
    return residents


class _Centre:
    """Runs the residents' days against one store and counts what it wrote."""

    def __init__(
        self, store: SessionStore, url: str, settings: ProgrammeSettings, seed: int, now: datetime
    ) -> None:
        self.store, self.url, self.settings, self.now = store, url, settings, now
        self.log = ExerciseLog(store)
        self.seed = seed
        self.rngs: dict[tuple[int, str], np.random.Generator] = {}
        self.sessions_done: dict[int, int] = {}
        self.targets: dict[int, ExerciseTarget | None] = {}  # per resident, until re-assessed
        self.counts = dict.fromkeys(
            ("assessments", "prescriptions", "exercise_sessions", "exercise_with_alerts"), 0
        )
        self.first: datetime | None = None
        self.last: datetime | None = None

    def rng(self, resident: DemoResident, stream: str) -> np.random.Generator:
        """The resident's own draws, one stream per use (:data:`_STREAMS`), so that, say, the
        script of a resident's n-th exercise session does not depend on the calendar."""
        key = (resident.number, stream)
        if key not in self.rngs:
            self.rngs[key] = np.random.default_rng(
                [self.seed, resident.number, _STREAMS.index(stream)]
            )
        return self.rngs[key]

    def at(self, resident: DemoResident, day: date, offset: timedelta) -> datetime | None:
        """The resident's start time that day (staggered), or None when it is too late."""
        stagger = _STAGGER * ((resident.number - 1) % _STAGGER_SLOTS)
        when = datetime.combine(day, datetime.min.time(), UTC) + offset + stagger
        return when if when + _LATEST_START <= self.now else None

    def run_day(self, resident: DemoResident, day: date) -> None:
        """Assess (on admission, or when the programme says a re-assessment is due), then
        exercise if a session is scheduled that day and the resident attends."""
        morning = self.at(resident, day, _ASSESSMENT_AT)
        if morning is not None and (
            day == resident.admitted
            or (day.weekday() == _ASSESSMENT_DAY and self.reassessment_due(resident, morning))
        ):
            self.assess(resident, morning)
        afternoon = self.at(resident, day, _EXERCISE_AT)
        if afternoon is not None and day > resident.admitted:
            target = self.target(resident)
            if target is not None and self.attends(resident, day, target):
                self.exercise(resident, afternoon, target)

    def reassessment_due(self, resident: DemoResident, when: datetime) -> bool:
        history = load_history(self.store, resident.code)
        return programme_status(history, self.settings, when).reassessment_due

    def target(self, resident: DemoResident) -> ExerciseTarget | None:
        """The zone, ceiling and minutes of the prescription in force, or None without one
        (no prescription yet, or exercise vetoed by a contraindication). Only an assessment
        prescribes here, so it is read again after each one."""
        if resident.number not in self.targets:
            try:
                target: ExerciseTarget | None = exercise_target(self.log, resident.code)
            except InputError:
                target = None
            if target is not None and target.zone_source != "prescription":
                target = None
            self.targets[resident.number] = target
        return self.targets[resident.number]

    def attends(self, resident: DemoResident, day: date, target: ExerciseTarget) -> bool:
        per_week = int((target.prescription or {}).get("sessions_per_week") or 3)
        weekdays = _WEEKDAYS[min(max(per_week, 1), 5)]
        if day.weekday() not in weekdays:
            return False
        return bool(self.rng(resident, "attendance").random() < resident.adherence)

    def record(self, clock: _SessionClock) -> None:
        self.first = min(self.first or clock.start, clock.start)
        if clock.last is not None:
            self.last = max(self.last or clock.last, clock.last)

    def assess(self, resident: DemoResident, when: datetime) -> None:
        noise = self.rng(resident, "craving").normal(0.0, _CRAVING_NOISE)
        craving = float(np.clip(resident.latent_craving(when.date()) + noise, 0.0, 100.0))
        clock = _SessionClock(when)
        with simulated_now(clock):
            result = asyncio.run(
                run_simulated_assessment(
                    subject=resident.code,
                    craving=round(craving, 1),
                    seed=resident.seed,
                    db=self.url,
                    speed=math.inf,
                    on_runner=lambda runner: clock.follow(runner.clock.elapsed),
                )
            )
        self.record(clock)
        self.targets.pop(resident.number, None)
        self.counts["assessments"] += 1
        self.counts["prescriptions"] += result.prescription is not None

    def exercise(self, resident: DemoResident, when: datetime, target: ExerciseTarget) -> None:
        done = self.sessions_done.get(resident.number, 0)
        self.sessions_done[resident.number] = done + 1
        script = _script(self.rng(resident, "script"), target, new=done < _NEW_SESSIONS)
        craving = resident.latent_craving(when.date())
        rater = _ratings(self.rng(resident, "ratings"), target, script, craving)
        clock = _SessionClock(when)
        t_s = [0.0]
        clock.follow(lambda: t_s[0])

        def on_update(t: float, hr: float | None, monitor: Any) -> None:
            t_s[0] = t

        with simulated_now(clock):
            result = asyncio.run(
                run_simulated_exercise(
                    resident.code,
                    target,
                    self.log,
                    seed=resident.seed * 1000 + done,
                    script=script,
                    rater=rater,
                    on_update=on_update,
                )
            )
        self.record(clock)
        self.counts["exercise_sessions"] += 1
        alerted = any(e.severity in ("warning", "alert") for e in result.events)
        self.counts["exercise_with_alerts"] += alerted


def _script(rng: np.random.Generator, target: ExerciseTarget, *, new: bool) -> str:
    """A scripted deviation in the main part of the session, or none (module docstring)."""
    p = _DEVIATION_P_NEW if new else _DEVIATION_P
    if rng.random() >= p:
        return ""
    kinds = list(_DEVIATIONS)
    kind = kinds[rng.choice(len(kinds), p=[_DEVIATIONS[k][0] for k in kinds])]
    start = rng.uniform(0.35, 0.6) * target.planned_s
    length = rng.uniform(*_DEVIATIONS[kind][1])
    return f"{start:.0f}-{start + length:.0f}:{kind}"


def _ratings(
    rng: np.random.Generator, target: ExerciseTarget, script: str, craving: float
) -> FixedRatings:
    """RPE around the prescribed one, craving after the session below the day's craving."""
    low, high = target.rpe_target or (12, 13)
    rpe = (low + high) / 2 + rng.normal(0.0, 1.0) + (2.0 if "spike" in script else 0.0)
    after = craving * (1.0 - rng.uniform(*_POST_CRAVING_DROP))
    return FixedRatings(int(np.clip(round(rpe), 6, 20)), float(round(np.clip(after, 0, 100))))


def _check(residents: int, months: int, seed: int) -> None:
    for name, value, low, high in (
        ("residents", residents, 1, MAX_RESIDENTS),
        ("months", months, 1, MAX_MONTHS),
        ("seed", seed, 0, 2**31 - 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(name, value, f"a whole number from {low} to {high}")


def refuse_filled(store: SessionStore) -> None:
    """Raise :class:`InputError` naming the database when it already holds residents: demo
    data must never mix with real residents."""
    held = store.count_subjects()
    if held:
        raise InputError(
            "db",
            store.url,
            f"an empty database: it already holds {held} resident(s), and simulated residents "
            "must never mix with real ones (give a new --db)",
        )


def fill_demo_centre(
    db: str | None = None,
    *,
    residents: int = 40,
    months: int = 6,
    seed: int = 0,
    start: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoCentreSummary:
    """Fill an empty database with a simulated centre (see the module docstring).

    ``residents`` are admitted over ``months`` from ``start`` (default: ending today);
    everything is deterministic in ``seed`` and the window. ``progress(1)`` is called after each
    simulated day (:func:`demo_window` gives the days). Synchronous: it runs an event loop per
    session. Raises :class:`InputError` for bad sizes or a database that holds residents, and
    :class:`StorageError` when the database cannot be opened or written (what was written stays:
    start again on a new database).
    """
    _check(residents, months, seed)
    began = time.perf_counter()
    now = utc_now()
    days = demo_window(months, start, today=now.date())
    settings = load_programme_settings()
    url = resolve_database_url(db)
    with open_store(url) as store:
        refuse_filled(store)
        latency = settings.response.craving_latency_weeks
        plan = plan_residents(residents, days, seed, latency)
        centre = _Centre(store, url, settings, seed, now)
        for day in days:
            for resident in plan:
                if resident.present(day):
                    centre.run_day(resident, day)
            if progress is not None:
                progress(1)
        database = store.url
    return DemoCentreSummary(
        database=database,
        residents=len(plan),
        in_residence=sum(r.present(days[-1]) for r in plan),
        months=months,
        seed=seed,
        first=centre.first,
        last=centre.last,
        seconds=round(time.perf_counter() - began, 1),
        **centre.counts,
    )
