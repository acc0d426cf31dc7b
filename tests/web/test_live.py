"""Live sessions over real WebSockets against the real uvicorn server of ``conftest.py``: a
clinician's simulated assessment from start to stored report, roles and Origin on the sockets,
ratings and the presenter's cue markers, and a coach's exercise session with an alert."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from addiction_index.store import open_store
from addiction_index.web._audit import read_audit
from tests.web.conftest import ROLES, SUBJECT, Centre, csrf

FAST = "50"  # the demo protocol (8 min) in about 10 s


def ws_url(centre: Centre, path: str) -> str:
    return centre.base_url.replace("http://", "ws://") + path


def headers(client: httpx.Client | None, centre: Centre, origin: str | None = None) -> dict:
    out = {"Origin": origin or centre.base_url}
    if client is not None:
        out["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return out


async def collect(
    centre: Centre,
    client: httpx.Client,
    path: str,
    until: Any,
    timeout: float = 90,
    send: Any = None,
) -> list[dict]:
    """Messages of socket ``path`` until ``until(message)`` is true (``send(message)`` may
    return a reply to send)."""
    messages = []
    async with websockets.connect(
        ws_url(centre, path), additional_headers=headers(client, centre)
    ) as ws:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
            except TimeoutError:
                break
            message = json.loads(text)
            messages.append(message)
            if send is not None and (reply := send(message)) is not None:
                await ws.send(json.dumps(reply))
            if until(message):
                return messages
    kinds = sorted({m["type"] for m in messages})
    hops = [m for m in messages if m["type"] == "hop"]
    raise AssertionError(f"timed out after {len(messages)} messages {kinds}; last hop {hops[-1:]}")


def start_assessment(
    centre: Centre, client: httpx.Client, code: str = SUBJECT, speed: str = FAST
) -> str:
    response = client.post(
        f"/residents/{code}/assess",
        data={
            "csrf_token": csrf(client),
            "mode": "simulated",
            "craving": "70",
            "seed": "3",
            "speed": speed,
        },
    )
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"].rsplit("/", 1)[1]


def test_a_simulated_assessment_streams_live_and_is_stored(centre: Centre, clients: dict) -> None:
    clinician = clients["clinician"]
    live_id = start_assessment(centre, clinician)
    page = clinician.get(f"/live/assessments/{live_id}")
    assert page.status_code == 200 and "Signal quality" in page.text
    assert clinician.get(f"/live/assessments/{live_id}/cues").status_code == 200
    # a second assessment of the same resident while this one runs is refused
    again = clinician.post(
        f"/residents/{SUBJECT}/assess", data={"csrf_token": csrf(clinician), "mode": "simulated"}
    )
    assert again.status_code == 409 and "already running" in again.text

    shown: list[dict] = []

    def present(message: dict) -> dict | None:  # what the cue presenter reports
        if message["type"] == "marker" and message["label"] == "cue" and not shown:
            shown.append(message)
            return {
                "type": "cue_shown",
                "block": message["block"],
                "number": 1,
                "session_t": message["t"] + 0.012,
                "scheduled_s": message["t"],
            }
        return None

    messages = asyncio.run(
        collect(
            centre,
            clinician,
            f"/ws/assessments/{live_id}",
            lambda m: m["type"] == "state" and m["state"] != "running",
            send=present,
        )
    )
    kinds = {m["type"] for m in messages}
    assert {"hello", "eeg", "hr", "hop", "marker", "state"} <= kinds
    hello = messages[0]
    assert hello["type"] == "hello" and [b["id"] for b in hello["schedule"]] == [
        "baseline",
        "neutral",
        "drug",
        "recovery",
    ]
    assert hello["schedule"][1]["cues"]["times_s"][0] == hello["schedule"][1]["start_s"]
    eeg = next(m for m in messages if m["type"] == "eeg")
    assert eeg["channels"] == ["TP9", "AF7", "AF8", "TP10"] and eeg["fs"] == 64.0
    assert len(eeg["samples"]) == 4 and all(
        len(s) == len(eeg["samples"][0]) for s in eeg["samples"]
    )
    hops = [m for m in messages if m["type"] == "hop"]
    assert set(hops[-1]["quality"]) == {"TP9", "AF7", "AF8", "TP10", "heart"}
    assert all(v in ("green", "amber", "red", "grey") for v in hops[-1]["quality"].values())
    assert any(h["craving"] is not None for h in hops) and hops[-1]["block"] == "recovery"
    assert min(h["block_left_s"] for h in hops) >= 0 and hops[0]["total_s"] == 480
    ratings = [m for m in messages if m["type"] == "marker" and m["label"] == "rating"]
    assert {r["meta"]["moment"] for r in ratings} == {"pre_cue", "post_cue"}
    end = messages[-1]
    assert end["state"] == "completed" and end["session_id"]

    report = clinician.get(f"/sessions/{end['session_id']}")
    assert report.status_code == 200 and "Addiction index" in report.text
    with open_store(centre.db) as store:
        stored = store.get_session(end["session_id"])
        cue_shown = [m for m in stored["markers"] if m["label"] == "cue_shown"]
        actions = [e["action"] for e in read_audit(store)]
    assert stored["session"]["status"] == "completed"
    assert len(cue_shown) == 1 and cue_shown[0]["meta"]["offset_ms"] == pytest.approx(12, abs=0.5)
    assert "assessment_started" in actions and "live_assessment_viewed" in actions


def test_stopping_an_assessment_keeps_what_was_recorded(centre: Centre, clients: dict) -> None:
    clinician = clients["clinician"]
    with open_store(centre.db) as store:
        store.subject("R-0002")
    live_id = start_assessment(centre, clinician, "R-0002", speed="5")

    def stop_after_hops(message: dict) -> bool:
        return message["type"] == "hop" and message["t"] > 20

    asyncio.run(collect(centre, clinician, f"/ws/assessments/{live_id}", stop_after_hops))
    response = clinician.post(
        f"/live/assessments/{live_id}/stop", data={"csrf_token": csrf(clinician)}
    )
    assert response.status_code == 303
    final = asyncio.run(
        collect(centre, clinician, f"/ws/assessments/{live_id}", lambda m: m["type"] == "hello")
    )[0]
    assert final["state"] == "stopped"
    with open_store(centre.db) as store:
        session = store.get_session(final["session_id"])
    assert session["session"]["status"] == "interrupted"
    assert session["scores"]["by_kind"]["craving"] >= 70  # the hops before the stop were kept


@pytest.mark.parametrize("role", [*ROLES, None])
def test_roles_on_the_sockets(centre: Centre, clients: dict, role: str | None) -> None:
    """Every role × socket cell: allowed roles get the first message, others a refused
    handshake (403)."""
    from addiction_index.web import ACCESS

    live_id = next(iter(centre.app.state.hub.assessments), None) or start_assessment(
        centre, clients["clinician"], speed="100"
    )
    client = clients[role] if role else None

    async def first(path: str, wait: bool) -> dict | None:
        async with websockets.connect(
            ws_url(centre, path), additional_headers=headers(client, centre)
        ) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 10)) if wait else None

    for template, path in (
        ("/ws/assessments/{live_id}", f"/ws/assessments/{live_id}"),
        ("/ws/exercise", "/ws/exercise"),
    ):
        if role is not None and role in ACCESS[template]:
            # no exercise may be live yet: that socket opens without a first message
            message = asyncio.run(first(path, wait=template != "/ws/exercise"))
            assert message is None or message["type"] == "hello"
        else:
            with pytest.raises(InvalidStatus) as refused:
                asyncio.run(first(path, wait=False))
            assert refused.value.response.status_code == 403, (role, template)


def test_a_socket_from_another_origin_is_refused(centre: Centre, clients: dict) -> None:
    clinician = clients["clinician"]

    async def connect(origin: str) -> None:
        async with websockets.connect(
            ws_url(centre, "/ws/exercise"), additional_headers=headers(clinician, centre, origin)
        ):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(connect("http://evil.example"))
    assert refused.value.response.status_code == 403
    asyncio.run(connect(centre.base_url))  # the same origin opens


def test_a_coach_runs_an_exercise_session_sees_the_alert_and_logs_ratings(
    centre: Centre, clients: dict
) -> None:
    coach = clients["coach"]
    monitor = coach.get("/exercise/live")
    assert (
        monitor.status_code == 200
        and SUBJECT in monitor.text
        and "index" not in monitor.text.lower().replace("addiction-index", "")
    )
    response = coach.post(
        f"/residents/{SUBJECT}/exercise",
        data={
            "csrf_token": csrf(coach),
            "mode": "simulated",
            "speed": "60",
            "minutes": "6",
            "script": "150-400:spike_above_ceiling",
            "seed": "2",
        },
    )
    assert response.status_code == 303, response.text[:300]
    messages = asyncio.run(
        collect(centre, coach, "/ws/exercise", lambda m: m["type"] == "ended", timeout=60)
    )
    hr = [m for m in messages if m["type"] == "hr"]
    events = [m for m in messages if m["type"] == "event"]
    assert hr and all(m["code"] == SUBJECT for m in hr)
    assert {"zone", "ceiling"} <= set(messages[0]) or messages[0]["type"] == "hr"
    assert any(e["severity"] == "alert" for e in events), [e["kind"] for e in events]
    for message in messages:  # a coach's socket carries heart rate and zone, nothing clinical
        assert not {"craving", "index", "rating", "ratings"} & set(message)
    ended = messages[-1]
    assert ended["status"] == "stopped" and ended["reason"] == "stop_ceiling"
    exercise_id = ended["exercise_id"]
    waiting = f'data-exercise="{exercise_id}"'
    assert waiting in coach.get("/exercise/live").text  # listed until its ratings are logged

    bad = coach.post(
        f"/exercise/{exercise_id}/ratings",
        data={"csrf_token": csrf(coach), "rpe": "25", "post_craving": "10"},
    )
    assert bad.status_code == 422 and "rpe: expected a number from 6 to 20" in bad.text
    good = coach.post(
        f"/exercise/{exercise_id}/ratings",
        data={"csrf_token": csrf(coach), "rpe": "15", "post_craving": "10"},
    )
    assert good.status_code == 303
    assert waiting not in coach.get("/exercise/live").text
    again = coach.post(
        f"/exercise/{exercise_id}/ratings", data={"csrf_token": csrf(coach), "rpe": "12"}
    )
    assert again.status_code == 422 and "not yet rated" in again.text
    stored = centre.app.state.exercise.get(exercise_id)
    assert stored["rpe"] == 15 and stored["post_craving"] == 10.0
    assert stored["status"] == "stopped"
    assert any(e["severity"] == "alert" for e in stored["events"])


def test_a_coach_can_stop_a_session(centre: Centre, clients: dict) -> None:
    coach = clients["coach"]
    response = coach.post(
        f"/residents/{SUBJECT}/exercise",
        data={"csrf_token": csrf(coach), "mode": "simulated", "speed": "5"},
    )
    assert response.status_code == 303
    hub = centre.app.state.hub
    live = hub.live_exercise_of(SUBJECT)
    assert live is not None
    conflict = coach.post(
        f"/residents/{SUBJECT}/exercise", data={"csrf_token": csrf(coach), "mode": "simulated"}
    )
    assert conflict.status_code == 422 and "is running" in conflict.text
    stop = coach.post(f"/exercise/live/{live.live_id}/stop", data={"csrf_token": csrf(coach)})
    assert stop.status_code == 303
    messages = asyncio.run(
        collect(
            centre,
            coach,
            "/ws/exercise",
            lambda m: (
                (m["type"] == "ended" and m["live"] == live.live_id)
                or (m["type"] == "tile" and m["live"] == live.live_id and m["state"] != "running")
            ),
        )
    )
    assert messages[-1]["status"] == "stopped" and messages[-1]["reason"] == "manual_stop"


def test_the_centres_cue_pictures_are_served_to_the_presenter(
    centre: Centre, clients: dict, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pictures installed in <data folder>/cues/<set>/ are shown in file-name order, cycling;
    a set without pictures keeps the placeholder; only the protocol's sets are served."""
    from PIL import Image

    folder = tmp_path / "cues" / "drug"
    folder.mkdir(parents=True)
    for name, colour in (("01.png", "red"), ("02.png", "blue")):
        Image.new("RGB", (8, 8), colour).save(folder / name)
    monkeypatch.setenv("ADDICTION_INDEX_DATA_DIR", str(tmp_path))
    clinician = clients["clinician"]
    with open_store(centre.db) as store:
        store.subject("R-0003")
    live_id = start_assessment(centre, clinician, "R-0003", speed="100")
    hello = asyncio.run(
        collect(centre, clinician, f"/ws/assessments/{live_id}",
                lambda m: m["type"] == "hello" and bool(m["schedule"]))
    )[-1]  # fmt: skip
    assert hello["cue_pictures"] == {"drug": 2, "neutral": 0}
    base = f"/live/assessments/{live_id}/cues"
    third = clinician.get(f"{base}/drug/3")  # two pictures: cue 3 shows the first again
    assert third.status_code == 200 and third.content == (folder / "01.png").read_bytes()
    assert clinician.get(f"{base}/drug/2").content == (folder / "02.png").read_bytes()
    assert clinician.get(f"{base}/neutral/1").status_code == 404  # placeholder instead
    assert clinician.get(f"{base}/other/1").status_code == 404  # not a set of this protocol
    assert clients["coach"].get(f"{base}/drug/1").status_code == 403
