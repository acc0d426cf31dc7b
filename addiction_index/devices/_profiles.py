"""Device profiles: one TOML per wearable in the ``devices/`` content folder, validated on load."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_toml
from addiction_index.errors import ResourceNotFoundError
from addiction_index.resources import content_dir
from addiction_index.signals.streams import StreamInfo, StreamKind

__all__ = ["DeviceProfile", "StreamProfile", "list_profiles", "load_profile"]


class StreamProfile(BaseModel):
    """One stream a device sends: its channels, units and rate (0 = irregular, event-driven)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: StreamKind
    channels: list[str] = Field(min_length=1)
    units: list[str] = Field(min_length=1)
    rate_hz: float = Field(ge=0.0)
    samples_per_packet: int | None = Field(default=None, ge=1)
    notification_interval_s: float | None = Field(default=None, gt=0.0)
    full_scale_uv: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _one_unit_per_channel(self) -> StreamProfile:
        if len(self.units) != len(self.channels):
            raise ValueError(
                f"units has {len(self.units)} entries but channels has {len(self.channels)}"
            )
        if self.rate_hz > 0 and self.samples_per_packet is None:
            raise ValueError("a regularly sampled stream needs samples_per_packet")
        if self.rate_hz == 0 and self.notification_interval_s is None:
            raise ValueError("an irregular stream needs notification_interval_s")
        return self

    @property
    def packet_interval_s(self) -> float:
        """Seconds between two notifications of this stream."""
        if self.rate_hz > 0 and self.samples_per_packet:
            return self.samples_per_packet / self.rate_hz
        return float(self.notification_interval_s or 1.0)

    def stream_info(self, device: str) -> StreamInfo:
        return StreamInfo(
            name=f"{device}/{self.name}",
            kind=self.kind,
            channels=tuple(self.channels),
            units=tuple(self.units),
            nominal_rate=self.rate_hz,
            device=device,
        )


class DeviceProfile(BaseModel):
    """A wearable: what it is called, what it sends, and where its numbers come from."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    kind: StreamKind
    advertised_names: list[str] = Field(default_factory=list)
    reference: str
    streams: list[StreamProfile] = Field(min_length=1)

    def stream(self, name: str) -> StreamProfile:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"device profile {self.id} has no stream {name!r}")


def load_profile(name: str, folder: str | os.PathLike[str] | None = None) -> DeviceProfile:
    """Load the profile ``name`` (file stem, e.g. ``muse-2``) from the devices folder."""
    path = Path(name)
    if path.suffix != ".toml":
        path = content_dir("devices", folder) / f"{name}.toml"
    if not path.is_file():
        available = ", ".join(list_profiles(folder)) or "none"
        raise ResourceNotFoundError(f"no device profile {name!r} (available: {available})")
    return load_toml(path, DeviceProfile)


def list_profiles(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the profiles in the devices folder."""
    return sorted(p.stem for p in content_dir("devices", folder).glob("*.toml"))
