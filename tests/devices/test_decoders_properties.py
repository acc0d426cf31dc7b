"""Property tests: every registered decoder returns its dataclass or raises DecodeError, whatever
the bytes; and valid payloads built from the field layouts decode back to what was packed."""

from __future__ import annotations

import dataclasses
import json
import struct
import typing
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addiction_index.devices.decoders import (
    DECODERS,
    decode_heart_rate_measurement,
    decode_muse_eeg,
    decode_polar_ecg,
)
from addiction_index.errors import DecodeError

DETERMINISTIC = settings(max_examples=300, derandomize=True, database=None, deadline=None)
VECTORS = (
    Path(__file__).resolve().parents[1] / "data" / "ble_packet_vectors" / "ble_packet_vectors.json"
)


def _returns(name: str) -> tuple[type, ...]:
    """The dataclass(es) a decoder is annotated to return."""
    returned = typing.get_type_hints(DECODERS[name])["return"]
    types = typing.get_args(returned) or (returned,)
    assert all(dataclasses.is_dataclass(t) for t in types), name
    return types


def _decode_or_decode_error(name: str, payload: bytes) -> object | None:
    try:
        result = DECODERS[name](payload)
    except DecodeError as err:  # anything else escapes and fails the test
        assert err.decoder == name and err.length == len(payload)
        return None
    assert isinstance(result, _returns(name))
    return result


@pytest.mark.parametrize("name", sorted(DECODERS))
@DETERMINISTIC
@given(payload=st.binary(max_size=300))
def test_any_bytes_give_a_result_or_decode_error(name: str, payload: bytes) -> None:
    _decode_or_decode_error(name, payload)


def _real_payloads() -> list[bytes]:
    groups = json.loads(VECTORS.read_text(encoding="utf-8"))
    payloads = [bytes.fromhex(e["hex"]) for v in groups.values() if isinstance(v, list)
                for e in v if "hex" in e]  # fmt: skip
    payloads += [
        bytes.fromhex(h) for e in groups["muse_classic"] for h in e.get("commands", {}).values()
    ]
    return payloads


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A real payload, truncated, extended, or with some bytes overwritten."""
    data = bytearray(draw(st.sampled_from(_real_payloads())))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(("cut", "add", "set")))
        if op == "cut" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif op == "add":
            data += draw(st.binary(min_size=1, max_size=8))
        elif data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.parametrize("name", sorted(DECODERS))
@DETERMINISTIC
@given(payload=_mutated())
def test_mutated_real_payloads_give_a_result_or_decode_error(name: str, payload: bytes) -> None:
    _decode_or_decode_error(name, payload)


@DETERMINISTIC
@given(
    hr16=st.booleans(),
    contact=st.integers(0, 3),
    energy=st.none() | st.integers(0, 0xFFFF),
    rr=st.none() | st.lists(st.integers(0, 0xFFFF), max_size=12),
    data=st.data(),
)
def test_heart_rate_round_trip(hr16, contact, energy, rr, data) -> None:
    hr = data.draw(st.integers(0, 0xFFFF if hr16 else 0xFF))
    flags = int(hr16) | contact << 1 | (energy is not None) << 3 | (rr is not None) << 4
    payload = struct.pack("<B", flags) + struct.pack("<H" if hr16 else "<B", hr)
    payload += struct.pack("<H", energy) if energy is not None else b""
    payload += struct.pack(f"<{len(rr or [])}H", *(rr or []))
    m = decode_heart_rate_measurement(payload)
    assert (m.flags, m.hr_bpm, m.energy_expended_kj) == (flags, hr, energy)
    assert m.sensor_contact_supported is (contact >= 2)
    assert m.sensor_contact_detected is ({2: False, 3: True}.get(contact))
    assert m.rr_raw.tolist() == (rr or [])
    np.testing.assert_array_equal(m.rr_ms, np.array(rr or [], dtype=float) * 1000 / 1024)


@DETERMINISTIC
@given(
    sequence=st.integers(0, 0xFFFF), raw=st.lists(st.integers(0, 4095), min_size=12, max_size=12)
)
def test_muse_eeg_round_trip(sequence: int, raw: list[int]) -> None:
    packed = int("".join(f"{v:012b}" for v in raw), 2).to_bytes(18, "big")
    packet = decode_muse_eeg(sequence.to_bytes(2, "big") + packed)
    assert packet.sequence == sequence and packet.raw[:, 0].tolist() == raw
    assert packet.samples[:, 0].tolist() == [0.48828125 * (v - 2048) for v in raw]


@DETERMINISTIC
@given(
    timestamp=st.integers(0, 2**64 - 1),
    values=st.lists(st.integers(-(2**23), 2**23 - 1), min_size=1, max_size=100),
)
def test_polar_ecg_round_trip(timestamp: int, values: list[int]) -> None:
    body = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    frame = decode_polar_ecg(b"\x00" + timestamp.to_bytes(8, "little") + b"\x00" + body)
    assert frame.timestamp_ns == timestamp and frame.raw.tolist() == values
