"""The hand-over to the community station (consent, least data), the resident's relapse risk from
the store (intake, index trend, exercise adherence), and the ``handover`` / ``cohort`` commands on
a real SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.aftercare import (
    Contact,
    FollowupRecords,
    IntakeRecords,
    Release,
    load_instrument,
    score_answers,
)
from addiction_index.aftercare._handover import (
    HANDOVER_FIELDS,
    ConsentMissingError,
    handover,
    render_handover_html,
)
from addiction_index.aftercare._resident_risk import ResidentRisk, exercise_adherence, index_trend
from addiction_index.aftercare._simulate import simulate_outcomes
from addiction_index.cli import app
from addiction_index.store import open_store

CODE = "R-0101"
FACTORS = {"drug_type": "heroin", "years_of_use": 12, "prior_treatments": 3,
           "employment": "unemployed", "income": "none", "marital_status": "divorced",
           "lives_where_registered": False}  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A resident with a real simulated assessment and prescription, an intake with
    instruments, and a release with consent and one contact."""
    from addiction_index.sessions import run_simulated_assessment

    path = tmp_path_factory.mktemp("handover") / "centre.sqlite"
    asyncio.run(run_simulated_assessment(subject=CODE, craving=60.0, seed=4, db=str(path)))
    phq9 = load_instrument("phq9")
    sds = load_instrument("sds")
    with open_store(path) as store:
        IntakeRecords(store).record_intake(
            CODE,
            factors=FACTORS,
            scores=[
                score_answers(phq9, dict.fromkeys(phq9.item_ids, 2)),  # 18: moderately severe
                score_answers(sds, dict.fromkeys(sds.item_ids, 3)),
            ],
        )
        records = FollowupRecords(store)
        released = dt.date.today() - dt.timedelta(days=10)
        records.add_release(Release(CODE, released, "community station 12", True, released))
        records.add_contact(Contact(CODE, released + dt.timedelta(days=7), "phone", "abstinent"))
        records.add_release(Release("R-0102", released, "community station 3"))  # no consent
    return path


def test_the_hand_over_carries_the_least_data(db: Path) -> None:
    with open_store(db) as store:
        data = handover(store, CODE)
        session = store.list_sessions(CODE)[0]
    assert tuple(data) == HANDOVER_FIELDS
    assert data["station"] == "community station 12" and data["schedule"]
    assert data["exercise"]["zone_bpm"] and "bpm" in render_handover_html(data)
    assert data["risk"]["level"] in ("low", "moderate", "high")
    # reasons a station can act on; the drug and mental-health factors stay in the centre
    assert data["risk"]["reasons"] and "unemployment" in data["risk"]["reasons"]
    html = render_handover_html(data)
    # everything but the fixed not-a-diagnosis statement (which names "the index" in general)
    text = (
        (json.dumps(data) + html)
        .replace(NOT_A_DIAGNOSIS, "")
        .replace(json.dumps(NOT_A_DIAGNOSIS)[1:-1], "")
    )
    assert NOT_A_DIAGNOSIS in html
    forbidden = ["heroin", "drug_type", "years_of_use", "prior_treatments", "compulsory",
                 "dependence", "depress", "anxiety", "phq", "sds", "craving", "index",
                 "divorced", "income", f'"{session["index_value"]}"']  # fmt: skip
    for word in forbidden:
        assert word not in text.lower(), word
    assert not re.search(r"https?://|<script|<link", html)  # self-contained, nothing to load


def test_no_hand_over_without_a_recorded_consent(db: Path) -> None:
    with open_store(db) as store, pytest.raises(ConsentMissingError, match="--consent"):
        handover(store, "R-0102")
    result = CliRunner().invoke(app, ["handover", "R-0102", "--db", str(db), "--json"])
    assert result.exit_code != 0 and "no consent is recorded" in result.output


def test_the_handover_command_writes_html(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "handover.html"
    result = CliRunner().invoke(
        app, ["handover", CODE, "--db", str(db), "--html", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["written"] == [str(out)] and CODE in out.read_text(encoding="utf-8")


def test_the_resident_risk_reads_intake_and_centre_terms(db: Path) -> None:
    with open_store(db) as store:
        risk = ResidentRisk(store)
        row = risk.row(CODE)
        result = risk.result(CODE)
        blank = risk.result("R-0102")
    assert {k: row[k] for k in FACTORS} == FACTORS
    assert row["phq9"] == 18 and "index_trend" not in row  # one assessment: no trend yet
    assert result.value > blank.value and result.level == "high"
    assert not any("heroin" in r for r in result.reasons)


def test_index_trend_and_exercise_adherence_by_hand() -> None:
    day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    month = dt.timedelta(days=365.25 / 12)
    assessments = [{"when": day + k * month, "index": 60 - 5 * k} for k in range(3)]
    assert index_trend(assessments) == pytest.approx(-5.0)
    assert index_trend(assessments[:1]) is None
    prescriptions = [
        {"created_at": day, "prescription": {"exercise": {"sessions_per_week": 3}}},
        {"created_at": day + dt.timedelta(weeks=2), "prescription": {"exercise": None}},
    ]
    done = {"status": "completed", "elapsed_s": 1800, "planned_s": 1800}
    short = {"status": "stopped", "elapsed_s": 300, "planned_s": 1800}
    sessions = [done] * 3 + [short]
    # 2 weeks x 3 sessions expected, 3 done (the short one does not count)
    assert exercise_adherence(prescriptions, sessions, day + dt.timedelta(weeks=4)) == 0.5
    assert exercise_adherence([], sessions, day) is None


def _store_cohort(path: Path, n: int, seed: int) -> None:
    """Releases and contacts of a simulated outcomes table, written through the records API."""
    frame = simulate_outcomes(n, seed=seed, log_hr={"prior_treatments": np.log(1.6)})
    with open_store(path) as store:
        records = FollowupRecords(store)
        intake = IntakeRecords(store)
        for row in frame.itertuples():
            released = row.release_date.date()
            records.add_release(Release(row.subject, released, row.station))
            intake.record_intake(
                row.subject, factors={"prior_treatments": int(row.prior_treatments)}
            )
            end = row.end_date.date()
            if row.relapsed:
                records.add_contact(Contact(row.subject, end, "visit", "relapsed", "positive"))
            elif end > released:
                records.add_contact(Contact(row.subject, end, "phone", "abstinent"))
            if row.lost:
                later = end + dt.timedelta(days=30)
                records.add_contact(Contact(row.subject, later, "phone", "lost"))


@pytest.mark.slow
def test_cohort_report_and_risk_training_commands(tmp_path: Path) -> None:
    db = tmp_path / "cohort.sqlite"
    _store_cohort(db, 150, seed=3)
    runner = CliRunner()
    html = tmp_path / "cohort.html"
    report = runner.invoke(app, ["cohort", "report", "--by", "prior_treatments", "--db", str(db),
                                 "--html", str(html), "--json"])  # fmt: skip
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["cohort"]["releases"] == 150 and data["groups"]["logrank_p"] is not None
    assert [r["months"] for r in data["rates"]] == [3, 6, 12, 24, 36]
    page = html.read_text(encoding="utf-8")
    assert "SIM-0001" not in page and data["labels"]["lost_as_relapsed"].split(" (")[0] in page
    human = runner.invoke(app, ["cohort", "report", "--db", str(db)])
    assert human.exit_code == 0 and "lost counted as relapsed" in human.output

    trained = runner.invoke(app, ["cohort", "train-risk", "centre-cox", "--db", str(db),
                                  "--models-dir", str(tmp_path / "models"), "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    model = json.loads(trained.output)
    assert 0.55 < model["c_index"]["mean"] <= 1.0  # prior treatments carry a true HR of 1.6
    assert Path(model["written"]["card"]).read_text(encoding="utf-8").startswith("# Model card")
    due = runner.invoke(app, ["followup", "due", "--db", str(db), "--json", "--upcoming",
                              "--relapse-model", model["written"]["json"]])  # fmt: skip
    assert due.exit_code == 0, due.output
