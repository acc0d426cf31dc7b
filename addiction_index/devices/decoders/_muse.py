"""Classic Muse (2016, Muse 2, Muse S on classic firmware) BLE notifications.

Byte layouts (EVIDENCE 7.1), as decoded by
alexandrebarachant/muse-lsl ``muselsl/muse.py`` (@797d01c per EVIDENCE; identical in @231bfe2:
``_unpack_eeg_channel``, ``_unpack_ppg_channel``, ``_unpack_imu_channel``, ``_handle_telemetry``,
``_handle_control``, ``_write_cmd_str``) and urish/muse-js ``src/lib/muse-parse.ts`` and
``src/lib/muse-utils.ts`` (@4e86457; ``decodeUnsigned12BitData``, ``parseTelemetry``,
``parseAccelerometer``, ``decodeResponse``, ``encodeCommand``):

* every data notification is 20 bytes and starts with a big-endian uint16 packet counter;
* EEG (one characteristic per electrode): 12 samples of 12 bits, big-endian bit packing
  (3 bytes → 2 samples); µV = 0.48828125 × (raw − 2048);
* PPG (one characteristic per optical channel): 6 samples of 24-bit big-endian unsigned counts;
* accelerometer / gyroscope: 3 samples × (x, y, z) of big-endian int16;
  g = raw × 0.0000610352, deg/s = raw × 0.0074768;
* telemetry: big-endian uint16 words: counter, battery × 512, fuel-gauge mV ÷ 2.2, an ADC word of
  unknown meaning, temperature (unit not documented by either source); the rest is zero padding;
* control (notifications on the command characteristic): byte 0 = number of ASCII characters that
  follow; the fragments concatenate into JSON objects, each ending with ``}``.

Which characteristic carries which channel, and the rates, live in ``devices/muse-2.toml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from addiction_index.errors import DecodeError, InputError

__all__ = [
    "ACC_SCALE_G",
    "EEG_OFFSET",
    "EEG_SCALE_UV",
    "GYRO_SCALE_DPS",
    "MuseControlFragment",
    "MuseEegPacket",
    "MuseImuPacket",
    "MusePpgPacket",
    "MuseTelemetry",
    "decode_muse_accelerometer",
    "decode_muse_control",
    "decode_muse_eeg",
    "decode_muse_gyroscope",
    "decode_muse_ppg",
    "decode_muse_telemetry",
    "join_muse_control",
    "muse_command",
    "unpack_uint12",
]

PACKET_BYTES = 20
EEG_SCALE_UV = 0.48828125  # µV per count (muse-lsl, muse-js)
EEG_OFFSET = 2048  # counts at 0 µV
ACC_SCALE_G = 0.0000610352  # g per count (muse-lsl MUSE_ACCELEROMETER_SCALE_FACTOR)
GYRO_SCALE_DPS = 0.0074768  # deg/s per count (muse-lsl MUSE_GYRO_SCALE_FACTOR)
_RAIL_LOW, _RAIL_HIGH = 0, 4095  # 12-bit rails: clipping (EVIDENCE 7.1)


def _payload(decoder: str, payload: object, size: int | None = PACKET_BYTES) -> bytes:
    """``payload`` as bytes of ``size`` (any size if None), or DecodeError."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DecodeError(decoder, 0, f"expected bytes, got {type(payload).__name__}")
    data = bytes(payload)
    if size is not None and len(data) != size:
        raise DecodeError(decoder, len(data), f"expected exactly {size} bytes")
    return data


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class MuseEegPacket:
    """One EEG notification of one electrode: 12 consecutive samples at 256 Hz.

    ``sequence``: device packet counter (uint16, wraps). ``raw``: (12, 1) uint16 counts.
    ``samples``: (12, 1) float64 µV. ``clipped``: (12, 1) bool, True where the count sits on a
    12-bit rail (0 or 4095), i.e. the amplifier saturated.
    """

    sequence: int
    raw: np.ndarray
    samples: np.ndarray
    clipped: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class MusePpgPacket:
    """One PPG notification of one optical channel: 6 samples at 64 Hz.

    ``samples``: (6, 1) float64 raw 24-bit counts (arbitrary units; no physical scale is
    documented). ``raw``: the same counts as (6, 1) uint32.
    """

    sequence: int
    raw: np.ndarray
    samples: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class MuseImuPacket:
    """One accelerometer (g) or gyroscope (deg/s) notification: 3 samples of (x, y, z).

    ``raw``: (3, 3) int16 counts; ``samples``: (3, 3) float64 in ``unit``; rows are samples (oldest
    first), columns x, y, z.
    """

    sequence: int
    raw: np.ndarray
    samples: np.ndarray
    unit: str


@dataclass(frozen=True, slots=True)
class MuseTelemetry:
    """Telemetry notification: battery (%), fuel-gauge voltage (mV), an undocumented ADC word, and
    the temperature word (units not documented by muse-lsl or muse-js)."""

    sequence: int
    battery_percent: float
    fuel_gauge_mv: float
    adc_raw: int
    temperature: int


@dataclass(frozen=True, slots=True)
class MuseControlFragment:
    """One notification of the control characteristic: ``text`` (ASCII) of ``length`` characters.

    Fragments concatenate into JSON objects; see :func:`join_muse_control`.
    """

    length: int
    text: str


def unpack_uint12(packed: np.ndarray) -> np.ndarray:
    """Unpack big-endian 12-bit values: (..., 3k) uint8 → (..., 2k) uint16, without a Python loop.

    Bytes ``b0 b1 b2`` hold ``b0·16 + b1>>4`` and ``(b1 & 0xF)·256 + b2``. Works on one packet or on
    a stack of packets (e.g. a replayed recording as a (n_packets, 18) array).
    """
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim == 0 or packed.shape[-1] % 3:
        raise InputError("packed", packed.shape, "a last axis that is a multiple of 3 bytes")
    b = packed.astype(np.uint16)
    out = np.empty((*packed.shape[:-1], packed.shape[-1] // 3 * 2), dtype=np.uint16)
    out[..., 0::2] = (b[..., 0::3] << 4) | (b[..., 1::3] >> 4)
    out[..., 1::2] = ((b[..., 1::3] & 0x0F) << 8) | b[..., 2::3]
    return out


def decode_muse_eeg(payload: bytes) -> MuseEegPacket:
    """Decode one 20-byte EEG notification (uint16 counter + 12 × 12-bit samples) to µV."""
    data = _payload("muse_eeg", payload)
    raw = unpack_uint12(np.frombuffer(data, dtype=np.uint8, offset=2)).reshape(12, 1)
    samples = (raw.astype(np.float64) - EEG_OFFSET) * EEG_SCALE_UV
    clipped = (raw == _RAIL_LOW) | (raw == _RAIL_HIGH)
    sequence = int.from_bytes(data[:2], "big")
    return MuseEegPacket(sequence, _readonly(raw), _readonly(samples), _readonly(clipped))


def decode_muse_ppg(payload: bytes) -> MusePpgPacket:
    """Decode one 20-byte PPG notification (uint16 counter + 6 × 24-bit unsigned counts)."""
    data = _payload("muse_ppg", payload)
    triplets = np.frombuffer(data, dtype=np.uint8, offset=2).reshape(6, 3).astype(np.uint32)
    raw = ((triplets[:, 0] << 16) | (triplets[:, 1] << 8) | triplets[:, 2]).reshape(6, 1)
    samples = raw.astype(np.float64)
    return MusePpgPacket(int.from_bytes(data[:2], "big"), _readonly(raw), _readonly(samples))


def _decode_imu(decoder: str, payload: bytes, scale: float, unit: str) -> MuseImuPacket:
    data = _payload(decoder, payload)
    raw = np.frombuffer(data, dtype=">i2", offset=2).astype(np.int16).reshape(3, 3)
    samples = raw.astype(np.float64) * scale
    return MuseImuPacket(int.from_bytes(data[:2], "big"), _readonly(raw), _readonly(samples), unit)


def decode_muse_accelerometer(payload: bytes) -> MuseImuPacket:
    """Decode one 20-byte accelerometer notification to g (3 samples × x, y, z)."""
    return _decode_imu("muse_accelerometer", payload, ACC_SCALE_G, "g")


def decode_muse_gyroscope(payload: bytes) -> MuseImuPacket:
    """Decode one 20-byte gyroscope notification to deg/s (3 samples × x, y, z)."""
    return _decode_imu("muse_gyroscope", payload, GYRO_SCALE_DPS, "deg/s")


def decode_muse_telemetry(payload: bytes) -> MuseTelemetry:
    """Decode one 20-byte telemetry notification (battery %, fuel gauge mV, temperature word)."""
    data = _payload("muse_telemetry", payload)
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 10, 2)]
    return MuseTelemetry(
        sequence=words[0],
        battery_percent=words[1] / 512.0,
        fuel_gauge_mv=words[2] * 2.2,
        adc_raw=words[3],
        temperature=words[4],
    )


def decode_muse_control(payload: bytes) -> MuseControlFragment:
    """Decode one control-characteristic notification: a length byte, then that many ASCII bytes."""
    data = _payload("muse_control", payload, size=None)
    if not data:
        raise DecodeError("muse_control", 0, "empty notification")
    length = data[0]
    if length > len(data) - 1:
        raise DecodeError("muse_control", len(data), f"length byte {length} exceeds the payload")
    try:
        text = data[1 : 1 + length].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError("muse_control", len(data), "text is not ASCII") from exc
    return MuseControlFragment(length, text)


def join_muse_control(pending: str, fragment: str) -> tuple[list[dict], str]:
    """Append a control ``fragment`` to ``pending`` text; return complete JSON objects and the rest.

    An object ends at each ``}`` (muse-js ``parseControl``; the Muse sends flat objects). Raises
    :class:`DecodeError` if a completed object is not valid JSON.
    """
    text = pending + fragment
    messages: list[dict] = []
    while (end := text.find("}")) >= 0:
        chunk, text = text[: end + 1], text[end + 1 :]
        try:
            message = json.loads(chunk)
        except json.JSONDecodeError as exc:
            raise DecodeError("muse_control", len(chunk), f"not a JSON object: {exc.msg}") from exc
        if not isinstance(message, dict):
            raise DecodeError("muse_control", len(chunk), "not a JSON object")
        messages.append(message)
    return messages, text


def muse_command(command: str) -> bytes:
    """Bytes to write to the control characteristic for ``command`` (e.g. ``"d"``, ``"p21"``).

    Layout: ``[len(command) + 1] + ASCII(command) + b"\\n"`` (muse-lsl ``_write_cmd_str``, muse-js
    ``encodeCommand``).
    """
    if not command or not command.isascii() or not command.isprintable() or len(command) > 18:
        raise InputError("command", command, "1 to 18 printable ASCII characters")
    return bytes([len(command) + 1]) + command.encode("ascii") + b"\n"
