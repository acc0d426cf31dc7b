"""Devices: the Source seam, device profiles, and the simulated resident and wearables."""

from addiction_index.devices._profiles import (
    DeviceProfile,
    StreamProfile,
    list_profiles,
    load_profile,
)
from addiction_index.devices._resident import ResidentParams, SimulatedResident
from addiction_index.devices._simulated import SimulatedHeadband, SimulatedStrap
from addiction_index.devices._source import Source, SourceState

__all__ = [
    "DeviceProfile",
    "ResidentParams",
    "SimulatedHeadband",
    "SimulatedResident",
    "SimulatedStrap",
    "Source",
    "SourceState",
    "StreamProfile",
    "list_profiles",
    "load_profile",
]
