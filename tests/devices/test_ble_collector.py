"""Bluetooth collectors through the hardware seam: real byte formats, real timing, two drops."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
from ble_capture import (
    MUSE_EEG,
    FakeBleTransport,
    encode_heart_rate,
    encode_muse_eeg,
    muse_capture,
    strap_capture,
)

from addiction_index.devices import SourceState, load_profile
from addiction_index.devices._ble import BleCollector
from addiction_index.devices.decoders import decode_heart_rate_measurement, decode_muse_eeg
from addiction_index.signals import Chunk, Marker, SimulatedClock

VECTORS = Path(__file__).resolve().parents[1] / "data" / "ble_packet_vectors"
SESSION_S = 60.0
DROPS = [(15.0, 18.0), (35.0, 41.0)]


def _vectors(group: str) -> list[dict]:
    return json.loads((VECTORS / "ble_packet_vectors.json").read_text())[group]


def test_encoders_reproduce_real_packets_byte_for_byte() -> None:
    """The stand-in speaks the devices' bytes: encode(decode(real packet)) == real packet."""
    eeg = [v for v in _vectors("muse_classic") if v["id"].startswith("muse_eeg")]
    assert len(eeg) >= 2, "Muse EEG vectors missing"
    for v in eeg:
        payload = bytes.fromhex(v["hex"])
        raw = np.array(v["expected"]["raw_uint12"])
        sequence = v["expected"].get("sequence", 0)
        encoded = encode_muse_eeg(sequence, raw)
        # A whole notification, or only its 18 bytes of samples (no counter).
        assert (encoded if len(payload) == 20 else encoded[2:]) == payload, v["id"]
        if len(payload) == 20:
            assert decode_muse_eeg(payload).sequence == sequence
    hrm = decode_heart_rate_measurement(encode_heart_rate(72, [819, 840]))
    assert (hrm.hr_bpm, list(hrm.rr_raw), hrm.sensor_contact_detected) == (72, [819, 840], True)


def _recordings(shared_file) -> tuple[np.ndarray, np.ndarray]:
    """A real Muse recording (µV) and a real RR series (ms), or skip saying which is absent."""
    csv = shared_file(
        "muse_eeg_notebooks", "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv"
    )
    eeg = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))[: int(SESSION_S * 256)]
    rr = np.loadtxt(shared_file("rr_intervals_hrv_sampledata", "rest_rri.txt"))
    rr = rr[: int(np.searchsorted(np.cumsum(rr), SESSION_S * 1000)) + 2]
    return eeg, rr


async def _collect(collector: BleCollector, transport: FakeBleTransport, clock: SimulatedClock):
    items: list[Chunk | Marker] = []
    states: list[SourceState] = []
    collector.on_state(states.append)

    async def consume() -> None:
        async for item in collector.chunks():
            items.append(item)

    driver = asyncio.create_task(clock.run())
    task = asyncio.create_task(consume())
    await asyncio.wait_for(transport.finished.wait(), timeout=60)
    for _ in range(10):  # let the consumer drain its queue
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    clock.close()
    await driver
    return items, states


def test_muse_session_with_two_drops(shared_file) -> None:
    eeg_uv, _ = _recordings(shared_file)
    capture = muse_capture(eeg_uv, np.random.default_rng(0))
    # One malformed notification in the middle: counted, logged, skipped.
    capture.notifications.append((25.0001, MUSE_EEG[0], b"\x01\x02\x03"))
    clock = SimulatedClock()
    transport = FakeBleTransport(capture, clock, DROPS)
    collector = BleCollector(load_profile("muse-2"), transport, clock=clock)
    items, states = asyncio.run(_collect(collector, transport, clock))

    chunks = [c for c in items if isinstance(c, Chunk) and c.stream.name == "muse-2/eeg"]
    t = np.concatenate([c.timestamps for c in chunks]) - clock.origin
    x = np.concatenate([c.samples for c in chunks])
    raw = np.clip(np.round(eeg_uv / 0.48828125 + 2048), 0, 4095)
    expected = (raw - 2048) * 0.48828125
    # Every sample that arrived is exactly the recording's (12-bit) value, at its true time
    # (relative to the first sample: the stamps carry the least delivery delay, a constant).
    true_t = np.arange(expected.shape[0]) / 256
    first = np.array([c.timestamps[0] for c in chunks]) - clock.origin
    packet = np.round((first - first[0]) * 256 / 12).astype(int)  # ±23 ms tells packets apart
    index = (packet[:, None] * 12 + np.arange(12)).reshape(-1)
    np.testing.assert_array_equal(x, expected[index])
    assert np.max(np.abs((t - t[0]) - true_t[index])) < 0.020  # no shift, before or after gaps
    assert np.all(np.diff(t) > 0)  # time never goes back, even while the clock fit settles
    # The gaps are where the drops were, and as long.
    gaps = [m for m in items if isinstance(m, Marker) and m.label == "gap"]
    assert len(gaps) == 2
    for gap, (start, end) in zip(gaps, DROPS, strict=True):
        assert gap.meta["stream"] == "muse-2/eeg"
        back = gap.timestamp - clock.origin  # first packet after the reconnection
        assert end <= back < end + 4.5  # reconnected within one backoff step of the link's return
        assert abs(gap.value - (back - start)) < 0.1  # everything from the drop to then is lost
    missing = ~np.isin(np.arange(len(expected) // 12 * 12), index)
    lost_t = true_t[: missing.size][missing]
    down = [(start, g.timestamp - clock.origin) for (start, _), g in zip(DROPS, gaps, strict=True)]
    assert lost_t.size > 0 and all(any(a - 0.05 <= s < b for a, b in down) for s in lost_t)
    labels = [m.label for m in items if isinstance(m, Marker)]
    assert labels.count("device_disconnected") == 2 and labels.count("device_reconnected") == 2
    assert collector.stats.reconnects == 2 and collector.stats.malformed == 1
    assert states[:2] == [SourceState.CONNECTING, SourceState.STREAMING]
    assert states.count(SourceState.RECONNECTING) == 2 and states[-1] == SourceState.STOPPED
    assert any(w[1] == bytes.fromhex("02 64 0a") for w in transport.writes)  # "d": start


def test_strap_session_with_two_drops(shared_file) -> None:
    _, rr_ms = _recordings(shared_file)
    capture, beats = strap_capture(rr_ms, np.random.default_rng(1))
    clock = SimulatedClock()
    transport = FakeBleTransport(capture, clock, DROPS)
    collector = BleCollector(load_profile("hrm"), transport, clock=clock)
    items, _ = asyncio.run(_collect(collector, transport, clock))

    rr_chunks = [c for c in items if isinstance(c, Chunk) and c.stream.kind == "rr"]
    got_t = np.concatenate([c.timestamps for c in rr_chunks]) - clock.origin
    got_rr = np.concatenate([c.samples[:, 0] for c in rr_chunks])
    # Each RR arrives once, as sent (ticks of 1/1024 s), and its beat is stamped near its true time.
    nearest = np.abs(got_t[:, None] - beats[None, :]).argmin(axis=1)
    assert len(set(nearest.tolist())) == nearest.size
    np.testing.assert_allclose(got_rr, np.round(rr_ms[nearest] * 1.024) / 1.024, atol=1e-9)
    assert np.max(np.abs(got_t - beats[nearest])) < 1.0  # the strap reports beats once a second
    gaps = [m for m in items if isinstance(m, Marker) and m.label == "gap"]
    assert [g.meta["stream"] for g in gaps] == ["hrm/rr", "hrm/rr"]
    hr = [c for c in items if isinstance(c, Chunk) and c.stream.kind == "hr"]
    assert 40 < np.nanmean([c.samples[0, 0] for c in hr]) < 110


def test_a_device_that_never_comes_back_is_lost_not_a_crash() -> None:
    capture = muse_capture(np.zeros((256 * 20, 4)), np.random.default_rng(2))
    clock = SimulatedClock()
    transport = FakeBleTransport(capture, clock, [(5.0, 1e9)])
    collector = BleCollector(load_profile("muse-2"), transport, clock=clock, give_up_s=30.0)

    async def run():
        driver = asyncio.create_task(clock.run())
        items = [item async for item in collector.chunks()]
        clock.close()
        await driver
        return items

    items = asyncio.run(asyncio.wait_for(run(), timeout=60))
    assert collector.state is SourceState.LOST
    assert [m.label for m in items if isinstance(m, Marker)][-1] == "device_lost"


def test_two_devices_on_one_adapter_through_a_whole_session(shared_file, tmp_path: Path) -> None:
    """A Muse and a strap, each dropping once, feed the session runner to a scored session."""
    from addiction_index.features.spec import load_feature_spec
    from addiction_index.models import load_model_definition
    from addiction_index.sessions import SessionRunner, load_protocol

    eeg_uv, rr_ms = _recordings(shared_file)  # 60 s of each
    eeg_uv = np.concatenate([eeg_uv, eeg_uv])  # 120 s: the recording twice
    rr_ms = np.concatenate([rr_ms, rr_ms, rr_ms])
    protocol = tmp_path / "p.yaml"
    protocol.write_text(
        'name: two-devices\nversion: "1"\nblocks:\n'
        "  - {id: baseline, role: baseline, duration_s: 40}\n"
        "  - {id: neutral, role: neutral, duration_s: 40}\n"
        "  - {id: drug, role: drug, duration_s: 39}\n"
    )
    clock = SimulatedClock()
    rng = np.random.default_rng(3)
    muse = FakeBleTransport(muse_capture(eeg_uv, rng), clock, [(50.0, 53.0)])
    strap = FakeBleTransport(strap_capture(rr_ms, rng)[0], clock, [(90.0, 95.0)])
    sources = [
        BleCollector(load_profile("muse-2"), muse, clock=clock),
        BleCollector(load_profile("hrm"), strap, clock=clock),
    ]
    runner = SessionRunner(
        load_protocol(protocol),
        sources,
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=clock,
    )
    outcome = asyncio.run(asyncio.wait_for(runner.run(), timeout=120))
    assert outcome.completed
    print({e["feature"]: e["reason"] for e in outcome.index.excluded})
    # Real recordings from another task, drops and a 39 s block: whatever the index says, it
    # says why for every feature it could not use, and nothing crashes.
    assert outcome.index.status in ("ok", "insufficient_data", "no_baseline")
    assert all(e["reason"] for e in outcome.index.excluded)
    labels = [m.label for m in outcome.markers]
    assert labels.count("device_reconnected") == 2 and labels.count("gap") == 2
    assert outcome.resting_hr_bpm is not None and 40 < outcome.resting_hr_bpm < 110
    by_t = {round(h.t - clock.origin, 2): h.features for h in runner.hops}
    assert "eeg_rel_alpha_AF7" not in by_t[51.0]  # the headband was away
    assert "eeg_rel_alpha_AF7" in by_t[58.0]  # and came back
