"""The live zone monitor of an exercise session: a pure state machine, fed heart rates in time.

:class:`ZoneMonitor` knows nothing about clocks, devices or storage: the session calls
``update(t, hr_bpm)`` with ``t`` in session seconds (0 = the session start) and the latest heart
rate in bpm, or ``None`` when that update brought no heart rate (no skin contact, no beat, a link
gap). It returns the events that the update caused, in time order. The session loop must call it
at least about once a second, also while nothing arrives, so that a lost sensor is noticed.

Time is integrated between updates, not counted in samples: the heart rate reported at ``t``
describes the interval since the previous update (a Heart Rate Service strap reports the rate of
the latest beat about once a second), so ``(t_prev, t]`` is credited to the class of the update at
``t`` (below, in zone, above, or lost). An interval longer than ``max_interval_s`` is credited to
that class for its last ``max_interval_s`` only and to "lost" for the rest: nobody measured it.

Events (:class:`ZoneEventKind`):

* ``in_zone`` (info): the first time the heart rate is in the zone, and whenever it comes back
  into the zone after a ``speed_up`` or ``ease_off`` cue.
* ``speed_up`` / ``ease_off`` (cue): the heart rate has been below / above the zone for
  ``cue_after_s``. Hysteresis: after a cue of one kind, the next one of the same kind needs the
  heart rate back in the zone for ``rearm_after_s`` first (so noise at a zone edge does not make
  the cue flap), or the same out-of-zone spell to last another ``repeat_cue_s`` (a reminder).
  No ``speed_up`` during the warm-up or the cool-down (the heart rate is meant to be below the
  zone then); ``ease_off`` is given in every phase.
* ``over_ceiling`` (warning): the heart rate reached the safety ceiling; ``stop_ceiling`` (alert,
  the session must stop) when it stayed at or above the ceiling for ``ceiling_hold_s``. EVIDENCE
  4.13: a hard stop when the HR is above the prescribed ceiling (e.g. > 85-90 % HRmax) for > N s.
* ``sensor_lost`` (warning) after ``lost_warn_s`` without a heart rate; ``sensor_back`` (info) when
  it returns; ``stop_sensor_lost`` (alert, the session must stop) after ``lost_stop_s``: a
  resident whose heart rate nobody can see must not go on exercising unwatched.
* ``main_part`` / ``cool_down`` (info): the phase changed.

After a stop alert the monitor is frozen: further updates change nothing and return no events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from addiction_index.errors import InputError
from addiction_index.i18n import N_

__all__ = [
    "STOP_KINDS",
    "ZoneEvent",
    "ZoneEventKind",
    "ZoneMonitor",
    "ZoneMonitorSettings",
    "ZoneSummary",
    "safety_ceiling_bpm",
]

PHASES = ("warm_up", "main", "cool_down")
CLASSES = ("below", "in_zone", "above", "lost")


class ZoneEventKind(StrEnum):
    """What happened; the value is stored in the session log."""

    IN_ZONE = "in_zone"
    SPEED_UP = "speed_up"
    EASE_OFF = "ease_off"
    OVER_CEILING = "over_ceiling"
    STOP_CEILING = "stop_ceiling"
    SENSOR_LOST = "sensor_lost"
    SENSOR_BACK = "sensor_back"
    STOP_SENSOR_LOST = "stop_sensor_lost"
    MAIN_PART = "main_part"
    COOL_DOWN = "cool_down"


STOP_KINDS = frozenset({ZoneEventKind.STOP_CEILING, ZoneEventKind.STOP_SENSOR_LOST})

_SEVERITY = {
    ZoneEventKind.IN_ZONE: "info",
    ZoneEventKind.SPEED_UP: "cue",
    ZoneEventKind.EASE_OFF: "cue",
    ZoneEventKind.OVER_CEILING: "warning",
    ZoneEventKind.STOP_CEILING: "alert",
    ZoneEventKind.SENSOR_LOST: "warning",
    ZoneEventKind.SENSOR_BACK: "info",
    ZoneEventKind.STOP_SENSOR_LOST: "alert",
    ZoneEventKind.MAIN_PART: "info",
    ZoneEventKind.COOL_DOWN: "info",
}

_MESSAGES = {
    ZoneEventKind.IN_ZONE: N_("In the zone: keep this pace."),
    ZoneEventKind.SPEED_UP: N_("Below the zone: speed up a little."),
    ZoneEventKind.EASE_OFF: N_("Above the zone: ease off a little."),
    ZoneEventKind.OVER_CEILING: N_("Heart rate at the safety ceiling: slow down now."),
    ZoneEventKind.STOP_CEILING: (
        N_("STOP: heart rate stayed above the safety ceiling. Check the resident.")
    ),
    ZoneEventKind.SENSOR_LOST: N_("No heart rate: check the strap's contact."),
    ZoneEventKind.SENSOR_BACK: N_("Heart rate back."),
    ZoneEventKind.STOP_SENSOR_LOST: (
        N_("STOP: no heart rate for too long. Check the resident and the strap.")
    ),
    ZoneEventKind.MAIN_PART: N_("Warm-up done: main part, hold the zone."),
    ZoneEventKind.COOL_DOWN: N_("Cool-down: slow down gradually."),
}


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """One event at ``t`` session seconds, with the heart rate (bpm) of that update if any."""

    t: float
    kind: ZoneEventKind
    hr_bpm: float | None = None

    @property
    def severity(self) -> str:
        """``info``, ``cue``, ``warning`` or ``alert`` (an alert stops the session)."""
        return _SEVERITY[self.kind]

    @property
    def message(self) -> str:
        """What the coach sees."""
        return _MESSAGES[self.kind]

    @property
    def stops(self) -> bool:
        return self.kind in STOP_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "kind": str(self.kind),
            "hr_bpm": self.hr_bpm,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class ZoneMonitorSettings:
    """Timings of the zone monitor, all in seconds. Sources per field:

    * ``cue_after_s`` = 15: out of the zone this long before a cue (convention: longer than the
      ~30-60 s heart-rate response to a change of pace would be too late, shorter flaps on noise).
    * ``rearm_after_s`` = 10: in the zone this long before the same cue can come again (convention).
    * ``repeat_cue_s`` = 60: a reminder while still out of the zone (convention; 0 = never).
    * ``ceiling_hold_s`` = 3: at or above the ceiling this long before the stop alert (EVIDENCE 4.13
      "for > N s"; N = 3 s is a convention: about three strap notifications, so one artefactual
      beat cannot stop a session, while a real excursion stops it within seconds).
    * ``lost_warn_s`` = 5, ``lost_stop_s`` = 15: without a heart rate this long, warn / stop (the
      brief's "more than a few seconds"; convention).
    * ``warmup_s`` = 300, ``cooldown_s`` = 300: warm-up and cool-down inside the planned minutes
      (convention, after the usual 5-10 min of ACSM's guidelines; not in EVIDENCE). Each is cut to
      at most a quarter of the planned session so a short session still has a main part.
    * ``max_interval_s`` = 2: the longest interval one update may vouch for (convention: two
      notification intervals of a Heart Rate Service strap, EVIDENCE 7.3).
    """

    cue_after_s: float = 15.0
    rearm_after_s: float = 10.0
    repeat_cue_s: float = 60.0
    ceiling_hold_s: float = 3.0
    lost_warn_s: float = 5.0
    lost_stop_s: float = 15.0
    warmup_s: float = 300.0
    cooldown_s: float = 300.0
    max_interval_s: float = 2.0

    def __post_init__(self) -> None:
        for name in (
            "cue_after_s",
            "rearm_after_s",
            "repeat_cue_s",
            "ceiling_hold_s",
            "warmup_s",
            "cooldown_s",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(name, value, "a number of seconds >= 0")
        for name in ("lost_warn_s", "lost_stop_s", "max_interval_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(name, value, "a number of seconds > 0")
        if self.lost_stop_s < self.lost_warn_s:
            raise InputError(
                "lost_stop_s", self.lost_stop_s, f"at least lost_warn_s ({self.lost_warn_s} s)"
            )

    def to_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


def safety_ceiling_bpm(
    zone_bpm: tuple[float, float],
    hr_max: float | None,
    *,
    fraction_hr_max: float = 0.85,
    margin_bpm: float = 5.0,
    margin_without_hr_max_bpm: float = 15.0,
) -> int:
    """The heart rate (bpm) at which the session stops.

    With a maximal heart rate: ``fraction_hr_max`` × HRmax (85 %, the lower, more cautious end of
    EVIDENCE 4.13's "> 85-90 % HRmax"), but never less than the zone's top + ``margin_bpm`` (a
    vigorous zone, 60-84 % HRR in ACSM's table, EVIDENCE 4.11, reaches ~90 % HRmax: the ceiling then
    sits just above it; convention). Without HRmax (a zone typed in): zone top +
    ``margin_without_hr_max_bpm`` (convention). Rounded halves up to whole bpm.
    """
    low, high = zone_bpm
    if not 0 < low <= high:
        raise InputError("zone_bpm", zone_bpm, "0 < low <= high (bpm)")
    if hr_max is None:
        value = high + margin_without_hr_max_bpm
    else:
        if not high < hr_max:
            raise InputError("hr_max", hr_max, f"a maximal heart rate above the zone top ({high})")
        value = max(fraction_hr_max * hr_max, high + margin_bpm)
    return math.floor(value + 0.5)


@dataclass
class ZoneSummary:
    """What the session achieved. Seconds unless named otherwise; fractions 0-1.

    ``in_zone_s``, ``below_s``, ``above_s`` and ``lost_s`` cover the main part (between warm-up
    and cool-down), where the zone applies; ``in_zone_fraction`` is ``in_zone_s`` over their sum.
    ``phases`` gives the same four numbers for every phase. ``completion`` is the elapsed time
    over the planned time (capped at 1). ``hr_mean_bpm`` is time-weighted over measured time.
    """

    elapsed_s: float
    planned_s: float | None
    completion: float | None
    in_zone_s: float
    below_s: float
    above_s: float
    lost_s: float
    in_zone_fraction: float | None
    hr_mean_bpm: float | None
    hr_peak_bpm: float | None
    cues: int
    alerts: list[dict[str, Any]]
    stopped_reason: str | None
    phases: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "elapsed_s": self.elapsed_s,
            "planned_s": self.planned_s,
            "completion": self.completion,
            "in_zone_s": self.in_zone_s,
            "below_s": self.below_s,
            "above_s": self.above_s,
            "lost_s": self.lost_s,
            "in_zone_fraction": self.in_zone_fraction,
            "hr_mean_bpm": self.hr_mean_bpm,
            "hr_peak_bpm": self.hr_peak_bpm,
            "cues": self.cues,
            "alerts": list(self.alerts),
            "stopped_reason": self.stopped_reason,
            "phases": {p: dict(v) for p, v in self.phases.items()},
        }


class ZoneMonitor:
    """Heart rate against a zone and a ceiling; see the module docstring.

    ``zone_bpm`` is (low, high) in bpm, both inclusive; ``ceiling_bpm`` (above ``high``) is where
    the session stops (:func:`safety_ceiling_bpm`). ``planned_s`` is the planned session length;
    without it there is no cool-down and no completion fraction.
    """

    def __init__(
        self,
        zone_bpm: tuple[float, float],
        ceiling_bpm: float,
        *,
        settings: ZoneMonitorSettings | None = None,
        planned_s: float | None = None,
    ) -> None:
        low, high = (float(v) for v in zone_bpm)
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise InputError("zone_bpm", zone_bpm, "(low, high) in bpm with 0 < low <= high")
        if not (math.isfinite(ceiling_bpm) and ceiling_bpm > high):
            raise InputError("ceiling_bpm", ceiling_bpm, f"a heart rate above the zone top {high}")
        if planned_s is not None and not (math.isfinite(planned_s) and planned_s > 0):
            raise InputError("planned_s", planned_s, "a planned duration > 0 s, or None")
        self.settings = settings or ZoneMonitorSettings()
        self.zone_bpm = (low, high)
        self.ceiling_bpm = float(ceiling_bpm)
        self.planned_s = None if planned_s is None else float(planned_s)
        s = self.settings
        quarter = math.inf if planned_s is None else planned_s / 4.0
        self.main_start_s = min(s.warmup_s, quarter)
        self.cooldown_start_s = (
            math.inf if planned_s is None else planned_s - min(s.cooldown_s, quarter)
        )
        self._seconds = {p: dict.fromkeys(CLASSES, 0.0) for p in PHASES}
        self._t: float = 0.0  # time of the last update (session starts at 0)
        self._phase = "warm_up" if self.main_start_s > 0 else "main"
        self._class: str | None = None  # class of the last update
        self._run_start = 0.0  # time of the first update of the current class run
        self._last_valid = 0.0  # time of the last heart rate (or the start)
        self._lost_warned = False
        self._ceiling_since: float | None = None
        self._cued: str | None = None  # "below"/"above" while a cue is outstanding
        self._armed = {"below": True, "above": True}
        self._last_cue_t = {"below": -math.inf, "above": -math.inf}
        self._seen_zone = False
        self._hr_weighted = 0.0
        self._hr_time = 0.0
        self._hr_peak: float | None = None
        self.hr_bpm: float | None = None
        self.cues = 0
        self.alerts: list[ZoneEvent] = []
        self.stopped: ZoneEvent | None = None

    # -- state for a live view ---------------------------------------------------------------
    @property
    def t(self) -> float:
        """Session seconds of the last update."""
        return self._t

    @property
    def phase(self) -> str:
        """``warm_up``, ``main`` or ``cool_down``."""
        return self._phase

    @property
    def zone_class(self) -> str | None:
        """Class of the last update: ``below``, ``in_zone``, ``above``, ``lost`` (None at start)."""
        return self._class

    @property
    def cue(self) -> str | None:
        """The cue in force: ``speed_up``, ``ease_off`` or None."""
        return {"below": "speed_up", "above": "ease_off"}.get(self._cued or "")

    def classify(self, hr_bpm: float | None) -> str:
        """``below``, ``in_zone``, ``above`` or ``lost`` for one heart rate (bpm)."""
        if hr_bpm is None or not math.isfinite(hr_bpm) or hr_bpm <= 0:
            return "lost"
        low, high = self.zone_bpm
        return "below" if hr_bpm < low else "above" if hr_bpm > high else "in_zone"

    # -- the state machine -------------------------------------------------------------------
    def update(self, t: float, hr_bpm: float | None) -> list[ZoneEvent]:
        """Feed the heart rate (bpm, or None) seen at ``t`` session seconds; return its events.

        ``t`` must not go backwards; NaN or a non-positive rate counts as None.
        """
        if not math.isfinite(t):
            raise InputError("t", t, "finite session seconds")
        if t < self._t:
            raise InputError("t", t, f"a time >= the previous update's ({self._t} s)")
        events: list[ZoneEvent] = []
        if self.stopped is not None:
            return events
        cls = self.classify(hr_bpm)
        hr = None if cls == "lost" else float(hr_bpm)  # type: ignore[arg-type]
        self._integrate(self._t, t, cls, hr)
        self._t = t
        self.hr_bpm = hr
        self._phase_events(t, hr, events)
        if cls != self._class:
            self._class, self._run_start = cls, t
        if cls == "lost":
            self._lost(t, events)
        else:
            if self._lost_warned:
                events.append(ZoneEvent(t, ZoneEventKind.SENSOR_BACK, hr))
                self._lost_warned = False
            self._last_valid = t
            self._ceiling(t, hr, events)  # type: ignore[arg-type]
            if self.stopped is None:
                self._zone(t, cls, hr, events)
        return events

    def _integrate(self, t0: float, t1: float, cls: str, hr: float | None) -> None:
        dt = t1 - t0
        if dt <= 0:
            return
        measured_from = max(t0, t1 - self.settings.max_interval_s)
        if measured_from > t0:
            self._credit(t0, measured_from, "lost")
        self._credit(measured_from, t1, cls)
        if hr is not None:
            self._hr_weighted += hr * (t1 - measured_from)
            self._hr_time += t1 - measured_from
            self._hr_peak = hr if self._hr_peak is None else max(self._hr_peak, hr)

    def _credit(self, t0: float, t1: float, cls: str) -> None:
        """Add ``(t0, t1]`` to ``cls``, split at the phase boundaries."""
        for phase, start, end in (
            ("warm_up", -math.inf, self.main_start_s),
            ("main", self.main_start_s, self.cooldown_start_s),
            ("cool_down", self.cooldown_start_s, math.inf),
        ):
            overlap = min(t1, end) - max(t0, start)
            if overlap > 0:
                self._seconds[phase][cls] += overlap

    def _phase_at(self, t: float) -> str:
        if t >= self.cooldown_start_s:
            return "cool_down"
        return "main" if t >= self.main_start_s else "warm_up"

    def _phase_events(self, t: float, hr: float | None, events: list[ZoneEvent]) -> None:
        phase = self._phase_at(t)
        if phase == self._phase:
            return
        if self._phase == "warm_up":
            events.append(ZoneEvent(t, ZoneEventKind.MAIN_PART, hr))
        if phase == "cool_down":
            events.append(ZoneEvent(t, ZoneEventKind.COOL_DOWN, hr))
            if self._cued == "below":  # no speed-up cue stays in force in the cool-down
                self._cued = None
        self._phase = phase

    def _lost(self, t: float, events: list[ZoneEvent]) -> None:
        self._ceiling_since = None
        gone = t - self._last_valid
        if gone >= self.settings.lost_stop_s:
            self._stop(ZoneEvent(t, ZoneEventKind.STOP_SENSOR_LOST, None), events)
        elif gone >= self.settings.lost_warn_s and not self._lost_warned:
            self._lost_warned = True
            event = ZoneEvent(t, ZoneEventKind.SENSOR_LOST, None)
            self.alerts.append(event)
            events.append(event)

    def _ceiling(self, t: float, hr: float, events: list[ZoneEvent]) -> None:
        if hr < self.ceiling_bpm:
            self._ceiling_since = None
            return
        if self._ceiling_since is None:
            self._ceiling_since = t
            event = ZoneEvent(t, ZoneEventKind.OVER_CEILING, hr)
            self.alerts.append(event)
            events.append(event)
        if t - self._ceiling_since >= self.settings.ceiling_hold_s:
            self._stop(ZoneEvent(t, ZoneEventKind.STOP_CEILING, hr), events)

    def _stop(self, event: ZoneEvent, events: list[ZoneEvent]) -> None:
        self.stopped = event
        self.alerts.append(event)
        events.append(event)

    def _zone(self, t: float, cls: str, hr: float | None, events: list[ZoneEvent]) -> None:
        s = self.settings
        if cls == "in_zone":
            if self._cued is not None or not self._seen_zone:
                events.append(ZoneEvent(t, ZoneEventKind.IN_ZONE, hr))
                self._cued = None
            self._seen_zone = True
            if t - self._run_start >= s.rearm_after_s:
                self._armed["below"] = self._armed["above"] = True
            return
        if cls == "below" and self._phase != "main":
            return  # warm-up and cool-down: being below the zone is the plan
        # out of the zone: how long, counting from the main part's start for "below"
        since = self._run_start if cls == "above" else max(self._run_start, self.main_start_s)
        if t - since < s.cue_after_s:
            return
        # armed: the first cue of a spell; else a reminder once repeat_cue_s has passed since
        # the last cue of this kind (also after a short return to the zone that did not re-arm)
        reminder = s.repeat_cue_s > 0 and t - self._last_cue_t[cls] >= s.repeat_cue_s
        if not (self._armed[cls] or reminder):
            return
        kind = ZoneEventKind.SPEED_UP if cls == "below" else ZoneEventKind.EASE_OFF
        events.append(ZoneEvent(t, kind, hr))
        self.cues += 1
        self._armed[cls] = False
        self._cued = cls
        self._last_cue_t[cls] = t

    # -- the result -------------------------------------------------------------------------
    def summary(self) -> ZoneSummary:
        """Time in zone, below, above and lost; completion; alerts (see :class:`ZoneSummary`)."""
        main = self._seconds["main"]
        total = sum(main.values())
        elapsed = self._t
        completion = None
        if self.planned_s is not None:
            completion = min(1.0, elapsed / self.planned_s)
        return ZoneSummary(
            elapsed_s=elapsed,
            planned_s=self.planned_s,
            completion=completion,
            in_zone_s=main["in_zone"],
            below_s=main["below"],
            above_s=main["above"],
            lost_s=main["lost"],
            in_zone_fraction=main["in_zone"] / total if total > 0 else None,
            hr_mean_bpm=self._hr_weighted / self._hr_time if self._hr_time > 0 else None,
            hr_peak_bpm=self._hr_peak,
            cues=self.cues,
            alerts=[e.to_dict() for e in self.alerts],
            stopped_reason=str(self.stopped.kind) if self.stopped is not None else None,
            phases={p: dict(v) for p, v in self._seconds.items()},
        )
