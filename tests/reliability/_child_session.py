"""Run in a child process by the reliability tests: one simulated assessment written to a SQLite
file at a finite speed, printing every hop's time (host s on the session clock) and every
marker to stdout as they are computed, so the parent knows what was computed before it kills
the child.

    python -m tests.reliability._child_session DB SPEED
"""

from __future__ import annotations

import asyncio
import sys

from addiction_index.sessions import run_simulated_assessment


class Reporter:
    """A sink that prints ``H <t>`` per hop and ``M <t> <label>`` per marker, line-buffered."""

    def on_marker(self, marker) -> None:
        print(f"M {marker.timestamp!r} {marker.label}", flush=True)

    def on_hop(self, hop) -> None:
        print(f"H {hop.t!r}", flush=True)

    def flush(self) -> None:
        print("F", flush=True)


def main() -> None:
    db, speed = sys.argv[1], float(sys.argv[2])
    print("READY", flush=True)
    asyncio.run(
        run_simulated_assessment(
            subject="R-0001", craving=60.0, seed=4, speed=speed, db=db, sinks=[Reporter()]
        )
    )
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
