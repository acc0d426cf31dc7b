"""BLE decoders: packets per second each registered decoder handles, on the real test vectors.

For every decoder in ``addiction_index.devices.decoders.DECODERS`` the payloads are its vectors:
from ``../shared/data/ble_packet_vectors`` when present (``$ADDICTION_INDEX_SHARED_DATA`` wins; it
adds the unlicensed real Polar H10 captures), else from the licensed copy in
``tests/data/ble_packet_vectors``. A decoder without a vector (battery level; the PMD control point
when the shared file is absent) is timed on bytes built from its field layout, marked "built".
Each timing is the best of 5 ``timeit`` repeats of a loop over the payloads (autoranged to about
0.2 s a repeat). "needed/s" is what the shipped device profiles ask of the decoder at their
nominal rates (all streams of all profiles that use it), for scale.
Run: ``python benchmarks/bench_decoders.py [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import timeit
from pathlib import Path

import numpy as np

from addiction_index.devices import list_profiles, load_profile
from addiction_index.devices.decoders import DECODERS, pmd_start_ecg_command, pmd_stop_command

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / "tests" / "data" / "ble_packet_vectors" / "ble_packet_vectors.json"


def _shared() -> Path:
    root = os.environ.get("ADDICTION_INDEX_SHARED_DATA")
    base = Path(root) if root else REPO.parent / "shared" / "data"
    return base / "ble_packet_vectors" / "ble_packet_vectors.json"


def _entries() -> tuple[dict[str, dict], bool]:
    """Vector entries by id: the shared file (a superset) when present, else the licensed copy."""
    shared = _shared().is_file()
    groups = json.loads((_shared() if shared else LOCAL).read_text(encoding="utf-8"))
    return {e["id"]: e for v in groups.values() if isinstance(v, list) for e in v}, shared


def payloads() -> dict[str, tuple[list[bytes], str]]:
    """For each decoder: the payloads timed and where they came from."""
    entries, shared = _entries()

    def hexes(*prefixes: str) -> list[bytes]:
        return [bytes.fromhex(e["hex"]) for i, e in entries.items() if i.startswith(prefixes)]

    counter = b"\x12\x34"  # the 18-byte Muse sample blocks come without their counter
    fragments = entries["muse_control_responses"]["fragments"]
    control = [(bytes([len(t)]) + t.encode("ascii")).ljust(20, b"\0") for t in fragments]
    cp = hexes("pmd_cp_")
    built_cp = [b"\xf0\x01\x00\x00\x00\x00\x01\x82\x00\x01\x01\x0e\x00", b"\xf0\x02\x00\x00\x00"]
    real = "real H10 captures" if shared else "built from the layout"
    return {
        "muse_eeg": (
            hexes("muse_eeg_notification") + [counter + p for p in hexes("muse_eeg_samples")],
            "vectors",
        ),
        "muse_ppg": ([counter + p for p in hexes("muse_ppg_samples")], "vector + counter"),
        "muse_accelerometer": (hexes("muse_accelerometer"), "vector"),
        "muse_gyroscope": (hexes("muse_gyroscope"), "vector"),
        "muse_telemetry": (hexes("muse_telemetry"), "vector"),
        "muse_control": (control, "vector fragments, padded to 20 bytes"),
        "heart_rate_measurement": (hexes("hr_"), "vectors (hand-made)"),
        "battery_level": ([b"\x5a", b"\x64", b"\x07"], "built"),
        "polar_pmd_ecg": (
            hexes("pmd_ecg_"),
            "SDK vector" + (" + real H10 captures" if shared else ""),
        ),
        "polar_pmd_control_point": ([p for p in cp if p[0] == 0xF0] or built_cp, real),
        "polar_pmd_features": ([p for p in cp if p[0] == 0x0F] or [b"\x0f\x05\x00"], real),
        "polar_pmd_command": (
            [p for p in cp if p[0] in (2, 3)] or [pmd_start_ecg_command(), pmd_stop_command()],
            real,
        ),
    }


def needed_per_s() -> dict[str, float]:
    """Notifications per second one shipped device sends to each decoder at nominal rates (the
    busiest profile; a characteristic feeding several streams is decoded once)."""
    need: dict[str, float] = {}
    for name in list_profiles():
        per_uuid: dict[str, tuple[str, float]] = {}
        for stream in load_profile(name).streams:
            if stream.decoder is None:
                continue
            if stream.rate_hz:
                rate = stream.rate_hz / float(stream.samples_per_packet or 1)
            else:
                rate = 1.0 / float(stream.notification_interval_s or 1.0)
            for uuid in stream.characteristic:
                per_uuid[uuid] = (stream.decoder, max(rate, per_uuid.get(uuid, ("", 0.0))[1]))
        total: dict[str, float] = {}
        for decoder, rate in per_uuid.values():
            total[decoder] = total.get(decoder, 0.0) + rate
        for decoder, rate in total.items():
            need[decoder] = max(need.get(decoder, 0.0), rate)
    return need


def run() -> dict:
    need = needed_per_s()
    results = []
    for name, (items, origin) in payloads().items():
        decode = DECODERS[name]

        def loop(decode=decode, items=items) -> None:
            for payload in items:
                decode(payload)

        timer = timeit.Timer(loop)
        number, elapsed = timer.autorange()
        number = max(1, int(number * 0.2 / max(elapsed, 1e-9)))
        best = min(timer.repeat(repeat=5, number=number)) / (number * len(items))
        results.append(
            {
                "decoder": name,
                "payloads": len(items),
                "mean_bytes": float(np.mean([len(p) for p in items])),
                "source": origin,
                "us_per_packet": best * 1e6,
                "packets_per_s": 1.0 / best,
                "needed_per_s": need.get(name),
            }
        )
    return {
        "method": "timeit best of 5 repeats, autoranged to ~0.2 s per repeat",
        "decoders": results,
        "shared_captures_used": _shared().is_file(),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
        },
    }


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="BLE decoders: packets per second (best of 5)")
    table.add_column("decoder", no_wrap=True)
    for column in ("payloads", "bytes", "µs/packet", "packets/s", "needed/s"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("payload source")
    for r in result["decoders"]:
        needed = f"{r['needed_per_s']:.1f}" if r["needed_per_s"] else "-"
        table.add_row(
            r["decoder"],
            str(r["payloads"]),
            f"{r['mean_bytes']:.0f}",
            f"{r['us_per_packet']:.2f}",
            f"{r['packets_per_s']:,.0f}",
            needed,
            r["source"],
        )
    console = Console(width=max(Console().width, 120))
    console.print(table)
    if not result["shared_captures_used"]:
        console.print("real H10 captures not found: only licensed and built payloads were timed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    result = run()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
