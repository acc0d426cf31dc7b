"""The simulated clock orders events by simulated time whatever the speed, and paces real time."""

import asyncio
import math
import time

from addiction_index.signals import SimulatedClock


async def _ticker(clock: SimulatedClock, name: str, period: float, n: int, log: list) -> None:
    clock.join()
    try:
        t0 = clock.now()
        for k in range(1, n + 1):
            await clock.sleep_until(t0 + k * period)
            log.append((round(clock.now() - clock.origin, 6), name))
    finally:
        clock.leave()


async def _run(speed: float) -> tuple[list, float]:
    clock = SimulatedClock(speed)
    log: list = []
    clock.join()  # hold the clock until both tickers joined
    tasks = [
        asyncio.create_task(_ticker(clock, "a", 0.3, 5, log)),
        asyncio.create_task(_ticker(clock, "b", 0.5, 3, log)),
    ]
    driver = asyncio.create_task(clock.run())
    await asyncio.sleep(0)
    clock.leave()
    start = time.monotonic()
    await asyncio.gather(*tasks)
    wall = time.monotonic() - start
    clock.close()
    await driver
    return log, wall


def test_events_come_in_simulated_time_order_at_any_speed() -> None:
    fast, _ = asyncio.run(_run(math.inf))
    assert [t for t, _ in fast] == sorted(t for t, _ in fast)
    assert fast[:3] == [(0.3, "a"), (0.5, "b"), (0.6, "a")]
    paced, wall = asyncio.run(_run(10.0))
    assert paced == fast
    assert wall >= 1.5 / 10.0 * 0.9  # 1.5 simulated seconds at 10× takes about 0.15 s
