"""Sources from the command line's device arguments.

``--eeg`` and ``--hr`` take a device profile id (``muse-2``, ``hrm``, ``polar-h10``), optionally
with a Bluetooth address (``muse-2@00:55:DA:B0:12:34``; without one the first advertising device
that matches the profile is used), or ``lsl:NAME`` for a Lab Streaming Layer stream.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from addiction_index.devices._profiles import load_profile
from addiction_index.devices._source import Source
from addiction_index.errors import DeviceError, InputError

__all__ = ["open_sources", "require_lsl"]


def require_lsl() -> None:
    """Raise a clear error when the optional LSL support (pylsl) is not installed."""
    try:
        import pylsl  # noqa: F401
    except ImportError as exc:
        raise DeviceError(
            "lsl", "pylsl is not installed: pip install 'addiction-index[lsl]'"
        ) from exc


async def open_sources(
    specs: Sequence[tuple[str, str | None]],
    *,
    devices_dir: str | os.PathLike[str] | None = None,
    scan_s: float = 8.0,
) -> list[Source]:
    """One source per ``(argument name, value)`` pair whose value is set."""
    import asyncio

    sources: list[Source] = []
    for argument, value in specs:
        if not value:
            continue
        if value.startswith("lsl:"):
            require_lsl()
            from addiction_index.devices._lsl import LslSource

            name = value[4:]
            if not name:
                raise InputError(argument, value, "lsl:NAME with the name of an LSL stream")
            source = LslSource(name)
            await asyncio.to_thread(source.connect)
            sources.append(source)
            continue
        from addiction_index.devices._ble import BleCollector
        from addiction_index.devices._ble_transport import BleakTransport, scan

        profile_id, _, address = value.partition("@")
        profile = load_profile(profile_id, devices_dir)
        if not address:
            found = [d for d in await scan([profile], scan_s) if d.profile == profile.id]
            if not found:
                raise DeviceError(
                    profile.id,
                    f"no device advertising as {profile.name} "
                    f"within {scan_s:g} s; is it on and charged?",
                )
            address = found[0].address
        sources.append(BleCollector(profile, BleakTransport(address), name=profile.id))
    if not sources:
        raise InputError("--eeg/--hr", None, "at least one device")
    return sources
