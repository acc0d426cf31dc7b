"""Devices: the Source seam, device profiles, Bluetooth collectors, replay, LSL and simulation.

``LslSource`` and ``list_lsl_streams`` are imported on first use (they need the optional pylsl).
"""

from typing import Any

from addiction_index.devices._ble import BleCollector, CollectorStats
from addiction_index.devices._ble_transport import BleakTransport, BleTransport, FoundDevice, scan
from addiction_index.devices._profiles import (
    DeviceProfile,
    StreamProfile,
    list_profiles,
    load_profile,
)
from addiction_index.devices._replay import ReplaySource
from addiction_index.devices._replay_formats import Recording, load_recording
from addiction_index.devices._resident import ResidentParams, SimulatedResident
from addiction_index.devices._simulated import SimulatedHeadband, SimulatedStrap
from addiction_index.devices._source import Source, SourceState

__all__ = [
    "BleCollector",
    "BleTransport",
    "BleakTransport",
    "CollectorStats",
    "DeviceProfile",
    "FoundDevice",
    "LslSource",
    "Recording",
    "ReplaySource",
    "ResidentParams",
    "SimulatedHeadband",
    "SimulatedResident",
    "SimulatedStrap",
    "Source",
    "SourceState",
    "StreamProfile",
    "list_lsl_streams",
    "list_profiles",
    "load_profile",
    "load_recording",
    "scan",
]

_LAZY = {"LslSource", "list_lsl_streams"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from addiction_index.devices import _lsl

        return getattr(_lsl, name)
    raise AttributeError(f"module 'addiction_index.devices' has no attribute {name!r}")
