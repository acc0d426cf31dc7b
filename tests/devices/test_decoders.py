"""Decoders against exact payload bytes: the licensed vectors in tests/data, the real Polar H10
captures in ../shared/data (skipped when absent), and Heart Rate Measurements built by field."""

from __future__ import annotations

import itertools
import json
import struct
from pathlib import Path

import numpy as np
import pytest

import addiction_index.devices.decoders as decoders
from addiction_index.devices.decoders import (
    DECODERS,
    decode_heart_rate_measurement,
    decode_muse_accelerometer,
    decode_muse_control,
    decode_muse_eeg,
    decode_muse_gyroscope,
    decode_muse_ppg,
    decode_muse_telemetry,
    decode_pmd_command,
    decode_pmd_control_point,
    decode_pmd_features,
    decode_polar_ecg,
    join_muse_control,
    muse_command,
    pmd_start_ecg_command,
    pmd_stop_command,
    unpack_uint12,
)
from addiction_index.errors import DecodeError, InputError

VECTORS = (
    Path(__file__).resolve().parents[1] / "data" / "ble_packet_vectors" / "ble_packet_vectors.json"
)
TOL = 1e-9


def _load(path: Path) -> dict[str, list[dict]]:
    return {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if k[0] != "_"}


def _bytes(text: str) -> bytes:
    return bytes(int(token, 16) for token in text.split())


LOCAL = _load(VECTORS)
MUSE = {e["id"]: e for e in LOCAL["muse_classic"]}
SEQ = b"\x12\x34"  # a counter for the 18-byte sample blocks that come without one


PUBLIC = {
    "DECODERS", "ACC_SCALE_G", "ECG", "EEG_OFFSET", "EEG_SCALE_UV", "GYRO_SCALE_DPS",
    "RR_TICKS_PER_S", "BatteryLevel", "HeartRateMeasurement", "MuseControlFragment",
    "MuseEegPacket", "MuseImuPacket", "MusePpgPacket", "MuseTelemetry", "PmdCommand",
    "PmdControlResponse", "PmdFeatures", "PmdMeasurementStopped", "PolarEcgFrame",
    "decode_battery_level", "decode_heart_rate_measurement", "decode_muse_accelerometer",
    "decode_muse_control", "decode_muse_eeg", "decode_muse_gyroscope", "decode_muse_ppg",
    "decode_muse_telemetry", "decode_pmd_command", "decode_pmd_control_point",
    "decode_pmd_features", "decode_polar_ecg", "join_muse_control", "muse_command",
    "parse_pmd_settings", "pmd_start_ecg_command", "pmd_stop_command", "unpack_uint12",
}  # fmt: skip


def test_public_api_is_exported_and_registered() -> None:
    assert len(decoders.__all__) == len(set(decoders.__all__)) and set(decoders.__all__) == PUBLIC
    for name in decoders.__all__:
        assert hasattr(decoders, name), name
    for key, fn in DECODERS.items():
        assert fn.__name__.startswith("decode_") and getattr(decoders, fn.__name__) is fn, key
    assert {n for n in PUBLIC if n.startswith("decode_")} == {f.__name__ for f in DECODERS.values()}


def test_the_licensed_copy_has_no_unlicensed_entries() -> None:
    entries = [e for group in LOCAL.values() for e in group]
    assert entries and not [e["id"] for e in entries if "phdiethelm" in e["source"]]


# --- Muse ---------------------------------------------------------------------------------------


def _check_eeg(e: dict, packet) -> None:
    assert packet.raw[:, 0].tolist() == e["expected"]["raw_uint12"]
    assert packet.samples.shape == (12, 1) and packet.samples.dtype == np.float64
    np.testing.assert_allclose(packet.samples[:, 0], e["expected"]["microvolts"], rtol=0, atol=TOL)


def _muse_eeg_block(e: dict) -> None:
    packet = decode_muse_eeg(SEQ + _bytes(e["hex"]))
    assert packet.sequence == 0x1234
    _check_eeg(e, packet)


def _muse_eeg_notification(e: dict) -> None:
    packet = decode_muse_eeg(_bytes(e["hex"]))
    assert packet.sequence == e["expected"]["sequence"]
    _check_eeg(e, packet)


def _muse_ppg_block(e: dict) -> None:
    packet = decode_muse_ppg(SEQ + _bytes(e["hex"]))
    assert packet.sequence == 0x1234 and packet.samples.shape == (6, 1)
    assert packet.raw[:, 0].tolist() == e["expected"]["raw_uint24"]
    assert packet.samples[:, 0].tolist() == e["expected"]["raw_uint24"]


def _muse_telemetry(e: dict) -> None:
    t, x = decode_muse_telemetry(_bytes(e["hex"])), e["expected"]
    assert (t.sequence, t.temperature) == (x["sequence"], x["temperature"])
    assert t.battery_percent == pytest.approx(x["battery_percent"], abs=TOL)
    assert t.fuel_gauge_mv == pytest.approx(x["fuel_gauge_mV"], abs=TOL)


def _muse_imu(decode, key: str):
    def check(e: dict) -> None:
        packet, x = decode(_bytes(e["hex"])), e["expected"]
        assert packet.sequence == x["sequence"]
        assert packet.raw.reshape(-1).tolist() == x["raw_int16_xyz_x3"]
        expected = [[s["x"], s["y"], s["z"]] for s in x[key]]
        np.testing.assert_allclose(packet.samples, expected, rtol=0, atol=TOL)

    return check


def _muse_commands(e: dict) -> None:
    for label, hex_bytes in e["commands"].items():
        assert muse_command(label.split()[0]) == _bytes(hex_bytes), label


def _muse_responses(e: dict) -> None:
    pending, objects = "", []
    for text in e["fragments"]:
        notification = bytes([len(text)]) + text.encode("ascii")
        fragment = decode_muse_control(notification.ljust(20, b"\0"))  # padded like the device
        assert (fragment.length, fragment.text) == (len(text), text)
        done, pending = join_muse_control(pending, fragment.text)
        objects += done
    assert objects == e["expected"]["json_objects"] and pending == ""


MUSE_CHECKS = {
    "muse_eeg_samples_12bit_payload": _muse_eeg_block,
    "muse_ppg_samples_24bit_payload": _muse_ppg_block,
    "muse_eeg_notification_tp10": _muse_eeg_notification,
    "muse_telemetry": _muse_telemetry,
    "muse_accelerometer": _muse_imu(decode_muse_accelerometer, "g"),
    "muse_gyroscope": _muse_imu(decode_muse_gyroscope, "deg_per_s"),
    "muse_control_commands": _muse_commands,
    "muse_control_responses": _muse_responses,
}


def test_every_muse_vector_has_a_check() -> None:
    assert set(MUSE) == set(MUSE_CHECKS)


@pytest.mark.parametrize("vector_id", sorted(MUSE_CHECKS))
def test_muse_vector(vector_id: str) -> None:
    MUSE_CHECKS[vector_id](MUSE[vector_id])


@pytest.mark.parametrize("decode", [decode_muse_eeg, decode_muse_ppg, decode_muse_telemetry,
                                    decode_muse_accelerometer, decode_muse_gyroscope])  # fmt: skip
def test_muse_data_needs_exactly_20_bytes(decode) -> None:
    for n in (*range(20), 21, 40):
        with pytest.raises(DecodeError) as err:
            decode(bytes(n))
        assert err.value.length == n
    assert decode(bytearray(20)) is not None and decode(memoryview(bytes(20))) is not None
    with pytest.raises(DecodeError, match="expected bytes"):
        decode("x" * 20)


def test_muse_eeg_round_trip_and_clipping() -> None:
    rng = np.random.default_rng(7)
    raw = rng.integers(0, 4096, size=12)
    raw[[0, 5]] = [0, 4095]
    packed = int("".join(f"{v:012b}" for v in raw), 2).to_bytes(18, "big")
    packet = decode_muse_eeg(b"\xff\xfe" + packed)
    assert packet.sequence == 0xFFFE and packet.raw[:, 0].tolist() == raw.tolist()
    assert np.flatnonzero(packet.clipped[:, 0]).tolist() == [0, 5]
    assert packet.samples[0, 0] == -1000.0 and packet.samples[5, 0] == pytest.approx(999.51171875)
    with pytest.raises(ValueError):
        packet.samples[0, 0] = 1.0  # decoded arrays are read-only
    stack = np.frombuffer(packed * 3, dtype=np.uint8).reshape(3, 18)
    assert (unpack_uint12(stack) == raw).all() and unpack_uint12(stack).shape == (3, 12)
    with pytest.raises(InputError):
        unpack_uint12(np.zeros(4, np.uint8))


def test_muse_control_rejects_bad_fragments() -> None:
    for bad in (b"", b"\x05abc", b"\x02\xff\xfe"):
        with pytest.raises(DecodeError):
            decode_muse_control(bad)
    assert join_muse_control('{"rc":', "0") == ([], '{"rc":0')
    with pytest.raises(DecodeError):
        join_muse_control("", '{"rc":}')
    with pytest.raises(DecodeError):
        join_muse_control("", "[1]}")
    for bad in ("", "é", "x" * 19, "a\nb"):
        with pytest.raises(InputError):
            muse_command(bad)


# --- Heart Rate Measurement 0x2A37 --------------------------------------------------------------


@pytest.mark.parametrize("e", LOCAL["ble_heart_rate_measurement_0x2A37"], ids=lambda e: e["id"])
def test_heart_rate_vector(e: dict) -> None:
    m, x = decode_heart_rate_measurement(_bytes(e["hex"])), e["expected"]
    assert (m.flags, m.hr_bpm) == (x["flags"], x["hr_bpm"])
    assert m.sensor_contact_supported is x["sensor_contact_supported"]
    assert m.sensor_contact_detected is x["sensor_contact_detected"]
    assert m.energy_expended_kj == x["energy_expended_kJ"]
    assert m.rr_raw.tolist() == x["rr_raw_1_1024s"]
    np.testing.assert_allclose(m.rr_ms, x["rr_ms"], rtol=0, atol=TOL)
    assert m.samples.shape == (len(x["rr_ms"]), 1) and m.samples.dtype == np.float64


CONTACT = {0: (False, None), 1: (False, None), 2: (True, False), 3: (True, True)}  # bits 2..1


def _hrm(hr16: bool, contact: int, energy: bool, rr_flag: bool, n_rr: int) -> tuple[bytes, dict]:
    flags = int(hr16) | contact << 1 | int(energy) << 3 | int(rr_flag) << 4
    hr = 300 + n_rr if hr16 else 40 + n_rr
    rr = [700 + 37 * i for i in range(n_rr)]
    body = struct.pack("<B", flags) + struct.pack("<H" if hr16 else "<B", hr)
    body += struct.pack("<H", 1234 + contact) if energy else b""
    body += struct.pack(f"<{n_rr}H", *rr)
    expected = {"flags": flags, "hr": hr, "energy": 1234 + contact if energy else None, "rr": rr}
    return body, expected


BOTH = (False, True)
HRM_CASES = [
    (hr16, contact, energy, rr_flag, n_rr)
    for hr16, contact, energy, rr_flag in itertools.product(BOTH, range(4), BOTH, BOTH)
    for n_rr in (range(10) if rr_flag else (0,))
]


def _case_id(case: tuple) -> str:
    return "hr16={}-contact={}-energy={}-rr={}-n={}".format(*case)


@pytest.mark.parametrize("case", HRM_CASES, ids=_case_id)
def test_heart_rate_every_flag_combination(case: tuple) -> None:
    payload, x = _hrm(*case)
    m = decode_heart_rate_measurement(payload)
    supported, detected = CONTACT[case[1]]
    assert (m.flags, m.hr_bpm, m.hr_uint16) == (x["flags"], x["hr"], case[0])
    assert (m.sensor_contact_supported, m.sensor_contact_detected) == (supported, detected)
    assert m.energy_expended_kj == x["energy"]
    assert m.rr_raw.tolist() == x["rr"]
    assert m.rr_ms.tolist() == [r * 1000 / 1024 for r in x["rr"]]
    with pytest.raises(DecodeError) as err:  # one byte short is always malformed
        decode_heart_rate_measurement(payload[:-1])
    assert err.value.decoder == "heart_rate_measurement" and err.value.length == len(payload) - 1


def test_heart_rate_count_covers_zero_to_nine_rr() -> None:
    assert {c[4] for c in HRM_CASES if c[3]} == set(range(10)) and len(HRM_CASES) == 176


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"\x01\x48", "heart-rate"),  # uint16 HR with one byte
        (b"\x08\x48\x10", "energy"),  # energy flagged, one byte of it
        (b"\x10\x48\x55\x03\x01", "odd"),  # RR block of 3 bytes
        (b"\x00\x48\x55\x03", "trailing"),  # bytes after HR without the RR flag
        (b"\x20\x48", "reserved"),
        (b"\x80\x48", "reserved"),
    ],
)
def test_heart_rate_malformed(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_heart_rate_measurement(payload)


def test_battery_level() -> None:
    assert DECODERS["battery_level"](b"\x57").percent == 87
    for bad in (b"", b"\x65", b"\x50\x00"):
        with pytest.raises(DecodeError):
            DECODERS["battery_level"](bad)


# --- Polar PMD -----------------------------------------------------------------------------------


def _check_ecg(e: dict) -> None:
    frame, x = decode_polar_ecg(_bytes(e["hex"])), e["expected"]
    assert (frame.measurement_type, frame.frame_type) == (x["measurement_type"], x["frame_type"])
    assert frame.timestamp_ns == x["timestamp_ns"] and len(frame.raw) == x["n_samples"]
    assert frame.raw.tolist() == x["ecg_uV"] and frame.samples[:, 0].tolist() == x["ecg_uV"]
    assert frame.samples.shape == (x["n_samples"], 1) and frame.samples.dtype == np.float64


def test_polar_sdk_ecg_vector() -> None:
    (e,) = LOCAL["polar_pmd"]
    _check_ecg(e)


def _check_cp(e: dict) -> None:
    data, x = _bytes(e["hex"]), e["expected"]
    if e["id"] == "pmd_cp_read_features_h10":
        features = decode_pmd_features(data)
        assert features.measurement_bitmask == x["measurement_bitmask"]
        for name in ("ecg", "ppg", "acc", "ppi", "gyro", "mag"):
            assert getattr(features, f"{name}_supported") is x[f"{name}_supported"]
    elif e["id"].endswith("_request"):
        command = decode_pmd_command(data)
        assert command.op_code == int(x["op_code"].split()[0], 16)
        assert command.measurement_type == x["measurement_type"]
        assert dict(command.settings) == {k: (v,) for k, v in x.get("settings", {}).items()}
        built = pmd_start_ecg_command() if command.op_name == "start" else pmd_stop_command()
        assert built == data
    else:
        response = decode_pmd_control_point(data)
        assert (response.op_code, response.measurement_type) == (
            x["op_code"],
            x["measurement_type"],
        )
        if isinstance(x["error"], str):  # e.g. "0x05 ERROR INVALID PARAMETER"
            code, _, name = x["error"].split(maxsplit=2)
            assert response.status == int(code, 16) and response.status_name == name.replace(
                " ", "_"
            )
        else:
            assert (response.status, response.more_frames) == (x["error"], bool(x["more_frames"]))
        settings = {k: tuple(v) for k, v in x.get("settings", {}).items()}
        assert dict(response.settings) == settings


def _shared_pmd(shared_file) -> list[dict]:
    # The unlicensed Polar H10 captures are read from the shared data only (see tests/data).
    path = shared_file("ble_packet_vectors", "ble_packet_vectors.json")
    entries = [e for e in _load(path)["polar_pmd"] if "phdiethelm/h10_ecg" in e["source"]]
    assert len(entries) == 8
    return entries


def test_real_h10_ecg_captures(shared_file) -> None:
    captures = [e for e in _shared_pmd(shared_file) if e["id"].startswith("pmd_ecg_")]
    assert len(captures) == 2
    for e in captures:
        _check_ecg(e)


def test_real_h10_control_point_messages(shared_file) -> None:
    messages = [e for e in _shared_pmd(shared_file) if e["id"].startswith("pmd_cp_")]
    assert len(messages) == 6
    for e in messages:
        _check_cp(e)


def test_pmd_commands_from_the_field_layout() -> None:
    # [op 2 start, type 0 ECG, (setting 0 rate, 1 value, 130 LE), (setting 1 resolution, 1, 14 LE)]
    assert pmd_start_ecg_command() == bytes([2, 0, 0, 1, 130, 0, 1, 1, 14, 0])
    assert pmd_start_ecg_command(sample_rate_hz=250, resolution_bits=16)[4:6] == b"\xfa\x00"
    assert pmd_stop_command() == b"\x03\x00" and pmd_stop_command(2) == b"\x03\x02"
    for bad in ({"sample_rate_hz": -1}, {"resolution_bits": 70000}):
        with pytest.raises(InputError):
            pmd_start_ecg_command(**bad)
    with pytest.raises(InputError):
        pmd_stop_command(64)


def test_pmd_control_point_responses_from_the_field_layout() -> None:
    # get-settings answer for ACC: rates 25/50, resolution 16, range 2/4/8, factor 1.5 (float32)
    params = bytes([0, 2, 25, 0, 50, 0, 1, 1, 16, 0, 2, 3, 2, 0, 4, 0, 8, 0, 5, 1])
    params += struct.pack("<f", 1.5)
    response = decode_pmd_control_point(bytes([0xF0, 1, 2, 0, 0]) + params)
    assert dict(response.settings) == {"sample_rate_hz": (25, 50), "resolution_bits": (16,),
                                       "range": (2, 4, 8), "factor": (1.5,)}  # fmt: skip
    multi = decode_pmd_control_point(bytes([0xF0, 1, 2, 0, 1]) + params[:5])
    assert multi.more_frames and dict(multi.settings) == {} and multi.parameters == params[:5]
    stopped = decode_pmd_control_point(b"\x01\x00\x02")
    assert stopped.measurement_types == (0, 2)
    malformed = (
        "",  # empty
        "f0 02 00",  # too short
        "f0 0a 00 00",  # unknown op code
        "f0 02 00 0f",  # unknown status
        "f1 02 00 00",  # unknown message code
        "f0 01 00 00 00 06 01 00",  # unknown setting type
        "f0 01 00 00 00 00 02 82 00",  # two values announced, one sent
    )
    for bad in map(bytes.fromhex, malformed):
        with pytest.raises(DecodeError):
            decode_pmd_control_point(bad)
    for bad in (b"\x0f", b"\xf0\x05"):
        with pytest.raises(DecodeError):
            decode_pmd_features(bad)
    for bad in (b"\x02", b"\x00\x00", b"\x02\x00\x00\x01\x82"):
        with pytest.raises(DecodeError):
            decode_pmd_command(bad)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (bytes(10), "header"),
        (bytes(14), "multiple of 3"),
        (b"\x02" + bytes(12), "not ECG"),
        (bytes(9) + b"\x80" + bytes(3), "compressed"),
        (bytes(9) + b"\x01" + bytes(3), "unknown ECG frame type"),
    ],
)
def test_polar_ecg_malformed(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_polar_ecg(payload)


def test_polar_ecg_sign_extension() -> None:
    values = [-(2**23), -1, 0, 1, 2**23 - 1]
    body = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    frame = decode_polar_ecg(b"\x00" + (7).to_bytes(8, "little") + b"\x00" + body)
    assert frame.raw.tolist() == values and frame.timestamp_ns == 7
