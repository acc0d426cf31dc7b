"""The aftercare cohort report: JSON-ready numbers, labelled rates, the statements, no subject
code, small groups suppressed, a PDF through the shared Chromium helper."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.aftercare._cohort_report import (
    COHORT_NOTE,
    cohort_report,
    render_cohort_html,
    write_cohort_pdf,
)
from addiction_index.aftercare._simulate import simulate_outcomes
from addiction_index.aftercare._survival import CENSORED_LABEL, LOST_AS_RELAPSED_LABEL
from addiction_index.errors import InputError
from addiction_index.sessions._report import chromium_path

HAVE_CHROMIUM = Path(chromium_path()).is_file()


@pytest.fixture(scope="module")
def cohort():
    frame = simulate_outcomes(240, seed=21, log_hr={"prior_treatments": math.log(1.5)})
    frame.loc[frame.index[:3], "drug_type"] = "cocaine"  # a group of 3 people: suppressed
    return frame


@pytest.fixture(scope="module")
def report(cohort):
    return cohort_report(cohort, by="drug_type")


@pytest.fixture(scope="module")
def page(report) -> str:
    return render_cohort_html(report)


def test_report_is_json_ready_and_has_the_numbers(report, cohort) -> None:
    text = json.dumps(report, allow_nan=False)
    assert "SIM-" not in text  # no subject code anywhere
    c = report["cohort"]
    assert (c["releases"], c["people"]) == (len(cohort), cohort["subject"].nunique())
    assert c["relapses"] == int(cohort["relapsed"].sum())
    months = [r["months"] for r in report["rates"]]
    assert months == [3, 6, 12, 24, 36]
    twelve = report["rates"][2]
    assert twelve["lost_as_relapsed"]["rate"] <= twelve["censored"]["survival"]
    assert report["labels"] == {
        "censored": CENSORED_LABEL,
        "lost_as_relapsed": LOST_AS_RELAPSED_LABEL,
    }
    assert report["median"]["reached"] and report["median"]["days"] > 0
    assert report["cox"]["rows"] and report["statement"] == NOT_A_DIAGNOSIS


def test_html_is_self_contained_labelled_and_anonymous(page, cohort) -> None:
    assert page.count(NOT_A_DIAGNOSIS) >= 2 and COHORT_NOTE in page
    assert "Censored estimate" in page and "Lost counted as relapsed" in page
    assert "EVIDENCE 8.3" in page
    assert page.count("data:image/png;base64,") >= 3  # curve, rates, Cox
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no external resource
    for code in cohort["subject"]:
        assert code not in page
    assert "SIM-" not in page


def test_small_groups_are_suppressed_and_said_so(report, page) -> None:
    groups = report["groups"]
    assert "cocaine" not in [g["group"] for g in groups["curves"]]
    assert groups["suppressed_groups"] == 1
    assert "cocaine" not in page  # neither as a group nor as a Cox level (pooled into "other")
    assert "1 group(s) of fewer than 5 people not shown" in page
    assert all(g["people"] >= 5 for g in groups["curves"])
    assert groups["logrank_p"] is not None
    # the 3 releases of the small level get no hazard ratio (not even pooled as "other")
    assert not any("other" in row["label"] for row in report["cox"]["rows"])
    assert report["cox"]["n_dropped"] == 3


def test_prior_treatments_in_bands(cohort) -> None:
    report = cohort_report(cohort, by="prior_treatments")
    assert [g["group"] for g in report["groups"]["curves"]] == ["0", "1", "2+"]
    assert report["groups"]["logrank_p"] < 0.05  # HR 1.5 per treatment in the simulation


def test_tiny_cohort_is_not_reported(cohort) -> None:
    with pytest.raises(InputError, match="at least 5 people"):
        cohort_report(cohort.iloc[:4])


@pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"Chromium not installed at {chromium_path()}")
def test_pdf(page, tmp_path: Path) -> None:
    out = write_cohort_pdf(page, tmp_path / "cohort.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"
