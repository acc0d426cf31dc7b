"""Polar Measurement Data (PMD) service: ECG data frames and control-point messages (Polar H10).

Byte layouts (EVIDENCE 7.4), from polarofficial/polar-ble-sdk @8fb5311, Android sources under
``sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``: ``PmdDataFrame.kt``, ``model/EcgData.kt`` (frame type 0),
``PmdControlPointResponse.kt``, ``PmdSetting.kt``, ``PmdFeature.kt``, ``PmdControlPointCommand.kt``,
``PmdMeasurementType.kt``; and fsmeraldi/bleakheart ``src/bleakheart/_core.py`` @b4b6896
(``PolarMeasurementData``). Multi-byte fields are little-endian.

* Data frame (PMD data characteristic): byte 0 measurement type (low 6 bits; 0 = ECG), bytes 1–8
  uint64 sensor timestamp in ns of the frame's last sample (device epoch, not Unix time), byte 9
  frame type (bit 7 = compressed), then samples. ECG frame type 0: int24 samples in µV.
* Control point write: ``[op code, measurement type, settings…]``; op codes 1 get settings,
  2 start, 3 stop. Settings are (type, count, count × value): type 0 sample rate (uint16, Hz),
  1 resolution (uint16, bits), 2 range (uint16, g for ACC), 3 range in milliunits (uint32),
  4 channels (uint8), 5 factor (IEEE-754 float32).
* Control point response (indication): ``0xF0, op code, measurement type, status, more`` then
  parameters (settings) when status is 0. A message starting ``0x01`` is the device saying that
  online measurements stopped (the types follow).
* Control point read (features): ``0x0F`` then a bitmask of supported measurement types.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from addiction_index.errors import DecodeError, InputError

__all__ = [
    "ECG",
    "PmdCommand",
    "PmdControlResponse",
    "PmdFeatures",
    "PmdMeasurementStopped",
    "PolarEcgFrame",
    "decode_pmd_command",
    "decode_pmd_control_point",
    "decode_pmd_features",
    "decode_polar_ecg",
    "parse_pmd_settings",
    "pmd_start_ecg_command",
    "pmd_stop_command",
]

ECG = 0  # PMD measurement type of ECG
_HEADER = 10
_COMPRESSED = 0x80
_TYPE_MASK = 0x3F
OP_CODES = {1: "get_settings", 2: "start", 3: "stop", 4: "get_sdk_mode_settings",
            5: "get_status", 6: "get_sdk_mode_status", 7: "get_offline_trigger_status",
            8: "set_offline_trigger_mode", 9: "set_offline_trigger_settings"}  # fmt: skip
STATUS = ("SUCCESS", "INVALID_OP_CODE", "INVALID_MEASUREMENT_TYPE", "NOT_SUPPORTED",
          "INVALID_LENGTH", "INVALID_PARAMETER", "ALREADY_IN_STATE", "INVALID_RESOLUTION",
          "INVALID_SAMPLE_RATE", "INVALID_RANGE", "INVALID_MTU", "INVALID_NUMBER_OF_CHANNELS",
          "INVALID_STATE", "DEVICE_IN_CHARGER", "DISK_FULL")  # fmt: skip
# setting type -> (name, value size in bytes)
SETTINGS = {0: ("sample_rate_hz", 2), 1: ("resolution_bits", 2), 2: ("range", 2),
            3: ("range_milliunit", 4), 4: ("channels", 1), 5: ("factor", 4)}  # fmt: skip
_SETTING_TYPE = {name: (code, size) for code, (name, size) in SETTINGS.items()}
_FEATURE_BITS = {"ecg": 0x01, "ppg": 0x02, "acc": 0x04, "ppi": 0x08, "gyro": 0x20, "mag": 0x40}


def _payload(decoder: str, payload: object) -> bytes:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DecodeError(decoder, 0, f"expected bytes, got {type(payload).__name__}")
    return bytes(payload)


@dataclass(frozen=True, slots=True, eq=False)
class PolarEcgFrame:
    """One PMD ECG frame (frame type 0).

    PMD frames carry no packet counter: ``timestamp_ns`` (sensor time of the frame's last sample,
    ns) orders them and reveals gaps. ``raw``: (n,) int32 µV. ``samples``: (n, 1) float64 µV.
    """

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    raw: np.ndarray
    samples: np.ndarray


@dataclass(frozen=True, slots=True)
class PmdControlResponse:
    """A control-point response: ``op_code`` answered, ``status`` (0 = success) and its name,
    ``more_frames`` to follow, raw ``parameters`` and the ``settings`` parsed from them (name →
    values; empty unless the status is 0, no more frames follow and there is more than one
    parameter byte)."""

    op_code: int
    measurement_type: int
    status: int
    status_name: str
    more_frames: bool
    parameters: bytes
    settings: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class PmdMeasurementStopped:
    """Device-initiated control-point message: online measurement of these types stopped."""

    measurement_types: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PmdFeatures:
    """Control-point read: ``measurement_bitmask`` (byte 1) and what it says is supported."""

    measurement_bitmask: int
    ecg_supported: bool
    ppg_supported: bool
    acc_supported: bool
    ppi_supported: bool
    gyro_supported: bool
    mag_supported: bool


@dataclass(frozen=True, slots=True)
class PmdCommand:
    """A control-point write (client → sensor): op code, its name, measurement type, settings."""

    op_code: int
    op_name: str
    measurement_type: int
    settings: Mapping[str, tuple[float, ...]]


def decode_polar_ecg(payload: bytes) -> PolarEcgFrame:
    """Decode a PMD data notification holding ECG frame type 0 (int24 LE samples, µV)."""
    data = _payload("polar_pmd_ecg", payload)
    n = len(data)
    if n < _HEADER + 3:
        raise DecodeError("polar_pmd_ecg", n, f"need a {_HEADER}-byte header and a sample")
    if data[0] & _TYPE_MASK != ECG:
        raise DecodeError("polar_pmd_ecg", n, f"measurement type {data[0] & _TYPE_MASK} is not ECG")
    frame_type = data[9]
    if frame_type & _COMPRESSED:
        raise DecodeError("polar_pmd_ecg", n, f"compressed frame type 0x{frame_type:02x}")
    if frame_type != 0:
        raise DecodeError("polar_pmd_ecg", n, f"unknown ECG frame type {frame_type}")
    if (n - _HEADER) % 3:
        raise DecodeError("polar_pmd_ecg", n, "sample bytes are not a multiple of 3")
    triplets = np.frombuffer(data, dtype=np.uint8, offset=_HEADER).reshape(-1, 3).astype(np.int32)
    raw = triplets[:, 0] | (triplets[:, 1] << 8) | (triplets[:, 2] << 16)
    raw = (raw ^ 0x800000) - 0x800000  # sign-extend 24 → 32 bits
    samples = raw.astype(np.float64).reshape(-1, 1)
    raw.flags.writeable = False
    samples.flags.writeable = False
    timestamp = int.from_bytes(data[1:9], "little")
    return PolarEcgFrame(data[0], timestamp, frame_type, raw, samples)


def parse_pmd_settings(
    data: bytes, start: int = 0, decoder: str = "polar_pmd_settings"
) -> Mapping[str, tuple[float, ...]]:
    """Parse PMD settings ``(type, count, count × value)`` from ``data[start:]``: name → values.

    Use it on the joined ``parameters`` of a multi-frame response. Raises :class:`DecodeError`
    (naming ``decoder``) for an unknown setting type or truncated values.
    """
    settings: dict[str, tuple[float, ...]] = {}
    offset, n = start, len(data)
    while offset < n:
        if offset + 2 > n:
            raise DecodeError(decoder, n, "truncated setting header")
        code, count = data[offset], data[offset + 1]
        if code not in SETTINGS:
            raise DecodeError(decoder, n, f"unknown setting type {code}")
        name, size = SETTINGS[code]
        offset += 2
        if offset + count * size > n:
            raise DecodeError(decoder, n, f"truncated {name} values")
        chunk = data[offset : offset + count * size]
        if name == "factor":
            values = struct.unpack(f"<{count}f", chunk)
        else:
            values = tuple(
                int.from_bytes(chunk[i : i + size], "little") for i in range(0, len(chunk), size)
            )
        settings[name] = settings.get(name, ()) + tuple(values)
        offset += count * size
    return MappingProxyType(settings)


def decode_pmd_control_point(payload: bytes) -> PmdControlResponse | PmdMeasurementStopped:
    """Decode a control-point indication: a response (``0xF0 …``) or a measurement-stopped note."""
    data = _payload("polar_pmd_control_point", payload)
    n = len(data)
    if n >= 1 and data[0] == 0x01:
        return PmdMeasurementStopped(tuple(b & _TYPE_MASK for b in data[1:]))
    if n < 4:
        raise DecodeError("polar_pmd_control_point", n, "a response has at least 4 bytes")
    if data[0] != 0xF0:
        raise DecodeError("polar_pmd_control_point", n, f"unknown message code 0x{data[0]:02x}")
    op_code, status = data[1], data[3]
    if op_code not in OP_CODES:
        raise DecodeError("polar_pmd_control_point", n, f"unknown op code {op_code}")
    if status >= len(STATUS):
        raise DecodeError("polar_pmd_control_point", n, f"unknown status {status}")
    more = status == 0 and n > 4 and data[4] != 0
    parameters = data[5:] if status == 0 else b""
    # PmdSetting.parsePmdSettingsData: one byte or less holds no settings. A response split over
    # several frames is parsed by the caller from the joined parameters.
    settings: Mapping[str, tuple[float, ...]] = MappingProxyType({})
    if len(parameters) > 1 and not more:
        settings = parse_pmd_settings(data, 5, "polar_pmd_control_point")
    return PmdControlResponse(op_code, data[2], status, STATUS[status], more, parameters, settings)


def decode_pmd_features(payload: bytes) -> PmdFeatures:
    """Decode a read of the PMD control point: ``0x0F`` then the supported-measurement bitmask."""
    data = _payload("polar_pmd_features", payload)
    if len(data) < 2:
        raise DecodeError("polar_pmd_features", len(data), "need at least 2 bytes")
    if data[0] != 0x0F:
        raise DecodeError("polar_pmd_features", len(data), f"not a feature read (0x{data[0]:02x})")
    mask = data[1]
    flags = {f"{name}_supported": bool(mask & bit) for name, bit in _FEATURE_BITS.items()}
    return PmdFeatures(measurement_bitmask=mask, **flags)


def decode_pmd_command(payload: bytes) -> PmdCommand:
    """Decode a control-point write (op code, measurement type, settings), e.g. for logging."""
    data = _payload("polar_pmd_command", payload)
    if len(data) < 2:
        raise DecodeError("polar_pmd_command", len(data), "need an op code and a measurement type")
    if data[0] not in OP_CODES:
        raise DecodeError("polar_pmd_command", len(data), f"unknown op code {data[0]}")
    settings = parse_pmd_settings(data, 2, "polar_pmd_command")
    return PmdCommand(data[0], OP_CODES[data[0]], data[1], settings)


def _setting_bytes(name: str, value: int) -> bytes:
    code, size = _SETTING_TYPE[name]
    if not 0 <= value < 1 << (8 * size):
        raise InputError(name, value, f"an integer from 0 to {(1 << (8 * size)) - 1}")
    return bytes([code, 1]) + int(value).to_bytes(size, "little")


def pmd_start_ecg_command(sample_rate_hz: int = 130, resolution_bits: int = 14) -> bytes:
    """Control-point bytes that start ECG streaming (H10: 130 Hz, 14 bits; EVIDENCE 7.4).

    ``pmd_start_ecg_command()`` is ``02 00 00 01 82 00 01 01 0e 00``.
    """
    return (
        bytes([2, ECG])
        + _setting_bytes("sample_rate_hz", sample_rate_hz)
        + _setting_bytes("resolution_bits", resolution_bits)
    )


def pmd_stop_command(measurement_type: int = ECG) -> bytes:
    """Control-point bytes that stop streaming ``measurement_type`` (default ECG): ``03 00``."""
    if not 0 <= measurement_type <= _TYPE_MASK:
        raise InputError("measurement_type", measurement_type, "an integer from 0 to 63")
    return bytes([3, measurement_type])
