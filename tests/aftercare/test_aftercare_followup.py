"""Schedule, due list, CSV import, outcomes table and the CLI, on a SQLite file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from addiction_index.aftercare import (
    Contact,
    FollowupRecords,
    IntakeRecords,
    Release,
    due_list,
    import_followups,
    load_mapping,
    load_schedule,
    outcomes_frame,
    parse_date,
    visits,
)
from addiction_index.cli import app
from addiction_index.store import open_store
from addiction_index.store._aftercare_schema import FollowupContactRecord, ReleaseRecord

REPO = Path(__file__).resolve().parents[2]
MAPPING = REPO / "instruments" / "import-mapping.example.yaml"
EXAMPLE = REPO / "instruments" / "import-records.example.csv"


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "centre.sqlite") as opened:
        yield opened


def test_schedule_is_dense_first_then_monthly_bimonthly_quarterly() -> None:
    found = visits(load_schedule(), date(2026, 1, 31))
    assert [v.label for v in found[:4]] == ["week 1", "week 2", "week 4", "month 2"]
    assert [v.due for v in found[:4]] == [
        date(2026, 2, 7),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    months = [int(v.label.split()[1]) for v in found if v.label.startswith("month")]
    assert months == [2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 21, 24, 27, 30, 33, 36]
    assert found[-1].due == date(2029, 1, 31)


def test_due_list_for_residents_released_on_different_dates_one_overdue(store) -> None:
    records = FollowupRecords(store)
    today = date(2026, 12, 20)
    records.add_release(Release("R-A", date(2026, 12, 10), "station 1"))  # week 1 due 12-17
    records.add_release(Release("R-B", date(2026, 11, 1), "station 2"))  # month 2 due 01-01
    records.add_contact(Contact("R-B", date(2026, 11, 8), "phone", "abstinent"))
    records.add_contact(Contact("R-B", date(2026, 11, 15), "visit", "abstinent", "negative"))
    records.add_contact(Contact("R-B", date(2026, 11, 29), "phone", "abstinent"))
    records.add_release(Release("R-C", date(2026, 10, 1), "station 1"))  # nothing since 10-08
    records.add_contact(Contact("R-C", date(2026, 10, 8), "phone", "abstinent"))
    records.add_release(Release("R-D", date(2026, 12, 19), "station 3"))  # week 1 not yet open
    IntakeRecords(store).record_intake(
        "R-A", factors={"prior_treatments": 2, "lives_where_registered": False}
    )

    rows = due_list(store, today)
    assert [(r["subject"], r["state"], r["visit"]) for r in rows] == [
        ("R-A", "due", "week 1"),  # two risk factors: first although not overdue
        ("R-C", "overdue", "week 2"),
    ]
    overdue = rows[1]
    assert overdue["visit_due"] == "2026-10-15" and overdue["days_overdue"] == 66
    assert overdue["missed"] == 3  # weeks 2 and 4 and month 2; not month 3 (due 01-01)
    assert rows[0]["risk"] == 2 and any("EVIDENCE 6.1" in r for r in rows[0]["reasons"])

    def flat(subject: str) -> tuple[float, str, list[str]]:
        return (1.0, "same", [])

    assert [r["subject"] for r in due_list(store, today, risk=flat)] == ["R-C", "R-A"]
    upcoming = due_list(store, today, risk=flat, include_upcoming=True)
    assert {r["subject"]: r["state"] for r in upcoming} == {
        "R-A": "due",
        "R-B": "upcoming",
        "R-C": "overdue",
        "R-D": "upcoming",
    }


@pytest.mark.parametrize(
    "text",
    ["2026-12-01", "2026/12/01", "2026/12/1", "2026.12.01", "2026年12月1日", "2026年12月01日"],
)
def test_dates_in_the_centres_formats(text: str) -> None:
    assert parse_date(text) == date(2026, 12, 1)


def test_day_first_dates_are_refused_as_ambiguous() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("01/12/2026")


def _counts(store) -> tuple[int, int]:
    with store._transaction("counting") as session:
        return (
            session.scalar(select(func.count()).select_from(ReleaseRecord)),
            session.scalar(select(func.count()).select_from(FollowupContactRecord)),
        )


BAD = """编号,出所日期,接收社区,同意移交,同意日期,随访日期,随访方式,状态,尿检
R-9101,2026/06/01,站 12,是,2026/05/28,2026/06/08,电话,操守保持,未检
R 9102,2026/06/01,站 12,是,,2026/06/08,电话,操守保持,
R-9103,01/06/2026,站 3,否,,,,,
R-9104,2026/06/01,,是,,2026/05/20,传真,喝酒,阴性
R-9101,2026/06/01,站 12,是,2026/05/28,2026/07/08,上门,复吸,阳性
"""


def test_an_import_with_errors_reports_every_bad_row_and_changes_nothing(store, tmp_path) -> None:
    FollowupRecords(store).add_release(Release("R-0001", date(2026, 1, 1), "station 9"))
    path = tmp_path / "records.csv"
    path.write_text(BAD, encoding="utf-8")
    report = import_followups(store, path, load_mapping(MAPPING))
    assert not report.imported
    found = {(e.row, e.column): e.reason for e in report.errors}
    assert set(found) == {
        (3, "编号"),
        (4, "出所日期"),
        (5, "接收社区"),
        (5, "随访方式"),
        (5, "状态"),
        (5, "随访日期"),
    }
    assert "ambiguous" in found[(4, "出所日期")]
    assert "'传真' is not one of" in found[(5, "随访方式")]
    assert "before the release" in found[(5, "随访日期")]
    assert _counts(store) == (1, 0)  # unchanged


def test_a_clean_file_imports_once(store) -> None:
    report = import_followups(store, EXAMPLE, load_mapping(MAPPING))
    assert report.imported and report.rows == 5
    assert (report.releases_added, report.contacts_added) == (4, 4)
    again = import_followups(store, EXAMPLE, load_mapping(MAPPING))
    assert (again.releases_existing, again.contacts_skipped, again.contacts_added) == (4, 4, 0)
    assert _counts(store) == (4, 4)
    first = FollowupRecords(store).releases("R-9001")[0]
    assert first["consent"] and first["consent_date"] == "2026-05-28"
    assert [c["status"] for c in first["contacts"]] == ["abstinent", "abstinent"]


def test_outcomes_frame_events_and_censoring(store) -> None:
    records = FollowupRecords(store)
    add = records.add_contact
    records.add_release(Release("R-REL", date(2026, 1, 1), "s1"))
    add(Contact("R-REL", date(2026, 1, 8), "phone", "abstinent", "negative"))
    add(Contact("R-REL", date(2026, 2, 1), "visit", "abstinent", "positive"))  # test: relapse
    add(Contact("R-REL", date(2026, 3, 1), "visit", "relapsed"))
    records.add_release(Release("R-LOST", date(2026, 1, 1), "s2"))
    add(Contact("R-LOST", date(2026, 1, 31), "phone", "abstinent"))
    add(Contact("R-LOST", date(2026, 4, 1), "phone", "lost"))
    records.add_release(Release("R-NONE", date(2026, 3, 1), "s1"))
    records.add_release(Release("R-OK", date(2026, 1, 1), "s1"))
    add(Contact("R-OK", date(2026, 7, 1), "station", "abstinent", "negative"))
    IntakeRecords(store).record_intake("R-OK", factors={"drug_type": "heroin", "years_of_use": 3})

    frame = outcomes_frame(store).set_index("subject")
    assert list(outcomes_frame(store).columns[:8]) == [
        "subject",
        "release_date",
        "end_date",
        "relapsed",
        "last_status",
        "lost",
        "followed_days",
        "station",
    ]
    assert frame.loc["R-REL", ["relapsed", "last_status", "lost", "followed_days"]].tolist() == [
        True,
        "relapsed",
        False,
        31,
    ]
    assert frame.loc["R-LOST", ["relapsed", "last_status", "lost", "followed_days"]].tolist() == [
        False,
        "lost",
        True,
        30,
    ]  # censored at the last known abstinent contact
    assert frame.loc["R-NONE", ["relapsed", "last_status", "followed_days"]].tolist() == [
        False,
        "none",
        0,
    ]
    assert frame.loc["R-OK", "followed_days"] == 181 and frame.loc["R-OK", "drug_type"] == "heroin"
    assert frame.loc["R-OK", "years_of_use"] == 3.0 and frame["sds"].isna().all()
    assert str(frame["release_date"].dtype) == "datetime64[ns]"


runner = CliRunner()


def test_cli_interactive_intake_re_asks_only_the_bad_item(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "c.sqlite")]
    answers = ["1", "2", "9", "3", "0", "1", "2", "3", "0", "0"]  # 9 is out of range for gad7_3
    done = runner.invoke(
        app,
        ["intake", "R-0300", "--instrument", "gad7", "--no-factors", *db],
        input="\n".join(answers) + "\n",
    )
    assert done.exit_code == 0, done.output
    assert "gad7_3: 9 is out of range 0-3" in done.output
    with open_store(db[1]) as store:
        stored = IntakeRecords(store).responses("R-0300")
    assert len(stored) == 1
    assert stored[0]["answers"] == {
        "gad7_1": 1,
        "gad7_2": 2,
        "gad7_3": 3,
        "gad7_4": 0,
        "gad7_5": 1,
        "gad7_6": 2,
        "gad7_7": 3,
    }
    assert stored[0]["score"] == 12 and stored[0]["band"] == "moderate"


def test_cli_intake_from_a_file_refuses_bad_answers_and_stores_nothing(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "c.sqlite")]
    path = tmp_path / "answers.yaml"
    path.write_text(
        "risk_factors: {drug_type: heroin, prior_treatments: -1}\n"
        "instruments:\n  apgar: {apgar_adaptation: 2, apgar_partnership: 2, "
        "apgar_growth: 3, apgar_affection: 1, apgar_resolve: 0}\n",
        encoding="utf-8",
    )
    done = runner.invoke(app, ["intake", "R-0301", "--answers", str(path), "--json", *db])
    assert done.exit_code == 2
    errors = json.loads(done.stdout)["errors"]
    assert set(errors) == {"risk_factors.prior_treatments", "apgar.apgar_growth"}
    with open_store(db[1]) as store:
        assert IntakeRecords(store).responses("R-0301") == []
        assert IntakeRecords(store).risk_factors("R-0301") == {}
    path.write_text(
        path.read_text(encoding="utf-8").replace("-1", "2").replace(": 3,", ": 1,"),
        encoding="utf-8",
    )
    done = runner.invoke(app, ["intake", "R-0301", "--answers", str(path), "--json", *db])
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert out["instruments"][0]["score"] == 6 and out["risk_factors"]["prior_treatments"] == 2


def test_cli_release_followup_due_and_import(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "c.sqlite")]
    done = runner.invoke(
        app,
        [
            "release",
            "R-0400",
            "--date",
            "2026年12月1日",
            "--to",
            "community station 12",
            "--consent",
            "--json",
            *db,
        ],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["consent_date"] == "2026-12-01"
    done = runner.invoke(
        app,
        [
            "followup",
            "add",
            "R-0400",
            "--date",
            "2026-12-08",
            "--mode",
            "fax",
            "--status",
            "abstinent",
            *db,
        ],
    )
    assert done.exit_code == 2 and "mode='fax' is invalid" in done.output
    assert "Traceback" not in done.output
    due = runner.invoke(app, ["followup", "due", "--today", "2026-12-30", "--json", *db])
    rows = json.loads(due.stdout)["due"]
    assert [(r["subject"], r["state"], r["visit"]) for r in rows] == [
        ("R-0400", "overdue", "week 1")
    ]
    imported = runner.invoke(
        app, ["followup", "import", str(EXAMPLE), "--mapping", str(MAPPING), "--json", *db]
    )
    assert imported.exit_code == 0 and json.loads(imported.stdout)["releases_added"] == 4
