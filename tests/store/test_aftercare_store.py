"""Aftercare records on SQLite and PostgreSQL: intake, releases, contacts, all-or-nothing import."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from addiction_index.aftercare import (
    Contact,
    FollowupRecords,
    IntakeRecords,
    Release,
    import_followups,
    load_instrument,
    load_mapping,
    outcomes_frame,
    score_answers,
)
from addiction_index.errors import InputError
from addiction_index.store import open_store

MAPPING = Path(__file__).resolve().parents[2] / "instruments" / "import-mapping.example.yaml"


def test_intake_release_contacts_and_outcomes(store_url: str) -> None:
    with open_store(store_url) as store:
        phq9 = score_answers(load_instrument("phq9"), {f"phq9_{i}": 2 for i in range(1, 10)})
        intake = IntakeRecords(store)
        intake.record_intake(
            "R-001",
            factors={"drug_type": "heroin", "prior_treatments": 1},
            factors_version="1.0.0",
            scores=[phq9],
            language="zh-CN",
            by="cm1",
        )
        intake.record_intake("R-001", factors={"prior_treatments": 2}, by="cm2")
        assert intake.risk_factors("R-001") == {"drug_type": "heroin", "prior_treatments": 2}
        [response] = intake.responses("R-001")
        assert (response["score"], response["band"], response["language"]) == (
            18.0,
            "moderately_severe",
            "zh-CN",
        )
        assert response["entered_by"] == "cm1" and response["answers"]["phq9_9"] == 2

        records = FollowupRecords(store)
        records.add_release(
            Release("R-001", date(2026, 12, 1), "station 12", True, date(2026, 11, 28)), by="cm1"
        )
        with pytest.raises(InputError, match="already recorded"):
            records.add_release(Release("R-001", date(2026, 12, 1), "station 3"))
        with pytest.raises(InputError, match="on or after a recorded release"):
            records.add_contact(Contact("R-001", date(2026, 11, 30), "phone", "abstinent"))
        with pytest.raises(InputError, match="status"):
            records.add_contact(Contact("R-001", date(2026, 12, 8), "phone", "clean"))
        records.add_contact(Contact("R-001", date(2026, 12, 8), "phone", "abstinent", "negative"))
        [release] = records.releases("R-001")
        assert release["consent_recorded_by"] == "cm1" and len(release["contacts"]) == 1
        frame = outcomes_frame(store)
        assert frame.loc[0, "followed_days"] == 7 and frame.loc[0, "phq9"] == 18.0


BAD = """编号,出所日期,接收社区,同意移交,同意日期,随访日期,随访方式,状态,尿检
R-9201,2026/06/01,站 12,是,,2026/06/08,电话,操守保持,未检
R-9202,2026/06/01,站 3,是,,2026/06/08,电话,操守保持,未检
"""


def test_import_is_all_or_nothing(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(BAD, encoding="utf-8")
    with open_store(store_url) as store:
        FollowupRecords(store).add_release(Release("R-9202", date(2026, 6, 1), "站 9"))
        report = import_followups(store, path, load_mapping(MAPPING))
        assert [(e.row, e.column) for e in report.errors] == [(3, "接收社区")]
        assert "already recorded with station '站 9'" in report.errors[0].reason
        assert [r["subject"] for r in FollowupRecords(store).releases()] == ["R-9202"]
        path.write_text(BAD.replace("站 3", "站 9"), encoding="utf-8")
        report = import_followups(store, path, load_mapping(MAPPING))
        assert report.imported and (report.releases_added, report.releases_existing) == (1, 1)
        assert len(FollowupRecords(store).releases()) == 2
