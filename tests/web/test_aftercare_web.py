"""Aftercare in the browser: instruments, risk factors, release, contacts, the due list in order
of risk, and the cohort report; all on a real server, each entry audited without values."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest

from addiction_index.aftercare import Contact, FollowupRecords, IntakeRecords, Release
from addiction_index.store import open_store
from addiction_index.web._audit import read_audit
from tests.web.conftest import SUBJECT, Centre, csrf

OTHER = "R-0002"
PAGE = f"/residents/{SUBJECT}/aftercare"
PHQ9 = f"/residents/{SUBJECT}/instruments/phq9"


def _audit(centre: Centre, action: str) -> list[dict]:
    with open_store(centre.db) as store:
        return read_audit(store, action=action)


def _phq9(centre: Centre, code: str = SUBJECT) -> list[dict]:
    with open_store(centre.db) as store:
        return IntakeRecords(store).responses(code, "phq9")


@pytest.fixture(scope="module")
def other_resident(centre: Centre) -> str:
    with open_store(centre.db) as store:
        store.subject(OTHER)
    return OTHER


def test_coach_and_researcher_never_open_a_residents_aftercare(clients: dict) -> None:
    for role in ("coach", "researcher"):
        for path in (PAGE, PHQ9):
            assert clients[role].get(path).status_code == 403, (role, path)
        assert "/aftercare" not in clients[role].get("/").text.replace("/aftercare/cohort", "")
    assert clients["coach"].get(f"/residents/{SUBJECT}").status_code == 200
    assert PAGE not in clients["coach"].get(f"/residents/{SUBJECT}").text
    assert PAGE in clients["case-manager"].get(f"/residents/{SUBJECT}").text
    dashboard = clients["case-manager"].get("/").text
    assert 'href="/aftercare/due"' in dashboard and 'href="/aftercare/cohort"' in dashboard


def test_instrument_with_a_bad_answer_keeps_the_others_and_stores_nothing(
    centre: Centre, clients: dict
) -> None:
    manager: httpx.Client = clients["case-manager"]
    form = manager.get(PHQ9)
    assert form.status_code == 200
    assert 'name="phq9_1" value="3"' in form.text and "Nearly every day" in form.text
    answers = {f"phq9_{i}": "1" for i in range(1, 10)} | {"phq9_9": "0", "phq9_3": "7"}
    del answers["phq9_5"]
    response = manager.post(PHQ9, data={"csrf_token": csrf(manager), **answers})
    assert response.status_code == 422
    page = response.text
    assert "phq9_3 (question 3): not one of the listed answers" in page
    assert "phq9_5 (question 5): no answer" in page
    assert "out of range" not in page and 'value="7"' not in page  # the bad value not echoed
    for item in ("phq9_1", "phq9_2", "phq9_4", "phq9_6", "phq9_7", "phq9_8"):
        assert f'name="{item}" value="1" checked' in page, item
    assert 'name="phq9_9" value="0" checked' in page
    assert not re.search(r'name="phq9_(3|5)" value="\d" checked', page)
    assert _phq9(centre) == []
    assert _audit(centre, "record_instrument") == []


def test_a_valid_instrument_is_scored_stored_and_audited(centre: Centre, clients: dict) -> None:
    manager: httpx.Client = clients["case-manager"]
    answers = {f"phq9_{i}": "1" for i in range(1, 9)} | {"phq9_9": "0"}
    response = manager.post(PHQ9, data={"csrf_token": csrf(manager), **answers})
    assert response.status_code == 303 and response.headers["location"] == PAGE
    stored = _phq9(centre)
    assert len(stored) == 1 and stored[0]["score"] == 8 and stored[0]["band"] == "mild"
    assert stored[0]["entered_by"] == "casemanager"
    entry = _audit(centre, "record_instrument")[0]
    assert entry["role"] == "case-manager" and entry["target_id"] == SUBJECT
    assert entry["detail"]["instrument"] == "phq9" and "phq9_1" in entry["detail"]["fields"]
    assert "mild" not in str(entry["detail"]) and "score" not in str(entry["detail"])
    page = manager.get(PAGE).text
    section = page.split('id="instruments"', 1)[1]
    assert "PHQ-9" in section and ">8<" in section and "mild" in section
    unknown = manager.post(
        f"/residents/{SUBJECT}/instruments/nope", data={"csrf_token": csrf(manager)}
    )
    assert unknown.status_code == 404


def test_risk_factors_refused_then_recorded(centre: Centre, clients: dict) -> None:
    manager: httpx.Client = clients["case-manager"]
    url = f"/residents/{SUBJECT}/risk-factors"
    factors = {"drug_type": "heroin", "years_of_use": "12", "prior_treatments": "3",
               "employment": "unemployed", "income": "none", "marital_status": "single",
               "lives_where_registered": "no"}  # fmt: skip
    response = manager.post(url, data={"csrf_token": csrf(manager), **factors,
                                       "years_of_use": "60.5"})  # fmt: skip
    assert response.status_code == 422
    assert "years_of_use (Years of drug use): expected a number from 0 to 60 years" in response.text
    assert "60.5" not in response.text
    form = response.text.split('id="factors-form"', 1)[1]
    assert 'value="single" selected' in form and 'value="heroin" selected' in form
    assert 'name="prior_treatments" type="number"' in form and 'value="3"' in form
    assert 'value="no" selected' in form
    with open_store(centre.db) as store:
        assert IntakeRecords(store).risk_factors(SUBJECT) == {}
    response = manager.post(url, data={"csrf_token": csrf(manager), **factors})
    assert response.status_code == 303
    with open_store(centre.db) as store:
        recorded = IntakeRecords(store).risk_factors(SUBJECT)
    assert recorded["years_of_use"] == 12 and recorded["lives_where_registered"] is False
    assert recorded["drug_type"] == "heroin"
    entry = _audit(centre, "record_risk_factors")[0]
    assert sorted(entry["detail"]["fields"]) == sorted(factors)
    assert "heroin" not in str(entry["detail"]) and "12" not in str(entry["detail"])
    page = manager.get(PAGE).text.split('id="risk-factors"', 1)[1]
    assert "heroin or other opioids" in page and "12 years" in page


def test_release_and_contact_errors_name_the_field(
    centre: Centre, clients: dict, other_resident: str
) -> None:
    manager: httpx.Client = clients["case-manager"]
    token = csrf(manager)
    bad = manager.post(f"/residents/{SUBJECT}/release", data={
        "csrf_token": token, "release_date": "01/12/2026", "station": "North station",
        "consent": "yes"})  # fmt: skip
    assert bad.status_code == 422 and "release_date: expected a date" in bad.text
    assert "01/12/2026" not in bad.text
    kept = bad.text.split('id="release-form"', 1)[1]
    assert 'value="North station"' in kept and 'value="yes" checked' in kept
    early = manager.post(f"/residents/{other_resident}/contacts", data={
        "csrf_token": token, "contact_date": date.today().isoformat(), "mode": "phone",
        "status": "abstinent", "test": "negative"})  # fmt: skip
    assert early.status_code == 422
    assert "contact_date: expected a day on or after a recorded release" in early.text
    kept = early.text.split('id="contact-form"', 1)[1]
    assert 'value="phone" selected' in kept and 'value="negative" selected' in kept
    with open_store(centre.db) as store:
        assert FollowupRecords(store).releases(SUBJECT) == []


def test_due_list_in_order_of_risk(centre: Centre, clients: dict, other_resident: str) -> None:
    """R-0001 (many risk factors) released 8 days ago: week 1 due; R-0002 (few) released 20
    days ago: week 1 overdue. Highest risk first, though the other one is overdue."""
    manager: httpx.Client = clients["case-manager"]
    clinician: httpx.Client = clients["clinician"]
    today = date.today()
    low = {"csrf_token": csrf(clinician), "years_of_use": "1", "prior_treatments": "0",
           "employment": "employed", "marital_status": "married",
           "lives_where_registered": "yes"}  # fmt: skip
    assert clinician.post(f"/residents/{OTHER}/risk-factors", data=low).status_code == 303
    for client, code, days, consent in ((manager, SUBJECT, 8, "yes"),
                                        (clinician, OTHER, 20, "")):  # fmt: skip
        response = client.post(f"/residents/{code}/release", data={
            "csrf_token": csrf(client), "release_date": (today - timedelta(days)).isoformat(),
            "station": f"Station {code[-1]}", "consent": consent})  # fmt: skip
        assert response.status_code == 303, response.text[:300]
    contact_day = (today - timedelta(days=7)).isoformat()  # before week 1's window opens
    response = manager.post(f"/residents/{SUBJECT}/contacts", data={
        "csrf_token": csrf(manager), "contact_date": contact_day, "mode": "phone",
        "status": "abstinent", "test": "negative"})  # fmt: skip
    assert response.status_code == 303
    with open_store(centre.db) as store:
        (release,) = FollowupRecords(store).releases(SUBJECT)
    assert release["consent"] and release["consent_date"] == release["release_date"]
    assert release["contacts"][0]["date"] == contact_day
    assert release["contacts"][0]["test"] == "negative"
    entry = _audit(centre, "record_contact")[0]
    assert entry["detail"]["subject"] == SUBJECT and "negative" not in str(entry["detail"])
    assert _audit(centre, "record_release")[0]["actor"] == "clinician"

    due = manager.get("/aftercare/due")
    assert due.status_code == 200
    rows = re.findall(r'<tr class="(due|overdue)"><td><a href="/residents/([^/]+)/aftercare"',
                      due.text)  # fmt: skip
    assert rows == [("due", SUBJECT), ("overdue", OTHER)]
    first, second = due.text.split(f'href="/residents/{OTHER}/aftercare"', 1)
    assert 'class="level high"' in first and "earlier compulsory treatments" in first
    assert contact_day in first and "none since release" in second
    assert "12" not in re.sub(r"\d{4}-\d{2}-\d{2}", "", first.split("<tbody>", 1)[1])
    assert clients["clinician"].get("/aftercare/due").status_code == 200
    assert _audit(centre, "list_followups_due")[0]["detail"] == {"count": 2}

    page = manager.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "week 1" in text and "Station 1" in text and "yes (" in text
    assert "Relapse risk" in text and "earlier compulsory treatments" in text
    assert "not a diagnosis" in text.lower() or "research and decision support" in text
    entry = _audit(centre, "view_aftercare")[0]
    assert entry["target_id"] == SUBJECT and entry["role"] == "case-manager"
    duplicate = manager.post(f"/residents/{SUBJECT}/release", data={
        "csrf_token": csrf(manager), "release_date": (today - timedelta(8)).isoformat(),
        "station": "Again"})  # fmt: skip
    assert duplicate.status_code == 422 and "already recorded on that day" in duplicate.text


def test_cohort_report_for_admin(centre: Centre, clients: dict) -> None:
    """Too small first (a plain page), then 8 simulated releases: the report inside the app's
    page, with no inline style (the CSP would block it) and no subject code."""
    admin: httpx.Client = clients["admin"]
    small = admin.get("/aftercare/cohort")
    assert small.status_code == 200 and "too small to report" in small.text
    start = date.today() - timedelta(days=400)
    with open_store(centre.db) as store:
        records, intake = FollowupRecords(store), IntakeRecords(store)
        for i in range(8):
            code = f"SIM-{i:04d}"
            released = start + timedelta(days=9 * i)
            records.add_release(Release(code, released, "North station" if i % 2 else "South"))
            factors = {"drug_type": "heroin" if i % 2 else "ketamine", "prior_treatments": i % 3}
            if i == 1:  # recorded for some residents only (a regression: it broke the report)
                factors["lives_where_registered"] = False
            intake.record_intake(code, factors=factors)
            status = "relapsed" if i % 3 == 0 else "abstinent"
            records.add_contact(Contact(code, released + timedelta(days=30 + 20 * i), "phone",
                                        status))  # fmt: skip
    response = admin.get("/aftercare/cohort")
    assert response.status_code == 200, response.text[:500]
    page = response.text
    assert "Aftercare cohort report" in page and "Kaplan-Meier" in page
    assert 'class="cohort-report"' in page and 'src="data:image/png;base64,' in page
    assert "<style" not in page and " style=" not in page and "<script>" not in page
    assert "style-src 'self'" in response.headers["content-security-policy"]
    assert "SIM-" not in page and SUBJECT not in page  # aggregates only
    grouped = admin.get("/aftercare/cohort", params={"by": "drug_type"})
    assert grouped.status_code == 200 and "By drug_type" in grouped.text
    assert 'value="drug_type" selected' in grouped.text
    bad = admin.get("/aftercare/cohort", params={"by": "station<b>x"})
    assert bad.status_code == 422 and "by: expected one of" in bad.text
    assert "station<b>x" not in bad.text and "station&lt;b&gt;x" not in bad.text
    assert clients["researcher"].get("/aftercare/cohort").status_code == 200
    entry = _audit(centre, "view_cohort_report")[0]
    assert entry["role"] == "researcher" and entry["detail"]["shown"] is True
