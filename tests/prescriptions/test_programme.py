"""The loop's decisions on hand-made histories: re-assessment due, progress, hold, step back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from addiction_index.errors import ConfigError
from addiction_index.prescriptions._programme import (
    Assessment,
    ExerciseDone,
    Prescribed,
    ProgrammeHistory,
    decide_response,
    load_programme_settings,
    programme_status,
)

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def week(w: float) -> datetime:
    return T0 + timedelta(weeks=w)


def history(
    index: tuple[float, float],
    craving: tuple[float, float] = (60.0, 60.0),
    weeks: int = 4,
    per_week: int = 3,
    zone: float = 0.8,
    completion: float = 1.0,
    stopped: int = 0,
) -> ProgrammeHistory:
    """Assessments at week 0 and ``weeks``; ``per_week`` sessions a week in between."""
    sessions = [
        ExerciseDone(
            week(i / per_week) + timedelta(hours=1),
            completion,
            zone,
            "stop_ceiling" if i < stopped else None,
        )
        for i in range(weeks * per_week)
    ]
    return ProgrammeHistory(
        "R-0001",
        assessments=[
            Assessment(week(0), index[0], craving[0]),
            Assessment(week(weeks), index[1], craving[1]),
        ],
        sessions=sessions,
        prescriptions=[Prescribed(week(0) + timedelta(minutes=30), 3)],
    )


@pytest.fixture(scope="module")
def settings():
    return load_programme_settings()


def decide(h: ProgrammeHistory, settings, at: float = 4.05):
    status = programme_status(h, settings, week(at))
    return status, decide_response(h, status, settings)


def test_better_index_with_sessions_done_in_zone_progresses(settings) -> None:
    status, d = decide(history((70, 50)), settings)
    assert status.sessions_completed == 12 and status.adherence == pytest.approx(1.0, abs=0.02)
    assert d.decision == "progress" and d.index_change == -20
    assert any("index 70 → 50" in r for r in d.reasons)


def test_worse_index_steps_back_outside_the_incubation_window(settings) -> None:
    _, d = decide(history((50, 70)), settings)
    assert d.decision == "step_back" and d.index_change == 20


def test_worse_index_inside_the_incubation_window_holds(settings) -> None:
    h = history((50, 70), weeks=12)
    _, d = decide(h, settings, at=12.05)
    assert d.decision == "hold" and "EVIDENCE 6.3" in d.reasons[0]


def test_small_changes_hold_and_say_what_is_missing(settings) -> None:
    _, d = decide(history((55, 50), zone=0.3), settings)
    assert d.decision == "hold"
    assert "no change of 10 points yet" in d.reasons[0] and "time in zone below 60%" in d.reasons[0]
    assert "EVIDENCE 4.4" in d.reasons[0]  # craving falls after about 6 weeks


def test_low_adherence_and_safety_stops_step_back(settings) -> None:
    _, d = decide(history((70, 50), per_week=1), settings)  # 4 of 12 sessions
    assert d.decision == "step_back" and "adherence" in d.reasons[0]
    _, d = decide(history((70, 50), stopped=2), settings)
    assert d.decision == "step_back" and "safety alert" in d.reasons[0]


def test_one_assessment_gives_no_response(settings) -> None:
    h = history((70, 50))
    h.assessments.pop()
    assert decide(h, settings)[1].decision == "none"


def test_reassessment_due_by_week_or_by_sessions(settings) -> None:
    h = history((70, 50))
    h.assessments.pop()
    assert programme_status(h, settings, week(2)).reassessment_due is False
    due = programme_status(h, settings, week(4.1))
    assert due.reassessment_due and "week 4" in due.reassessment_reason
    h.sessions = [ExerciseDone(week((i + 1) / 7), 1.0, 0.8) for i in range(12)]  # 12 in 12 days
    by_count = programme_status(h, settings, week(2))
    assert by_count.reassessment_due and "12 sessions" in by_count.reassessment_reason


def test_settings_errors_name_the_file_and_key(tmp_path) -> None:
    bad = tmp_path / "programme.yaml"
    text = load_programme_settings.__module__  # any file: copy the shipped one and break it
    from addiction_index.resources import content_file

    shipped = content_file("prescriptions", "programme.yaml").read_text()
    bad.write_text(shipped.replace("change_points: 10", "change_points: -3"))
    with pytest.raises(ConfigError) as info:
        load_programme_settings(bad)
    assert "programme.yaml" in str(info.value) and "change_points" in str(info.value)
    assert text
