"""The clinician's decisions in the browser: intake + prescription, override; all audited."""

from __future__ import annotations

import httpx
import pytest

from addiction_index.store import open_store
from addiction_index.web._audit import read_audit
from tests.web.conftest import SUBJECT, Centre, csrf

PRESCRIBE = f"/residents/{SUBJECT}/prescribe"
OVERRIDE = f"/residents/{SUBJECT}/override"
PAGE = f"/residents/{SUBJECT}"


def _audit(centre: Centre, action: str) -> list[dict]:
    with open_store(centre.db) as store:
        return read_audit(store, action=action)


def _latest(centre: Centre) -> dict:
    from addiction_index.store._programme_store import ProgrammeRecords

    with open_store(centre.db) as store:
        return ProgrammeRecords(store).prescriptions(SUBJECT)[-1]


def test_page_shows_the_forms_to_clinicians_only(clients: dict) -> None:
    page = clients["clinician"].get(PAGE).text
    assert f'action="{PRESCRIBE}"' in page and f'action="{OVERRIDE}"' in page
    assert 'value="cardiac"' in page and 'value="exercise.minutes"' in page
    for role in ("coach", "case-manager"):
        other = clients[role].get(PAGE).text
        assert PRESCRIBE not in other and OVERRIDE not in other


def test_prescribe_with_a_contraindication_shows_the_veto(centre: Centre, clients: dict) -> None:
    clinician: httpx.Client = clients["clinician"]
    before = _latest(centre)["id"]
    data = {"csrf_token": csrf(clinician), "age": "34", "sex": "male",
            "contraindications": ["cardiac"]}  # fmt: skip
    response = clinician.post(PRESCRIBE, data=data)
    assert response.status_code == 303 and response.headers["location"] == PAGE
    latest = _latest(centre)
    assert latest["id"] > before and latest["prescription"]["exercise"] is None
    page = clinician.get(PAGE).text
    assert "Veto" in page and "cardiac" in page.split("Veto", 1)[1].split("</dd>", 1)[0]
    entry = _audit(centre, "prescribe")[0]
    assert entry["actor"] == "clinician" and entry["target_id"] == SUBJECT
    assert entry["detail"]["prescription_id"] == latest["id"]
    assert "34" not in str(entry["detail"]) and "cardiac" not in str(entry["detail"])
    assert "male" not in str(entry["detail"])


def test_override_a_vetoed_exercise_is_refused(centre: Centre, clients: dict) -> None:
    clinician: httpx.Client = clients["clinician"]
    if _latest(centre)["prescription"]["exercise"] is not None:
        pytest.skip("needs the vetoed prescription of the test above")
    response = clinician.post(OVERRIDE, data={"csrf_token": csrf(clinician),
                              "field": "exercise.minutes", "value": "[20, 25]",
                              "reason": "knee"})  # fmt: skip
    assert response.status_code == 422 and "no exercise" in response.text


def test_override_shows_on_the_page(centre: Centre, clients: dict) -> None:
    clinician: httpx.Client = clients["clinician"]
    token = csrf(clinician)
    cleared = clinician.post(PRESCRIBE, data={"csrf_token": token, "clear_contraindications": "1"})
    assert cleared.status_code == 303
    latest = _latest(centre)
    assert latest["prescription"]["exercise"] is not None
    response = clinician.post(OVERRIDE, data={"csrf_token": token, "field": "exercise.minutes",
                              "value": "[20, 25]", "reason": "knee pain this week"})  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == PAGE
    after = _latest(centre)
    assert after["id"] == latest["id"] and after["prescription"]["exercise"]["minutes"] == [20, 25]
    page = clinician.get(PAGE).text
    assert "20-25" in page and "overridden" in page and "knee pain this week" in page
    entry = _audit(centre, "override")[0]
    assert entry["target_kind"] == "prescription" and entry["target_id"] == str(latest["id"])
    assert entry["detail"] == {"subject": SUBJECT, "field": "exercise.minutes"}
    facts = {"age", "sex", "hr_max_measured", "contraindications", "mood", "energy"}
    for entry in _audit(centre, "prescribe"):  # ids and field names, no values
        assert set(entry["detail"]) == {"prescription_id", "fields"}
        assert isinstance(entry["detail"]["prescription_id"], int)
        assert set(entry["detail"]["fields"]) <= facts


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"field": "exercise.minutes", "value": "[20, 25]", "reason": " "}, "reason"),
        ({"field": "exercise.minutes", "value": "[20, 25]"}, "reason"),
        ({"field": "exercise.zone_bpm", "value": "[1, 2]", "reason": "x"}, "field"),
        ({"field": "exercise.minutes", "value": "[20", "reason": "x"}, "value"),
    ],
)
def test_override_errors_are_422_with_a_message(
    centre: Centre, clients: dict, data: dict, field: str
) -> None:
    clinician: httpx.Client = clients["clinician"]
    before = _latest(centre)["prescription"]
    response = clinician.post(OVERRIDE, data={"csrf_token": csrf(clinician), **data})
    assert response.status_code == 422
    assert 'role="alert"' in response.text and field in response.text.split('role="alert"')[1]
    assert _latest(centre)["prescription"] == before


def test_prescribe_errors_are_422_naming_the_field_not_the_value(clients: dict) -> None:
    clinician: httpx.Client = clients["clinician"]
    for data, field in (({"age": "7"}, "age"), ({"age": "abc"}, "age"),
                        ({"hr_max_measured": "999"}, "hr_max_measured"),
                        ({"contraindications": ["flu"]}, "contraindications")):  # fmt: skip
        response = clinician.post(PRESCRIBE, data={"csrf_token": csrf(clinician), **data})
        assert response.status_code == 422, data
        alert = response.text.split('role="alert">', 1)[1].split("</p>", 1)[0]
        assert field in alert
        value = next(iter(data.values()))
        assert (value[0] if isinstance(value, list) else value) not in alert


@pytest.mark.parametrize("path", [PRESCRIBE, OVERRIDE])
def test_csrf_is_required(clients: dict, path: str) -> None:
    clinician: httpx.Client = clients["clinician"]
    data = {"field": "exercise.type", "value": "walking", "reason": "x", "age": "40"}
    assert clinician.post(path, data=data).status_code == 403
    assert clinician.post(path, data={**data, "csrf_token": "0" * 64}).status_code == 403


@pytest.mark.parametrize("path", [PRESCRIBE, OVERRIDE])
@pytest.mark.parametrize("role", ["coach", "researcher", "case-manager", "admin", None])
def test_other_roles_may_not_decide(
    centre: Centre, clients: dict, role: str | None, path: str
) -> None:
    client: httpx.Client = clients[role]
    before = _latest(centre)
    data = {"csrf_token": csrf(client) if role else "", "field": "exercise.type",
            "value": "walking", "reason": "x", "age": "40"}  # fmt: skip
    assert client.post(path, data=data).status_code == (401 if role is None else 403)
    assert _latest(centre) == before
