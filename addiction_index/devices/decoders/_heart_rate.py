"""Bluetooth SIG standard characteristics of heart-rate straps: Heart Rate Measurement and Battery.

Heart Rate Measurement (0x2A37, Heart Rate Service 0x180D; Bluetooth SIG Heart Rate Service 1.0;
EVIDENCE 7.3; fsmeraldi/bleakheart ``src/bleakheart/_core.py`` ``HeartRate._decode`` @b4b6896).
All multi-byte fields are little-endian:

* byte 0, flags: bit 0 HR format (0 = uint8, 1 = uint16); bits 1–2 sensor contact (bit 2 =
  contact detection supported, bit 1 = contact detected, meaningful only when bit 2 is set);
  bit 3 energy expended present; bit 4 RR intervals present; bits 5–7 reserved;
* heart rate, bpm (uint8 or uint16);
* energy expended, kJ (uint16), if flagged;
* zero or more RR intervals (uint16, units of 1/1024 s, oldest first) filling the rest, if flagged.

RR intervals are kept as raw 1/1024-s ticks (``rr_raw``) and also given unrounded in ms
(``samples``, ``rr_ms``); bleakheart rounds to whole ms, which this decoder does not.

Battery Level (0x2A19, Battery Service 0x180F): one uint8, percent (0–100).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from addiction_index.errors import DecodeError

__all__ = [
    "RR_TICKS_PER_S",
    "BatteryLevel",
    "HeartRateMeasurement",
    "decode_battery_level",
    "decode_heart_rate_measurement",
]

RR_TICKS_PER_S = 1024  # RR interval resolution: 1/1024 s
_HR_UINT16, _CONTACT_DETECTED, _CONTACT_SUPPORTED = 0x01, 0x02, 0x04
_ENERGY, _RR, _RESERVED = 0x08, 0x10, 0xE0
_MS_PER_TICK = 1000.0 / RR_TICKS_PER_S


def _payload(decoder: str, payload: object) -> bytes:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DecodeError(decoder, 0, f"expected bytes, got {type(payload).__name__}")
    return bytes(payload)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    ``flags``: the flags byte. ``hr_bpm``: heart rate, bpm. ``hr_uint16``: True if sent as uint16.
    ``sensor_contact_supported``: the strap reports skin contact. ``sensor_contact_detected``: True
    or False when supported, None when not. ``energy_expended_kj``: kJ since last reset, or None.
    ``rr_raw``: (n,) int64 RR intervals in 1/1024 s, oldest first (n may be 0). ``samples``: (n, 1)
    float64 RR intervals in ms (= rr_raw × 1000 / 1024, unrounded).
    """

    flags: int
    hr_bpm: int
    hr_uint16: bool
    sensor_contact_supported: bool
    sensor_contact_detected: bool | None
    energy_expended_kj: int | None
    rr_raw: np.ndarray
    samples: np.ndarray

    @property
    def rr_ms(self) -> np.ndarray:
        """RR intervals in ms, (n,) float64."""
        return self.samples[:, 0]


@dataclass(frozen=True, slots=True)
class BatteryLevel:
    """Battery Level characteristic: ``percent`` charge, 0–100."""

    percent: int


def decode_heart_rate_measurement(payload: bytes) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement (0x2A37) notification.

    Raises :class:`DecodeError` for an empty payload, reserved flag bits set, a missing heart-rate
    or energy field, an RR block of odd length, or bytes after the heart rate (or energy) when the
    RR flag is clear.
    """
    data = _payload("heart_rate_measurement", payload)
    n = len(data)
    if n == 0:
        raise DecodeError("heart_rate_measurement", 0, "empty notification")
    flags = data[0]
    if flags & _RESERVED:
        raise DecodeError("heart_rate_measurement", n, f"reserved flag bits set (0x{flags:02x})")
    hr_uint16 = bool(flags & _HR_UINT16)
    offset = 3 if hr_uint16 else 2
    if n < offset:
        raise DecodeError("heart_rate_measurement", n, "truncated heart-rate field")
    hr = int.from_bytes(data[1:offset], "little")
    energy = None
    if flags & _ENERGY:
        if n < offset + 2:
            raise DecodeError("heart_rate_measurement", n, "truncated energy-expended field")
        energy = int.from_bytes(data[offset : offset + 2], "little")
        offset += 2
    rest = n - offset
    if not flags & _RR:
        if rest:
            raise DecodeError("heart_rate_measurement", n, f"{rest} unexpected trailing bytes")
        rr_raw = np.empty(0, dtype=np.int64)
    elif rest % 2:
        raise DecodeError("heart_rate_measurement", n, "truncated RR interval (odd byte count)")
    else:
        rr_raw = np.frombuffer(data, dtype="<u2", offset=offset).astype(np.int64)
    supported = bool(flags & _CONTACT_SUPPORTED)
    return HeartRateMeasurement(
        flags=flags,
        hr_bpm=hr,
        hr_uint16=hr_uint16,
        sensor_contact_supported=supported,
        sensor_contact_detected=bool(flags & _CONTACT_DETECTED) if supported else None,
        energy_expended_kj=energy,
        rr_raw=_readonly(rr_raw),
        samples=_readonly((rr_raw * _MS_PER_TICK).reshape(-1, 1)),
    )


def decode_battery_level(payload: bytes) -> BatteryLevel:
    """Decode a Battery Level (0x2A19) read or notification: one uint8 percent, 0–100."""
    data = _payload("battery_level", payload)
    if len(data) != 1:
        raise DecodeError("battery_level", len(data), "expected exactly 1 byte")
    if data[0] > 100:
        raise DecodeError("battery_level", 1, f"{data[0]} % is above 100")
    return BatteryLevel(data[0])
