"""Four simulated weeks of the loop: an assessment, twelve exercise sessions, a re-assessment.

Every piece is real: simulated assessments through the session runner (index, craving, resting
HR, the first prescription), simulated exercise sessions on the simulated strap held against the
prescribed zone by the zone monitor (stored in SQLite), and the rule set. The sessions run in a
second at high speed; the programme's calendar (week 0 to week 4) is laid over them, as a
centre's four weeks would be.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from addiction_index.prescriptions import load_rule_set, prescribe
from addiction_index.prescriptions._programme import (
    Assessment,
    ExerciseDone,
    Prescribed,
    ProgrammeHistory,
    load_programme_settings,
)
from addiction_index.prescriptions._programme_loop import load_history, loop_state
from addiction_index.sessions import run_simulated_assessment
from addiction_index.sessions._exercise import exercise_target, run_simulated_exercise
from addiction_index.store import open_store

pytestmark = pytest.mark.slow

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SUBJECT = "R-0100"


def _assess(db: Path, craving: float, seed: int):
    return asyncio.run(
        run_simulated_assessment(subject=SUBJECT, craving=craving, seed=seed, db=str(db))
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[ExerciseDone]:
    """Twelve real simulated exercise sessions (3 a week for 4 weeks) in the prescribed zone."""
    db = tmp_path_factory.mktemp("exercise") / "centre.sqlite"
    _assess(db, 60.0, seed=1)  # stores the first prescription the sessions are held against
    done = []
    with open_store(db) as store:
        target = exercise_target(None, SUBJECT, zone=(117, 139), minutes=10)
        for i in range(12):
            result = asyncio.run(run_simulated_exercise(SUBJECT, target, store, seed=i))
            when = T0 + timedelta(weeks=(i + 1) / 3, hours=-2)
            done.append(ExerciseDone(when, result.summary.completion,
                                     result.summary.in_zone_fraction))  # fmt: skip
        assert len(load_history(store, SUBJECT).sessions) == 12  # stored, and read back
    return done


def _programme(tmp_path: Path, first: float, second: float, sessions: list[ExerciseDone]):
    a = _assess(tmp_path / "a.sqlite", first, seed=7)
    b = _assess(tmp_path / "b.sqlite", second, seed=8)
    history = ProgrammeHistory(
        SUBJECT,
        assessments=[
            Assessment(T0, a.outcome.index.value, a.outcome.ratings.get("post_cue")),
            Assessment(
                T0 + timedelta(weeks=4), b.outcome.index.value, b.outcome.ratings.get("post_cue")
            ),
        ],
        sessions=list(sessions),
        prescriptions=[Prescribed(T0 + timedelta(hours=1), 3)],
    )
    settings, rules = load_programme_settings(), load_rule_set()
    state = loop_state(history, {"age": a.resident["age"]}, settings,
                       resting_hr=b.outcome.resting_hr_bpm,
                       index_confidence=b.outcome.index.confidence,
                       now=T0 + timedelta(weeks=4, hours=1))  # fmt: skip
    # The same re-assessment without the programme's response: the dose the rules alone give.
    base = prescribe(rules, replace(state.inputs, response="none", progression_level=0))
    after = prescribe(rules, state.inputs).to_dict()["exercise"]
    print(f"index {a.outcome.index.value:.1f} -> {b.outcome.index.value:.1f}:",
          state.decision.decision, "|", after["progression_applied"])  # fmt: skip
    return state, base.to_dict()["exercise"], after


def test_an_improving_index_progresses_the_plan(tmp_path: Path, sessions) -> None:
    state, base, after = _programme(tmp_path, 85.0, 15.0, sessions)
    assert state.status.sessions_completed == 12
    assert any(r.startswith("time in zone") for r in state.decision.reasons)  # the 4 weeks'
    assert state.decision.decision == "progress", state.decision.reasons
    assert state.decision.index_change <= -10 and state.level == 1
    dose = (after["minutes"], after["intensity_hrr"])
    assert dose > (base["minutes"], base["intensity_hrr"])  # one step up from the rules' dose
    assert after["progression_applied"].startswith("progress: ")


def test_a_worsening_index_steps_the_plan_back(tmp_path: Path, sessions) -> None:
    state, base, after = _programme(tmp_path, 15.0, 90.0, sessions)
    assert state.decision.decision == "step_back", state.decision.reasons
    assert state.decision.index_change >= 10 and state.level == -1
    dose = (after["minutes"], after["intensity_hrr"])
    assert dose < (base["minutes"], base["intensity_hrr"])  # one step down from the rules' dose
    assert after["progression_applied"].startswith("step_back: ")
