"""End-to-end latency: from a device notification to the feature update it completes.

Simulated wearables run at real speed (the discrete-event clock paced 1:1 with wall time, the
same packet cadence as the devices: 12 EEG samples every 46.9 ms, one strap notification a
second). For every hop the runner computes, the latency is the wall time at which its features
and craving score reach the sinks minus the wall time at which the notification that completed
its window was sent. Prints percentiles; ``--json`` for one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from addiction_index.devices import (
    ResidentParams,
    SimulatedHeadband,
    SimulatedResident,
    SimulatedStrap,
    load_profile,
)
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.sessions import SessionRunner
from addiction_index.sessions._protocol import Protocol
from addiction_index.signals import SimulatedClock


class _Latency:
    def __init__(self, clock: SimulatedClock, wall_origin: float) -> None:
        self.clock, self.wall_origin, self.values = clock, wall_origin, []

    def on_marker(self, marker) -> None:
        pass

    def on_hop(self, hop) -> None:
        # At speed 1 the simulated time t is sent at wall time wall_origin + (t - origin).
        sent = self.wall_origin + (hop.t - self.clock.origin)
        self.values.append(time.monotonic() - sent)

    def flush(self) -> None:
        pass


async def _run(seconds: float, wait_for_beats: bool) -> list[float]:
    block = seconds / 3
    protocol = Protocol.model_validate(
        {
            "name": "latency",
            "version": "1",
            "blocks": [
                {"id": "baseline", "role": "baseline", "duration_s": block},
                {"id": "neutral", "role": "neutral", "duration_s": block},
                {"id": "drug", "role": "drug", "duration_s": block},
            ],
        }
    )
    clock = SimulatedClock(speed=1.0)
    resident = SimulatedResident(ResidentParams.draw(1, 50))
    sources = [
        SimulatedHeadband(load_profile("muse-2"), resident, clock),
        SimulatedStrap(load_profile("hrm"), resident, clock),
    ]
    probe = _Latency(clock, clock._wall_origin)
    runner = SessionRunner(
        protocol,
        sources,
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=clock,
        sinks=[probe],
        wait_for_beats=wait_for_beats,
    )
    await runner.run()
    return probe.values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="session length (wall s)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    results = {}
    for label, wait in (
        ("live: EEG clocks the hops", False),
        ("reproducible: hops wait for the strap", True),
    ):
        values = np.array(asyncio.run(_run(args.seconds, wait))) * 1000.0
        results[label] = {
            "hops": int(values.size),
            "seconds": args.seconds,
            **{f"p{q}_ms": float(np.percentile(values, q)) for q in (50, 90, 99)},
            "max_ms": float(values.max()),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title="Notification to feature update, simulated devices in real time")
    for col in ("policy", "hops", "median", "90th pct", "99th pct", "max"):
        table.add_column(col, justify="right")
    for label, r in results.items():
        table.add_row(
            label,
            str(r["hops"]),
            *(f"{r[k]:.1f} ms" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
