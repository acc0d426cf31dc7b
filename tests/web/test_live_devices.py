"""An assessment started in the browser on real devices: two real LSL outlets on localhost (an
EEG headband's 4 channels at 256 Hz and a strap's heart rate), read by the server's LSL inlets;
and the craving ratings a clinician types in on the live page (:class:`WebRater`)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from addiction_index.store import open_store
from addiction_index.web._live_assessment import LiveAssessment, WebRater
from tests.web.conftest import SUBJECT, Centre, csrf
from tests.web.test_live import collect

pylsl = pytest.importorskip("pylsl", reason="LSL support (pylsl) is not installed")

CHANNELS = ("TP9", "AF7", "AF8", "TP10")


def _outlet(name: str, kind: str, channels: tuple[str, ...], rate: float, unit: str):
    info = pylsl.StreamInfo(name, kind, len(channels), rate, pylsl.cf_float32, f"sid-{name}")
    desc = info.desc().append_child("channels")
    for label in channels:
        channel = desc.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


@pytest.fixture
def wearables() -> Iterator[tuple[str, str]]:
    """A headband (10 Hz alpha, 20 µV, 12-sample packets as a Muse sends) and a strap's RR
    intervals (ms, at each beat) publishing in real time until the test ends."""
    tag = uuid.uuid4().hex[:10]
    eeg_name, hr_name = f"headband-{tag}", f"strap-{tag}"
    eeg = _outlet(eeg_name, "EEG", CHANNELS, 256.0, "microvolts")
    rr = _outlet(hr_name, "RR", ("RR",), 0.0, "ms")
    stop = threading.Event()

    def publish() -> None:
        rng = np.random.default_rng(0)
        n, start, next_beat = 0, pylsl.local_clock(), 0.0
        while not stop.is_set():
            t = n / 256.0 + np.arange(12) / 256.0
            block = 20 * np.sin(2 * np.pi * 10 * t)[:, None] + rng.normal(0, 3, (12, 4))
            eeg.push_chunk(block.astype(np.float32).tolist(), start + t[-1])
            n += 12
            while n / 256.0 >= next_beat:  # a beat every 833 ms (72 bpm) +- 20 ms
                interval = 833.0 + rng.normal(0, 20)
                next_beat += interval / 1000
                rr.push_sample([interval], start + next_beat)
            time.sleep(max(0.0, start + n / 256.0 - pylsl.local_clock()))

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    yield f"lsl:{eeg_name}", f"lsl:{hr_name}"
    stop.set()
    thread.join(5)


def test_an_assessment_on_lsl_devices_streams_to_the_page(
    centre: Centre, clients: dict, wearables: tuple[str, str]
) -> None:
    clinician = clients["clinician"]
    eeg, hr = wearables
    response = clinician.post(
        f"/residents/{SUBJECT}/assess",
        data={"csrf_token": csrf(clinician), "mode": "devices", "eeg": eeg, "hr": hr,
              "age": "30", "protocol": "demo"},
    )  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    live_id = response.headers["location"].rsplit("/", 1)[1]
    seen: set[str] = set()

    def all_in(message: dict) -> bool:  # heart rate shown, and every light green
        seen.add(message["type"])
        quality = message.get("quality", {})
        return "hr" in seen and len(quality) == 5 and set(quality.values()) == {"green"}

    messages = asyncio.run(
        collect(centre, clinician, f"/ws/assessments/{live_id}", all_in, timeout=30)
    )
    devices = next(m["devices"] for m in reversed(messages) if m["type"] in ("devices", "hello"))
    assert [d["state"] for d in devices] == ["streaming", "streaming"]
    assert {d["name"] for d in devices} == {f"lsl:name={eeg[4:]}", f"lsl:name={hr[4:]}"}
    eeg_message = next(m for m in messages if m["type"] == "eeg")
    assert eeg_message["channels"] == list(CHANNELS)
    alpha = np.array(eeg_message["samples"][0])
    assert np.ptp(alpha) > 20  # the 20 µV alpha, in µV, decimated to 64 Hz
    assert messages[-1]["block"] == "baseline"
    bpm = [b for m in messages if m["type"] == "hr" for b in m["bpm"]]
    assert 60 < np.median(bpm) < 85  # 60000 / RR

    stop = clinician.post(f"/live/assessments/{live_id}/stop", data={"csrf_token": csrf(clinician)})
    assert stop.status_code == 303
    hello = asyncio.run(collect(centre, clinician, f"/ws/assessments/{live_id}",
                                lambda m: m["type"] == "hello"))[0]  # fmt: skip
    assert hello["state"] == "stopped" and not hello["simulated"]
    with open_store(centre.db) as store:
        session = store.get_session(hello["session_id"])["session"]
    assert session["status"] == "interrupted" and not session["simulated"]


def test_ratings_typed_on_the_page_reach_the_session() -> None:
    async def scenario() -> tuple[float | None, float | None, list[dict]]:
        live = LiveAssessment("R-0001", "clinician", simulated=False, speed=1.0)
        rater = WebRater(live, wait_s=0.5)
        with live.channel.subscribe() as queue:
            asking = asyncio.create_task(rater.rate("pre_cue", 0.0))
            await asyncio.sleep(0)
            assert "pre_cue" in live.pending_ratings
            assert live.hello()["pending_ratings"][0]["moment"] == "pre_cue"
            assert live.answer_rating("pre_cue", 35.0)
            answered = await asking
            assert not live.answer_rating("pre_cue", 40.0)  # nothing open any more
            skipped = await rater.rate("post_cue", 0.0)  # nobody answers: skipped after 0.5 s
            sent = [queue.get_nowait() for _ in range(queue.qsize())]
        import json

        return answered, skipped, [json.loads(s) for s in sent]

    answered, skipped, sent = asyncio.run(scenario())
    assert answered == 35.0 and skipped is None
    assert [m["type"] for m in sent] == [
        "rating_request", "rating_closed", "rating_request", "rating_closed"]  # fmt: skip
    assert "before the pictures" in sent[0]["question"]
