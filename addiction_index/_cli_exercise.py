"""``addiction-index exercise SUBJECT --hr DEVICE``: the live zone monitor of an exercise session.

The zone comes from ``--zone``, else the subject's latest stored prescription, else ``--age`` and
``--resting-hr`` (moderate, 40-59 % HRR); the output says which. ``--hr sim`` runs the simulated
strap (``--speed``, ``--seed``, ``--script``); a profile id (``polar-h10``, ``hrm``, optionally
``@ADDRESS``) or ``lsl:NAME`` runs a real device in real time. Ctrl-C stops the session (a manual
stop, still logged and rated); a second Ctrl-C abandons it (stored as interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["ExerciseView", "exercise_command"]

_BAR_WIDTH = 50
_SHOWN_ALERTS = 3
_CUE_STYLE = {
    "speed_up": ("SPEED UP", "bold white on blue"),
    "ease_off": ("EASE OFF", "bold black on yellow"),
    None: ("HOLD THE PACE", "bold white on green"),
}
_CLASS_STYLE = {"in_zone": "bold green", "below": "bold blue", "above": "bold yellow"}


def _parse_zone(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    low, sep, high = text.partition("-")
    try:
        zone = (float(low), float(high))
    except ValueError:
        zone = None
    if not sep or zone is None or not zone[0] <= zone[1]:
        raise InputError("--zone", text, "LOW-HIGH in bpm, e.g. 120-140")
    return zone


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60):d}:{int(seconds % 60):02d}"


class ExerciseView:
    """A rich live panel: heart rate, zone bar, phase, time in zone, the cue, alerts in red.

    ``on_update`` and ``on_event`` are the session's callbacks (called on the loop); the panel
    redraws from a snapshot in rich's own thread.
    """

    def __init__(self, subject: str, target: Any, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.subject, self.target = subject, target
        self._lock = threading.Lock()
        self._state: tuple[float, float | None, str | None, str, str | None] | None = None
        self._monitor: Any = None
        self._alerts: list[Any] = []
        self._live = Live(get_renderable=self.render, console=self.console, refresh_per_second=4)

    def __enter__(self) -> ExerciseView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)  # type: ignore[arg-type]

    def pause(self) -> None:
        """Stop redrawing (while a question is asked on the same terminal)."""
        self._live.stop()

    def on_update(self, t: float, hr: float | None, monitor: Any) -> None:
        with self._lock:
            self._monitor = monitor
            self._state = (t, hr, monitor.zone_class, monitor.phase, monitor.cue)

    def on_event(self, event: Any) -> None:
        if event.severity in ("warning", "alert"):
            with self._lock:
                self._alerts.append(event)

    def render(self) -> Panel:
        with self._lock:
            state, monitor, alerts = self._state, self._monitor, self._alerts[-_SHOWN_ALERTS:]
        title = f"addiction-index · exercise · {self.subject}"
        if state is None or monitor is None:
            return Panel(Text("Waiting for the heart rate…"), title=title)
        t, hr, cls, phase, cue = state
        low, high = self.target.zone_bpm
        ceiling = self.target.ceiling_bpm
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        if hr is None:
            grid.add_row("heart rate", Text("— no signal", style="bold red"))
        else:
            style = "bold red" if hr >= ceiling else _CLASS_STYLE.get(cls or "", "white")
            grid.add_row("heart rate", Text(f"{hr:.0f} bpm", style=style))
        grid.add_row("zone", self._bar(hr, low, high, ceiling))
        planned = self.target.planned_s
        grid.add_row("time", f"{_clock(t)} / {_clock(planned)}   ({phase.replace('_', '-')})")
        s = monitor.summary()
        share = "—" if s.in_zone_fraction is None else f"{100 * s.in_zone_fraction:.0f} %"
        grid.add_row("in zone (main part)", f"{_clock(s.in_zone_s)}  ({share})")
        if phase == "main" or cue is not None:
            word, style = _CUE_STYLE.get(cue, _CUE_STYLE[None])
        else:
            word, style = (
                ("WARM UP GENTLY", "bold white on cyan")
                if phase == "warm_up"
                else ("COOL DOWN", "bold white on cyan")
            )
        cue_panel = Panel(Text(f"  {word}  ", style=style, justify="center"), padding=(1, 4))
        parts: list[Any] = [grid, cue_panel]
        for event in alerts:
            parts.append(Text(f"{_clock(event.t)}  {event.message}", style="bold red"))
        parts.append(Text(NOT_A_DIAGNOSIS, style="dim"))
        return Panel(Group(*parts), title=title)

    @staticmethod
    def _bar(hr: float | None, low: float, high: float, ceiling: float) -> Text:
        lo, hi = low - 30.0, ceiling + 5.0

        def pos(value: float) -> int:
            return max(0, min(_BAR_WIDTH - 1, round((value - lo) / (hi - lo) * (_BAR_WIDTH - 1))))

        bar = Text()
        for i in range(_BAR_WIDTH):
            value = lo + i * (hi - lo) / (_BAR_WIDTH - 1)
            style = "green" if low <= value <= high else "red" if value >= ceiling else "grey50"
            bar.append("█" if low <= value <= high else "─", style=style)
        marker = Text(" " * pos(hr) + "▲" if hr is not None else "", style="bold")
        legend = Text(f"zone {low:.0f}-{high:.0f} bpm, stop at {ceiling:.0f} bpm", style="dim")
        return Text.assemble(bar, "\n", marker, "\n", legend)


class _PromptRater:
    """Asks the coach for the RPE and the post-session craving that were not given as options."""

    def __init__(self, rpe: int | None, craving: float | None, view: ExerciseView | None) -> None:
        self.rpe, self.craving, self.view = rpe, craving, view

    async def rate_after(self, summary: Any) -> tuple[int | None, float | None]:
        if self.view is not None:
            self.view.pause()
        rpe = self.rpe
        if rpe is None:
            rpe = await asyncio.to_thread(
                _ask, "Effort (RPE, Borg 6 = no exertion ... 20 = maximal; empty = skip)", 6, 20
            )
        craving = self.craving
        if craving is None:
            craving = await asyncio.to_thread(
                _ask, "Craving right now (0 = none ... 100 = strongest ever; empty = skip)", 0, 100
            )
        return (None if rpe is None else int(rpe)), craving


def _ask(question: str, low: int, high: int) -> float | None:
    while True:
        text = typer.prompt(question, default="", show_default=False, err=True).strip()
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if low <= value <= high:
            return float(value)
        typer.echo(f"Please give a whole number from {low} to {high}.", err=True)


def _summary_table(data: dict[str, Any]) -> Table:
    s, target = data["summary"], data["target"]
    table = Table(
        title=f"Exercise session {data['exercise_session_id']} · {data['subject']}",
        show_header=False,
    )
    table.add_column("")
    table.add_column("")
    low, high = target["zone_bpm"]
    source, stop = target["zone_source"], target["ceiling_bpm"]
    table.add_row("zone", f"{low}-{high} bpm (from {source}), stop at {stop} bpm")
    table.add_row("status", data["status"] + (
        f" ({data['stopped_reason']})" if data["stopped_reason"] else ""))  # fmt: skip
    done = "—" if s["completion"] is None else f"{100 * s['completion']:.0f} %"
    table.add_row("duration", f"{_clock(s['elapsed_s'])} of {_clock(s['planned_s'] or 0)} ({done})")
    share = "—" if s["in_zone_fraction"] is None else f"{100 * s['in_zone_fraction']:.0f} %"
    table.add_row("in zone (main part)", f"{_clock(s['in_zone_s'])} ({share})")
    table.add_row(
        "below / above / no signal",
        f"{_clock(s['below_s'])} / {_clock(s['above_s'])} / {_clock(s['lost_s'])}",
    )
    mean, peak = s["hr_mean_bpm"], s["hr_peak_bpm"]
    table.add_row(
        "heart rate mean / peak",
        f"{'—' if mean is None else f'{mean:.0f}'} / {'—' if peak is None else f'{peak:.0f}'} bpm",
    )
    table.add_row("cues given", str(s["cues"]))
    for alert in s["alerts"]:
        table.add_row(Text("alert", style="red"), Text(
            f"{_clock(alert['t'])} {alert['message']}", style="red"))  # fmt: skip
    table.add_row("RPE (Borg 6-20)", "—" if data["rpe"] is None else str(data["rpe"]))
    craving = data["post_craving"]
    table.add_row("craving after (0-100)", "—" if craving is None else f"{craving:.0f}")
    table.caption = NOT_A_DIAGNOSIS
    return table


def exercise_command(
    subject: Annotated[str, typer.Argument(help="Pseudonymous code of the resident.")],
    hr: Annotated[
        str,
        typer.Option(
            "--hr",
            help="Heart-rate device: sim, a profile id (polar-h10, hrm), optionally @ADDRESS, "
            "or lsl:NAME.",
        ),
    ],
    speed: Annotated[
        float,
        typer.Option(
            help="sim only: simulated seconds per wall second (default: as fast as possible).",
            show_default=False,
        ),
    ] = math.inf,
    minutes: Annotated[
        float | None,
        typer.Option(min=1, max=240, help="Session length (default: the prescription's, or 30)."),
    ] = None,
    zone: Annotated[
        str | None, typer.Option(help="Heart-rate zone LOW-HIGH in bpm (overrides the stored one).")
    ] = None,
    age: Annotated[
        int | None, typer.Option(min=12, max=100, help="Age in years (zone and ceiling).")
    ] = None,
    resting_hr: Annotated[
        float | None, typer.Option(min=30, max=130, help="Resting heart rate in bpm.")
    ] = None,
    hr_max: Annotated[
        float | None, typer.Option(min=100, max=230, help="Measured maximal heart rate in bpm.")
    ] = None,
    ceiling: Annotated[
        float | None,
        typer.Option(help="Stop when the heart rate stays at or above this (bpm)."),
    ] = None,
    rpe: Annotated[
        int | None, typer.Option(min=6, max=20, help="RPE after the session (Borg 6-20).")
    ] = None,
    craving: Annotated[
        float | None, typer.Option(min=0, max=100, help="Craving after the session (0-100).")
    ] = None,
    script: Annotated[
        str | None,
        typer.Option(
            help='sim only: deviations "START-END:KIND,..." in seconds; KIND is drift_low, '
            "drift_high, spike_above_ceiling or sensor_off."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="sim only: the same seed gives the same session.")] = 1,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database file or URL (default: $ADDICTION_INDEX_DB, else the user data folder).",
            show_default=False,
        ),
    ] = None,
    devices_dir: Annotated[
        Path | None, typer.Option(help="Your own device profiles folder.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead.")
    ] = False,
) -> None:
    """Live zone monitor for a prescribed exercise session: cues, alerts, and the session log."""
    from addiction_index.sessions._exercise import (
        FixedRatings,
        exercise_target,
        run_exercise_session,
        run_simulated_exercise,
    )
    from addiction_index.store import open_store
    from addiction_index.store._exercise_log import ExerciseLog

    simulated = hr == "sim"
    if not speed > 0:
        raise typer.BadParameter(f"--speed {speed} must be above 0", param_hint="--speed")
    if not simulated and (script is not None or not math.isinf(speed)):
        raise typer.BadParameter("--speed and --script need --hr sim", param_hint="--hr")
    err = Console(stderr=True)
    try:
        with open_store(db) as store:
            log = ExerciseLog(store)
            target = exercise_target(
                log,
                subject,
                zone=_parse_zone(zone),
                age=age,
                resting_hr=resting_hr,
                hr_max=hr_max,
                minutes=minutes,
                ceiling=ceiling,
            )
            if not as_json:
                err.print(f"{subject}: {target.describe()}", highlight=False)
            view = None if as_json else ExerciseView(subject, target)
            if as_json or (rpe is not None and craving is not None):
                rater: Any = FixedRatings(rpe, craving)
            else:
                rater = _PromptRater(rpe, craving, view)

            async def go() -> Any:
                stop = asyncio.Event()
                _stop_on_ctrl_c(stop)
                hooks = {
                    "rater": rater,
                    "stop": stop,
                    "on_event": view.on_event if view else None,
                    "on_update": view.on_update if view else None,
                }
                if simulated:
                    return await run_simulated_exercise(
                        subject,
                        target,
                        log,
                        speed=speed,
                        seed=seed,
                        script=script or (),
                        resting_hr=resting_hr,
                        **hooks,
                    )
                from addiction_index.devices._factory import open_sources
                from addiction_index.signals import HostClock

                (source,) = await open_sources([("--hr", hr)], devices_dir=devices_dir)
                return await run_exercise_session(
                    subject, target, source, HostClock(), log, **hooks
                )

            if view is None:
                result = asyncio.run(go())
            else:
                with view:
                    result = asyncio.run(go())
    except AddictionIndexError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        err.print("[yellow]abandoned: the exercise session is stored as interrupted[/]")
        raise typer.Exit(code=130) from None
    data = result.to_dict()
    if as_json:
        data["zone_from"] = target.describe()
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        Console().print(_summary_table(data))


def _stop_on_ctrl_c(stop: asyncio.Event) -> None:
    """The first Ctrl-C stops the session (manual stop); the next one interrupts as usual."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, first)
