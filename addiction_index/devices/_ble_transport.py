"""The Bluetooth LE seam: the only module that imports bleak.

:class:`BleTransport` is what a collector needs from a radio: connect (with a callback for an
unexpected disconnection), subscribe to characteristics, write commands, disconnect. The real
implementation wraps :class:`bleak.BleakClient`; tests substitute a transport that plays captured
bytes. Handlers registered here must only copy the bytes into a queue (STYLE rule 3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from addiction_index.errors import DeviceError

__all__ = ["BleTransport", "BleakTransport", "FoundDevice", "scan"]

NotifyHandler = Callable[[bytes], None]


class BleTransport(Protocol):
    """A connection to one device."""

    async def connect(self, on_disconnect: Callable[[], None]) -> None: ...

    async def start_notify(self, characteristic: str, handler: NotifyHandler) -> None: ...

    async def write(self, characteristic: str, data: bytes) -> None: ...

    async def disconnect(self) -> None: ...


class BleakTransport:
    """:class:`BleTransport` over bleak (Linux BlueZ, macOS CoreBluetooth, Windows WinRT)."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._client: Any = None

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        from bleak import BleakClient
        from bleak.exc import BleakError

        self._client = BleakClient(
            self.address,
            disconnected_callback=lambda _client: on_disconnect(),
            timeout=self.timeout_s,
        )
        try:
            await self._client.connect()
        except (BleakError, TimeoutError, OSError) as exc:
            raise DeviceError(self.address, f"cannot connect: {exc}") from exc

    async def start_notify(self, characteristic: str, handler: NotifyHandler) -> None:
        from bleak.exc import BleakError

        try:
            await self._client.start_notify(characteristic, lambda _c, data: handler(bytes(data)))
        except (BleakError, OSError) as exc:
            raise DeviceError(self.address, f"cannot subscribe to {characteristic}: {exc}") from exc

    async def write(self, characteristic: str, data: bytes) -> None:
        from bleak.exc import BleakError

        try:
            await self._client.write_gatt_char(characteristic, data, response=False)
        except (BleakError, OSError) as exc:
            raise DeviceError(self.address, f"cannot write to {characteristic}: {exc}") from exc

    async def disconnect(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # a device already gone: nothing to release
                await self._client.disconnect()


@dataclass(frozen=True, slots=True)
class FoundDevice:
    """A device seen while scanning; ``profile`` is the matching device profile id, if any."""

    name: str
    address: str
    rssi_dbm: int | None
    profile: str | None
    kind: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


async def scan(profiles: list[Any], timeout_s: float = 5.0) -> list[FoundDevice]:
    """Devices advertising nearby, matched to ``profiles`` by advertised name, strongest first."""
    from bleak import BleakScanner
    from bleak.exc import BleakError

    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True)
    except (BleakError, OSError) as exc:
        raise DeviceError("bluetooth adapter", f"cannot scan: {exc}") from exc
    out = []
    for device, adv in found.values():
        name = adv.local_name or device.name or ""
        match = next((p for p in profiles if p.matches(name)), None)
        out.append(
            FoundDevice(
                name,
                device.address,
                adv.rssi,
                match.id if match else None,
                str(match.kind) if match else None,
            )
        )
    return sorted(out, key=lambda d: (d.profile is None, -(d.rssi_dbm or -999)))
