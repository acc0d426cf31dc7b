"""Pure decoders from BLE notification bytes to samples, counters and flags.

Each decoder takes the bytes of one notification (or read) and returns a frozen dataclass with the
samples as a float64 (n, channels) array in physical units where the format carries samples. Any
malformed input raises :class:`~addiction_index.errors.DecodeError` and nothing else, so that a
collector can count and log it and go on (DESIGN "Data flow"). Device profiles name decoders by
their key in :data:`DECODERS`; which characteristic feeds which decoder lives in ``devices/*.toml``.
"""

from __future__ import annotations

from collections.abc import Callable

from addiction_index.devices.decoders._heart_rate import (
    RR_TICKS_PER_S,
    BatteryLevel,
    HeartRateMeasurement,
    decode_battery_level,
    decode_heart_rate_measurement,
)
from addiction_index.devices.decoders._muse import (
    ACC_SCALE_G,
    EEG_OFFSET,
    EEG_SCALE_UV,
    GYRO_SCALE_DPS,
    MuseControlFragment,
    MuseEegPacket,
    MuseImuPacket,
    MusePpgPacket,
    MuseTelemetry,
    decode_muse_accelerometer,
    decode_muse_control,
    decode_muse_eeg,
    decode_muse_gyroscope,
    decode_muse_ppg,
    decode_muse_telemetry,
    join_muse_control,
    muse_command,
    unpack_uint12,
)
from addiction_index.devices.decoders._polar_pmd import (
    ECG,
    PmdCommand,
    PmdControlResponse,
    PmdFeatures,
    PmdMeasurementStopped,
    PolarEcgFrame,
    decode_pmd_command,
    decode_pmd_control_point,
    decode_pmd_features,
    decode_polar_ecg,
    parse_pmd_settings,
    pmd_start_ecg_command,
    pmd_stop_command,
)

__all__ = [
    "ACC_SCALE_G",
    "DECODERS",
    "ECG",
    "EEG_OFFSET",
    "EEG_SCALE_UV",
    "GYRO_SCALE_DPS",
    "RR_TICKS_PER_S",
    "BatteryLevel",
    "HeartRateMeasurement",
    "MuseControlFragment",
    "MuseEegPacket",
    "MuseImuPacket",
    "MusePpgPacket",
    "MuseTelemetry",
    "PmdCommand",
    "PmdControlResponse",
    "PmdFeatures",
    "PmdMeasurementStopped",
    "PolarEcgFrame",
    "decode_battery_level",
    "decode_heart_rate_measurement",
    "decode_muse_accelerometer",
    "decode_muse_control",
    "decode_muse_eeg",
    "decode_muse_gyroscope",
    "decode_muse_ppg",
    "decode_muse_telemetry",
    "decode_pmd_command",
    "decode_pmd_control_point",
    "decode_pmd_features",
    "decode_polar_ecg",
    "join_muse_control",
    "muse_command",
    "parse_pmd_settings",
    "pmd_start_ecg_command",
    "pmd_stop_command",
    "unpack_uint12",
]

#: Every decoder by the name device profiles use for it (``decoder = "…"`` in ``devices/*.toml``).
DECODERS: dict[str, Callable[[bytes], object]] = {
    "muse_eeg": decode_muse_eeg,
    "muse_ppg": decode_muse_ppg,
    "muse_accelerometer": decode_muse_accelerometer,
    "muse_gyroscope": decode_muse_gyroscope,
    "muse_telemetry": decode_muse_telemetry,
    "muse_control": decode_muse_control,
    "heart_rate_measurement": decode_heart_rate_measurement,
    "battery_level": decode_battery_level,
    "polar_pmd_ecg": decode_polar_ecg,
    "polar_pmd_control_point": decode_pmd_control_point,
    "polar_pmd_features": decode_pmd_features,
    "polar_pmd_command": decode_pmd_command,
}
