"""A simulated heart-rate strap on a resident doing a prescribed exercise session.

:class:`SimulatedExerciseStrap` is a :class:`~addiction_index.devices.Source` like
:class:`~addiction_index.devices.SimulatedStrap` (same Heart Rate Service streams and once-a-second
notifications, read from the ``hrm`` device profile), but its heart rate follows a workload plan
(:class:`ExercisePlan`): a warm-up ramp from the resting rate to the middle of the zone, the main
part at that target, and a cool-down ramp back towards rest. The heart rate approaches the
workload's target with first-order kinetics, time constant ``tau_s`` = 40 s (convention: the
30-60 s of a first-order fit of the heart-rate response to a step in moderate work; a model, not a
measured value), plus AR(1) noise (``noise_bpm`` = 1.5 bpm SD, convention) and 1 % beat-to-beat
RR jitter (convention).

Scripted deviations (:class:`Deviation`, or text for :func:`parse_script`) make the heart rate do
what a test or a demonstration needs, in session seconds:

* ``drift_low``: the target drops to 12 bpm under the zone (the resident slows down);
* ``drift_high``: the target rises to 8 bpm over the zone (kept 3 bpm under the ceiling);
* ``spike_above_ceiling``: the target jumps to 12 bpm over the ceiling, with a third of the time
  constant (a sprint);
* ``sensor_off``: the strap loses skin contact: notifications go on, with no heart rate (NaN) and no
  RR intervals, as a real strap reports it.

Everything is deterministic in ``seed`` and independent of the clock's speed.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from addiction_index.devices._profiles import DeviceProfile, load_profile
from addiction_index.devices._source import SourceState
from addiction_index.errors import InputError
from addiction_index.signals.clock import SimulatedClock
from addiction_index.signals.streams import Chunk

__all__ = [
    "DEVIATION_KINDS",
    "Deviation",
    "ExercisePlan",
    "SimulatedExerciseStrap",
    "deviations_summary",
    "parse_script",
]

DEVIATION_KINDS = ("drift_low", "drift_high", "spike_above_ceiling", "sensor_off")
_DRIFT_LOW_BPM = 12.0
_DRIFT_HIGH_BPM = 8.0
_UNDER_CEILING_BPM = 3.0
_SPIKE_BPM = 12.0
_AR_PHI = 0.9  # AR(1) coefficient of the heart-rate noise, per 1 s step (convention)
_RR_JITTER = 0.01
_COOL_DOWN_END_FRACTION = 0.25  # cool-down ends 25 % of the reserve above rest (convention)
_SCRIPT_ITEM = re.compile(r"^\s*([0-9.]+)\s*-\s*([0-9.]+)\s*:\s*([a-z_]+)\s*$")


@dataclass(frozen=True)
class Deviation:
    """A scripted deviation ``kind`` from ``start_s`` to ``end_s`` session seconds."""

    start_s: float
    end_s: float
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in DEVIATION_KINDS:
            raise InputError("deviation", self.kind, "one of " + ", ".join(DEVIATION_KINDS))
        if not (math.isfinite(self.start_s) and 0 <= self.start_s < self.end_s):
            raise InputError(
                "deviation", (self.start_s, self.end_s), "0 <= start < end (session seconds)"
            )


def parse_script(text: str | None) -> tuple[Deviation, ...]:
    """Deviations from text like ``"300-420:drift_low, 600-660:spike_above_ceiling"``.

    Items are ``START-END:KIND`` in session seconds, separated by commas or semicolons.
    """
    if not text or not text.strip():
        return ()
    out = []
    for item in re.split(r"[,;]", text):
        if not item.strip():
            continue
        match = _SCRIPT_ITEM.match(item)
        if match is None:
            raise InputError(
                "--script", item.strip(), "START-END:KIND, e.g. 300-420:drift_low (seconds)"
            )
        out.append(Deviation(float(match[1]), float(match[2]), match[3]))
    return tuple(sorted(out, key=lambda d: d.start_s))


@dataclass(frozen=True)
class ExercisePlan:
    """The workload of a session: zone and ceiling (bpm), phases (session seconds), rest (bpm).

    ``main_start_s`` ends the warm-up and ``cooldown_start_s`` starts the cool-down (as the zone
    monitor computes them); ``planned_s`` is the whole session.
    """

    zone_bpm: tuple[float, float]
    ceiling_bpm: float
    planned_s: float
    main_start_s: float
    cooldown_start_s: float
    resting_hr: float = 72.0

    def __post_init__(self) -> None:
        low, high = self.zone_bpm
        if not 0 < self.resting_hr < low <= high < self.ceiling_bpm:
            raise InputError("plan", self, "0 < resting_hr < zone low <= zone high < ceiling (bpm)")
        if not 0 <= self.main_start_s <= self.cooldown_start_s <= self.planned_s:
            raise InputError(
                "plan", self, "0 <= main_start_s <= cooldown_start_s <= planned_s (seconds)"
            )

    @property
    def target_bpm(self) -> float:
        """The main part's heart rate: the middle of the zone."""
        return 0.5 * (self.zone_bpm[0] + self.zone_bpm[1])

    def workload_target(self, t: float) -> float:
        """Steady-state heart rate (bpm) of the planned workload at ``t`` session seconds."""
        rest, target = self.resting_hr, self.target_bpm
        if t < self.main_start_s:
            return rest + (target - rest) * t / self.main_start_s
        if t < self.cooldown_start_s:
            return target
        span = max(self.planned_s - self.cooldown_start_s, 1e-9)
        end = rest + _COOL_DOWN_END_FRACTION * (target - rest)
        return target + (end - target) * min(1.0, (t - self.cooldown_start_s) / span)


class SimulatedExerciseStrap:
    """Heart Rate Service notifications (HR and RR) of a resident following a workload plan.

    See the module docstring. ``profile`` defaults to the ``hrm`` profile; ``script`` holds the
    deviations. ``hr_trace`` keeps ``(t, reported bpm)`` of every notification for tests.
    """

    def __init__(
        self,
        plan: ExercisePlan,
        clock: SimulatedClock,
        *,
        seed: int = 0,
        script: Iterable[Deviation] = (),
        profile: DeviceProfile | None = None,
        tau_s: float = 40.0,
        noise_bpm: float = 1.5,
    ) -> None:
        if not (math.isfinite(tau_s) and tau_s > 0):
            raise InputError("tau_s", tau_s, "a time constant > 0 s")
        if not (math.isfinite(noise_bpm) and noise_bpm >= 0):
            raise InputError("noise_bpm", noise_bpm, "a standard deviation >= 0 bpm")
        profile = profile or load_profile("hrm")
        hr, rr = profile.stream("hr"), profile.stream("rr")
        self.name = "sim-exercise"
        self.profile = profile
        self.streams = (hr.stream_info(self.name), rr.stream_info(self.name))
        self.state = SourceState.IDLE
        self.plan, self.seed = plan, seed
        self.script: tuple[Deviation, ...] = tuple(sorted(script, key=lambda d: d.start_s))
        self.tau_s, self.noise_bpm = float(tau_s), float(noise_bpm)
        self.hr_trace: list[tuple[float, float]] = []
        self._clock = clock
        self._interval = hr.packet_interval_s

    def deviation_at(self, t: float) -> str | None:
        """The scripted deviation in force at ``t`` session seconds, if any."""
        for d in self.script:
            if d.start_s <= t < d.end_s:
                return d.kind
        return None

    def _target(self, t: float, deviation: str | None) -> tuple[float, float]:
        """(target bpm, time constant s) at ``t``."""
        low, high = self.plan.zone_bpm
        ceiling = self.plan.ceiling_bpm
        if deviation == "drift_low":
            return low - _DRIFT_LOW_BPM, self.tau_s
        if deviation == "drift_high":
            return min(high + _DRIFT_HIGH_BPM, ceiling - _UNDER_CEILING_BPM), self.tau_s
        if deviation == "spike_above_ceiling":
            return ceiling + _SPIKE_BPM, self.tau_s / 3.0
        return self.plan.workload_target(t), self.tau_s

    async def chunks(self) -> AsyncIterator[Chunk]:
        clock = self._clock
        clock.join()
        self.state = SourceState.STREAMING
        origin = clock.now()
        hr_info, rr_info = self.streams
        rng = np.random.default_rng([self.seed, 8])
        dt = self._interval
        hr = self.plan.resting_hr  # the heart's rate, bpm (kinetics state)
        noise = 0.0
        next_beat = 0.0  # session seconds of the last completed beat
        k = 0
        try:
            while True:
                k += 1
                t_note = k * dt
                await clock.sleep_until(origin + t_note)
                deviation = self.deviation_at(t_note - dt)
                target, tau = self._target(t_note - dt, deviation)
                hr = target + (hr - target) * math.exp(-dt / tau)
                noise = _AR_PHI * noise + math.sqrt(1 - _AR_PHI**2) * self.noise_bpm * float(
                    rng.standard_normal()
                )
                rate = max(30.0, hr + noise)
                beat_times: list[float] = []
                rrs: list[float] = []
                while True:
                    rr_ms = 60000.0 / rate * (1.0 + _RR_JITTER * float(rng.standard_normal()))
                    if next_beat + rr_ms / 1000.0 > t_note:
                        break
                    next_beat += rr_ms / 1000.0
                    beat_times.append(next_beat)
                    rrs.append(rr_ms)
                contact = self.deviation_at(t_note) != "sensor_off" and deviation != "sensor_off"
                bpm = float(round(60000.0 / rrs[-1])) if (rrs and contact) else math.nan
                self.hr_trace.append((t_note, bpm))
                if rrs and contact:
                    yield Chunk(rr_info, origin + np.array(beat_times), np.array(rrs)[:, None])
                yield Chunk(hr_info, np.array([origin + t_note]), np.array([[bpm]]))
        finally:
            self.state = SourceState.STOPPED
            clock.leave()


def deviations_summary(script: Sequence[Deviation]) -> list[dict[str, float | str]]:
    """The script as plain data (stored with a simulated session)."""
    return [{"start_s": d.start_s, "end_s": d.end_s, "kind": d.kind} for d in script]
