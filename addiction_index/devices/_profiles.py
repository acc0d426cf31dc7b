"""Device profiles: one TOML per wearable in the ``devices/`` content folder, validated on load.

A profile says what a wearable is called when it advertises, which GATT services and
characteristics it has (128-bit UUIDs), which streams arrive on which characteristics and which
registered decoder (:data:`addiction_index.devices.decoders.DECODERS`) turns their bytes into
samples, the writes that start and stop streaming, and where the battery level is. Every reference
inside a profile is checked on load (a stream's characteristic must be declared and notify, a
command's characteristic must be writable, a decoder must exist, a stream's ``field`` must be a
field of that decoder's output); errors name the file, the line and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from addiction_index.datafiles import load_toml, toml_key_line
from addiction_index.devices.decoders import DECODERS
from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError
from addiction_index.resources import content_dir
from addiction_index.signals.streams import StreamInfo, StreamKind

__all__ = [
    "BatteryProfile",
    "CharacteristicProfile",
    "CommandWrite",
    "Commands",
    "DeviceProfile",
    "ServiceProfile",
    "StreamProfile",
    "list_profiles",
    "load_profile",
]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX = re.compile(r"^[0-9a-f]{2}( [0-9a-f]{2})*$")


def _uuid(value: str) -> str:
    value = value.strip().lower()
    if not _UUID.match(value):
        raise ValueError("not a 128-bit UUID like 0000180d-0000-1000-8000-00805f9b34fb")
    return value


def _hex(value: str) -> str:
    value = " ".join(value.lower().split())
    if not _HEX.match(value):
        raise ValueError("not hex bytes separated by spaces, like '02 64 0a'")
    return value


def _decoder(value: str) -> str:
    if value not in DECODERS:
        close = difflib.get_close_matches(value, DECODERS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown decoder {value!r}{hint} (registered: {', '.join(DECODERS)})")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _decoder_fields(name: str) -> set[str]:
    """Fields and properties of the dataclass(es) the decoder ``name`` returns."""
    returned = typing.get_type_hints(DECODERS[name]).get("return")
    names: set[str] = set()
    for cls in typing.get_args(returned) or (returned,):
        if dataclasses.is_dataclass(cls):
            names |= {f.name for f in dataclasses.fields(cls)}
            names |= {k for k, v in vars(cls).items() if isinstance(v, property)}
    return names


def _check_field(value: str, info: ValidationInfo) -> str:
    decoder = info.data.get("decoder")
    if decoder is not None and value not in (fields := _decoder_fields(decoder)):
        raise ValueError(f"{decoder} output has no field {value!r} (it has {sorted(fields)})")
    return value


Uuid = Annotated[str, AfterValidator(_uuid)]
HexBytes = Annotated[str, AfterValidator(_hex)]
DecoderName = Annotated[str, AfterValidator(_decoder)]
Property = Literal["read", "write", "write-without-response", "notify", "indicate"]
DeviceOnlyKind = Literal["gyro"]  # streams a device sends that the pipeline has no StreamKind for


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamProfile(_Strict):
    """One stream a device sends: its channels, units and rate (0 = irregular, event-driven).

    ``characteristic``: the UUID(s) it arrives on, one for all channels or one per channel (in
    channel order). ``decoder``: the registered decoder for those notifications; ``field``: which
    output field holds this stream's values. Physical value = ``scale`` × (raw − ``raw_offset``).
    ``requires_preset``: a key of ``commands.presets`` that must be sent for the stream to flow.
    """

    name: str
    kind: StreamKind | DeviceOnlyKind
    channels: list[str] = Field(min_length=1)
    units: list[str] = Field(min_length=1)
    rate_hz: float = Field(ge=0.0)
    samples_per_packet: int | None = Field(default=None, ge=1)
    notification_interval_s: float | None = Field(default=None, gt=0.0)
    full_scale_uv: float | None = Field(default=None, gt=0.0)
    characteristic: Annotated[list[Uuid], BeforeValidator(_as_list)] = Field(default_factory=list)
    decoder: DecoderName | None = None
    field: Annotated[str, AfterValidator(_check_field)] = "samples"
    scale: float | None = None
    raw_offset: float = 0.0
    requires_preset: str | None = None
    description: str = ""

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
        if bool(self.characteristic) != (self.decoder is not None):
            raise ValueError("characteristic and decoder go together (both or neither)")
        if len(self.characteristic) not in (0, 1, len(self.channels)):
            raise ValueError("characteristic needs one UUID, or one per channel")
        return self

    @property
    def packet_interval_s(self) -> float:
        """Seconds between two notifications of this stream."""
        if self.rate_hz > 0 and self.samples_per_packet:
            return self.samples_per_packet / self.rate_hz
        return float(self.notification_interval_s or 1.0)

    def stream_info(self, device: str) -> StreamInfo:
        """The pipeline's description of this stream (only for kinds the pipeline carries)."""
        if not isinstance(self.kind, StreamKind):
            kinds = ", ".join(StreamKind)
            raise InputError("stream", self.name, f"a stream of a pipeline kind ({kinds})")
        return StreamInfo(
            name=f"{device}/{self.name}",
            kind=self.kind,
            channels=tuple(self.channels),
            units=tuple(self.units),
            nominal_rate=self.rate_hz,
            device=device,
        )


class CharacteristicProfile(_Strict):
    """A GATT characteristic: a name for people, its UUID and what it allows."""

    name: str
    uuid: Uuid
    properties: list[Property] = Field(min_length=1)


class ServiceProfile(_Strict):
    """A GATT service and the characteristics of it that this project uses."""

    name: str
    uuid: Uuid
    characteristics: list[CharacteristicProfile] = Field(min_length=1)


class CommandWrite(_Strict):
    """One write: ``hex`` bytes to ``characteristic``, with or without a write response."""

    characteristic: Uuid
    hex: HexBytes
    with_response: bool = False
    description: str = ""

    @property
    def payload(self) -> bytes:
        return bytes.fromhex(self.hex)


class Commands(_Strict):
    """Writes in order to ``start`` and ``stop`` streaming; named alternatives in ``presets``."""

    start: list[CommandWrite] = Field(default_factory=list)
    stop: list[CommandWrite] = Field(default_factory=list)
    presets: dict[str, CommandWrite] = Field(default_factory=dict)


class BatteryProfile(_Strict):
    """Where the battery level is: a characteristic, read or notified, decoded to ``field``."""

    characteristic: Uuid
    access: Literal["read", "notify"]
    decoder: DecoderName
    field: Annotated[str, AfterValidator(_check_field)] = "percent"


class _ReferenceError(ValueError):
    """A reference inside a profile that points nowhere; ``loc`` is the key holding it."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {message}")
        self.loc, self.message = loc, message


class DeviceProfile(_Strict):
    """A wearable: what it is called, what it sends, and where its numbers come from."""

    id: str
    name: str
    kind: StreamKind
    advertised_names: list[str] = Field(default_factory=list)
    reference: str
    services: list[ServiceProfile] = Field(default_factory=list)
    streams: list[StreamProfile] = Field(min_length=1)
    commands: Commands = Field(default_factory=Commands)
    battery: BatteryProfile | None = None

    @field_validator("advertised_names")
    @classmethod
    def _no_empty_prefix(cls, names: list[str]) -> list[str]:
        if any(not name for name in names):
            raise ValueError("an empty prefix would match every device")
        return names

    @model_validator(mode="after")
    def _references_resolve(self) -> DeviceProfile:
        declared: dict[str, CharacteristicProfile] = {}
        for i, service in enumerate(self.services):
            for j, char in enumerate(service.characteristics):
                if char.uuid in declared:
                    loc = ("services", i, "characteristics", j, "uuid")
                    raise _ReferenceError(loc, f"{char.uuid} is declared twice")
                declared[char.uuid] = char
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise _ReferenceError(("streams",), f"stream names repeat: {names}")

        def need(loc: tuple[str | int, ...], uuid: str, allowed: set[str]) -> None:
            if uuid not in declared:
                raise _ReferenceError(loc, f"{uuid} is not declared under services")
            if not allowed & set(declared[uuid].properties):
                raise _ReferenceError(loc, f"{uuid} allows none of {sorted(allowed)}")

        for i, stream in enumerate(self.streams):
            for uuid in stream.characteristic:
                need(("streams", i, "characteristic"), uuid, {"notify", "indicate"})
            if stream.requires_preset and stream.requires_preset not in self.commands.presets:
                loc = ("streams", i, "requires_preset")
                raise _ReferenceError(loc, f"{stream.requires_preset!r} is not in commands.presets")
        writes = {"write", "write-without-response"}
        for group in ("start", "stop"):
            for i, command in enumerate(getattr(self.commands, group)):
                need(("commands", group, i, "characteristic"), command.characteristic, writes)
        for key, command in self.commands.presets.items():
            need(("commands", "presets", key, "characteristic"), command.characteristic, writes)
        if self.battery is not None:
            need(("battery", "characteristic"), self.battery.characteristic, {self.battery.access})
        return self

    def stream(self, name: str) -> StreamProfile:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"device profile {self.id} has no stream {name!r}")

    def characteristic(self, uuid: str) -> CharacteristicProfile:
        """The declared characteristic with this UUID (any case)."""
        for service in self.services:
            for char in service.characteristics:
                if char.uuid == uuid.lower():
                    return char
        raise KeyError(f"device profile {self.id} declares no characteristic {uuid}")

    def matches(self, advertised_name: str) -> bool:
        """True if ``advertised_name`` starts with one of ``advertised_names`` (case-sensitive).

        A profile without names (e.g. the generic heart-rate strap) matches no name; find such
        devices by their advertised service UUID instead.
        """
        return bool(advertised_name) and advertised_name.startswith(tuple(self.advertised_names))


def load_profile(name: str, folder: str | os.PathLike[str] | None = None) -> DeviceProfile:
    """Load the profile ``name`` (file stem, e.g. ``muse-2``) from the devices folder."""
    path = Path(name)
    if path.suffix != ".toml":
        path = content_dir("devices", folder) / f"{name}.toml"
    if not path.is_file():
        available = ", ".join(list_profiles(folder)) or "none"
        raise ResourceNotFoundError(f"no device profile {name!r} (available: {available})")
    try:
        return load_toml(path, DeviceProfile)
    except ConfigError as exc:
        located = _located(exc, path)
        if located is exc:
            raise
        raise located from exc.__cause__


def list_profiles(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the profiles in the devices folder."""
    return sorted(p.stem for p in content_dir("devices", folder).glob("*.toml"))


def _located(exc: ConfigError, path: Path) -> ConfigError:
    """``exc`` with the key of a broken reference and the line of the key in ``path``.

    The generic TOML loader finds a key's line by its last name only; profiles repeat names in
    every ``[[streams]]`` table, so the line is looked up here by the full key (table indices
    included).
    """
    cause, key, message, expected = exc.__cause__, exc.key, exc.message, exc.expected
    if isinstance(cause, ValidationError):
        refs = [e.get("ctx", {}).get("error") for e in cause.errors()]
        refs = [r for r in refs if isinstance(r, _ReferenceError)]
        if refs and key == "(top level)":
            key, message, expected = ".".join(map(str, refs[0].loc)), refs[0].message, None
    if not key or key == "(top level)":
        return exc
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return exc

    def line_of(dotted: str) -> int | None:
        loc = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        return toml_key_line(lines, loc)

    def fix(found: re.Match[str]) -> str:
        return f"line {line_of(found.group(2)) or found.group(1)} key '{found.group(2)}'"

    message = re.sub(r"line (\d+) key '([^']+)'", fix, message)  # the "(and N more: …)" part
    if expected:
        expected = expected.removeprefix("Value error, ")
    return ConfigError(path, message, line=line_of(key) or exc.line, key=key, expected=expected)
