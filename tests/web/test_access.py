"""Roles on every route: the table covers every route, and every (role, route) cell holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount

from addiction_index.web import ACCESS, ALL_ROLES, PUBLIC, create_app
from addiction_index.web._auth import csrf_form, csrf_header
from tests.web.conftest import ROLES, SUBJECT, Centre, csrf

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(routes: list) -> list:
    """Every route, including those of included routers (any FastAPI version)."""
    out = []
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's lazily included router
            out += _routes(route.original_router.routes)
        else:
            out.append(route)
    return out


def _all_routes() -> list:
    return _routes(create_app(":memory:").routes)


def _dependency_calls(dependant) -> set:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _dependency_calls(sub)
    return calls


def test_every_route_is_in_the_access_table() -> None:
    paths = set()
    for route in _all_routes():
        if isinstance(route, Mount):
            assert route.path in PUBLIC, f"mount {route.path} is not public"
            continue
        assert isinstance(route, APIRoute | APIWebSocketRoute), route
        paths.add(route.path)
        assert route.path in ACCESS or route.path in PUBLIC, f"{route.path} has no access entry"
        if route.path in ACCESS:
            from addiction_index.web._auth import require_access

            assert require_access in _dependency_calls(route.dependant), route.path
    assert set(ACCESS) <= paths, f"stale entries: {set(ACCESS) - paths}"
    assert all(roles <= ALL_ROLES for roles in ACCESS.values())


def test_every_state_changing_route_checks_csrf() -> None:
    for route in _all_routes():
        if isinstance(route, APIRoute) and route.methods & STATE_CHANGING:
            if route.path == "/login":  # checked by its double-submit cookie (tested below)
                continue
            calls = _dependency_calls(route.dependant)
            assert calls & {csrf_form, csrf_header}, f"{route.path} has no CSRF check"


def _concrete(path: str, centre: Centre, live_id: str = "", exercise_id: int = 1) -> str:
    return (
        path.replace("{code}", SUBJECT)
        .replace("{session_id}", str(centre.session_id))
        .replace("{prescription_id}", str(centre.prescription_id))
        .replace("{live_id}", live_id)
        .replace("{exercise_id}", str(exercise_id))
        .replace("{instrument}", "phq9")
        .replace("{cue_set}/{number}", "drug/1")
    )


@pytest.fixture(scope="module")
def live_id(
    centre: Centre, clients: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A live assessment (simulated, at 100 × real time) of a second resident, and one drug-cue
    picture in the centre's data folder (for the presenter's picture route)."""
    import os

    from PIL import Image

    from addiction_index.store import open_store

    data = tmp_path_factory.mktemp("data")
    (data / "cues" / "drug").mkdir(parents=True)
    Image.new("RGB", (8, 8), "grey").save(data / "cues" / "drug" / "01.png")
    before = os.environ.get("ADDICTION_INDEX_DATA_DIR")
    os.environ["ADDICTION_INDEX_DATA_DIR"] = str(data)

    with open_store(centre.db) as store:
        store.subject("R-0002")
    clinician = clients["clinician"]
    response = clinician.post(
        "/residents/R-0002/assess",
        data={"csrf_token": csrf(clinician), "mode": "simulated", "speed": "100"},
    )
    assert response.status_code == 303, response.text[:300]
    yield response.headers["location"].rsplit("/", 1)[1]
    if before is None:
        del os.environ["ADDICTION_INDEX_DATA_DIR"]
    else:
        os.environ["ADDICTION_INDEX_DATA_DIR"] = before


GET_PATHS = sorted(
    r.path
    for r in _routes(create_app(":memory:").routes)
    if isinstance(r, APIRoute) and "GET" in r.methods and r.path in ACCESS
)


@pytest.mark.parametrize("path", GET_PATHS)
@pytest.mark.parametrize("role", [*ROLES, None])
def test_role_matrix_get(
    centre: Centre, clients: dict, live_id: str, role: str | None, path: str
) -> None:
    expected = 401 if role is None else 200 if role in ACCESS[path] else 403
    response = clients[role].get(_concrete(path, centre, live_id))
    assert response.status_code == expected, (role, path, response.text[:300])


@pytest.mark.parametrize("role", [*ROLES, None])
def test_role_matrix_post(centre: Centre, clients: dict, role: str | None) -> None:
    client: httpx.Client = clients[role]
    token = csrf(client) if role else ""
    path = "/residents/{code}/identity"
    response = client.post(
        _concrete(path, centre), data={"csrf_token": token, "phone": "000 000 0000"}
    )
    expected = 401 if role is None else 303 if role in ACCESS[path] else 403
    assert response.status_code == expected, (role, response.text[:300])
    path = "/api/prescriptions/{prescription_id}/override"
    response = client.post(
        _concrete(path, centre),
        json={"changes": {"exercise": {"minutes": [20, 30]}}, "reason": "knee pain this week"},
        headers={"X-CSRF-Token": token},
    )
    expected = 401 if role is None else 200 if role in ACCESS[path] else 403
    assert response.status_code == expected, (role, response.text[:300])


POST_PATHS = sorted(
    r.path
    for r in _routes(create_app(":memory:").routes)
    if isinstance(r, APIRoute) and r.methods & STATE_CHANGING and r.path in ACCESS
)


@pytest.mark.parametrize(
    ("role", "path"),
    [(role, path) for path in POST_PATHS for role in [*ROLES, None] if role not in ACCESS[path]],
)
def test_role_matrix_post_refusals(
    centre: Centre, clients: dict, live_id: str, role: str | None, path: str
) -> None:
    """Every state-changing route refuses every role it does not list (with a valid CSRF
    token: the role, not the token, is what refuses), and anonymous users. The allowed cells
    are exercised by the tests of each feature."""
    client: httpx.Client = clients[role]
    token = csrf(client) if role else ""
    response = client.post(
        _concrete(path, centre, live_id),
        data={"csrf_token": token},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == (401 if role is None else 403), (role, path)


def test_unauthenticated_html_shows_the_sign_in_link(clients: dict) -> None:
    response = clients[None].get("/residents")
    assert response.status_code == 401 and 'href="/login"' in response.text
    assert clients[None].get("/api/residents").json() == {"detail": "Please sign in."}
    health = clients[None].get("/health").json()  # no sign-in needed
    assert health["database"]["answers"] and health["status"] in ("ok", "warning")


def test_coach_sees_prescriptions_never_indices(centre: Centre, clients: dict) -> None:
    coach = clients["coach"]
    rows = coach.get("/api/residents").json()
    assert rows[0]["code"] == SUBJECT and rows[0]["last_assessment"] is None
    assert rows[0]["prescription"]["exercise"]["zone_bpm"]
    detail = coach.get(f"/api/residents/{SUBJECT}").json()
    assert detail["assessments"] is None and detail["prescriptions"] is None
    assert detail["exercise_log"] and "post_craving" not in detail["exercise_log"][0]
    page = coach.get(f"/residents/{SUBJECT}").text.replace("addiction-index", "")
    for word in ("Index", "index", "Assessments", "craving", "Craving", "/identity"):
        assert word not in page, word
    assert "bpm" in page
    cards = coach.get("/prescriptions/today").text.replace("addiction-index", "")
    assert SUBJECT in cards and "bpm" in cards and "index" not in cards.lower()
    assert coach.get(f"/sessions/{centre.session_id}").status_code == 403


def test_clinician_sees_index_history_and_report(centre: Centre, clients: dict) -> None:
    from addiction_index import NOT_A_DIAGNOSIS

    clinician = clients["clinician"]
    page = clinician.get(f"/residents/{SUBJECT}").text
    assert "Assessments" in page and NOT_A_DIAGNOSIS in page
    assert 'src="data:image/png;base64,' in page and "Addiction index per assessment" in page
    report = clinician.get(f"/sessions/{centre.session_id}").text
    for part in ("Blocks", "Signal quality", "Addiction index", "confidence", "Prescription",
                 "RMSSD", NOT_A_DIAGNOSIS):  # fmt: skip
        assert part in report, part
    data = clinician.get(f"/api/sessions/{centre.session_id}").json()
    assert data["session"]["subject"] == SUBJECT and data["index"]["status"] == "ok"


def test_researcher_report_is_pseudonymised(centre: Centre, clients: dict) -> None:
    researcher = clients["researcher"]
    data = researcher.get(f"/api/sessions/{centre.session_id}").json()
    text = str(data)
    assert SUBJECT not in text
    assert data["session"]["study_code"].startswith("S-")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["session"]["day"])
    assert not re.search(r"T\d{2}:\d{2}", text)  # no times, the day only
    for free_text in ("notes", "description", "reason", "overridden", "EVIDENCE"):
        assert free_text not in text, free_text
    listing = researcher.get("/api/sessions").json()
    row = next(r for r in listing if r["id"] == centre.session_id)
    assert row["subject"] is None and row["study_code"] == data["session"]["study_code"]
    assert researcher.get(f"/residents/{SUBJECT}").status_code == 403
