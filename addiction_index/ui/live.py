"""The live assessment panel: block and time left, heart rate, EEG alpha and beta, craving score."""

from __future__ import annotations

import math
import threading

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from addiction_index.features.quality import traffic_light
from addiction_index.i18n import env_lang, not_a_diagnosis
from addiction_index.sessions import HopRecord, SessionRunner
from addiction_index.signals.streams import Marker

__all__ = ["LiveView"]


class LiveView:
    """A session sink that keeps the latest values and renders them in a rich ``Live`` panel."""

    def __init__(self, console: Console | None = None, refresh_per_second: float = 8) -> None:
        self.console = console or Console(stderr=True)
        self._runner: SessionRunner | None = None
        self._hop: HopRecord | None = None
        self._ratings: dict[str, float] = {}
        self._lock = threading.Lock()
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=refresh_per_second,
            transient=False,
        )

    def attach(self, runner: SessionRunner) -> None:
        self._runner = runner

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)  # type: ignore[arg-type]

    def pause(self) -> None:
        """Stop redrawing (while a question is asked on the same terminal)."""
        self._live.stop()

    def resume(self) -> None:
        self._live.start()

    # -- sink interface -------------------------------------------------------------------------
    def on_marker(self, marker: Marker) -> None:
        if marker.label == "rating" and marker.value is not None:
            with self._lock:
                self._ratings[str(marker.meta.get("moment"))] = marker.value

    def on_hop(self, hop: HopRecord) -> None:
        with self._lock:
            self._hop = hop

    def flush(self) -> None:
        """Nothing to write: the panel refreshes on its own."""

    # -- rendering ------------------------------------------------------------------------------
    def render(self) -> Panel:
        with self._lock:
            hop, ratings = self._hop, dict(self._ratings)
        runner = self._runner
        if runner is None or not runner.schedule or hop is None:
            return Panel(Text("Connecting simulated devices…"), title="addiction-index")
        total = runner.schedule[-1].end - runner.schedule[0].start
        elapsed = hop.t - runner.schedule[0].start
        block = hop.block
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        if block is not None:
            left = block.end - hop.t
            done = (hop.t - block.start) / (block.end - block.start)
            grid.add_row("block", f"{block.block.id} ({block.block.role})  {left:5.0f} s left")
            grid.add_row("", ProgressBar(total=1.0, completed=done, width=40))
        grid.add_row("session", f"{elapsed:5.0f} / {total:.0f} s")
        colours = {"streaming": "green", "reconnecting": "yellow", "lost": "red"}
        devices = "  ".join(
            f"[{colours.get(str(s.state), 'white')}]{s.name}: {s.state}[/]" for s in runner.sources
        )
        grid.add_row("devices", Text.from_markup(devices))
        f = hop.features
        grid.add_row("heart rate", _fmt(f.get("hr_mean_bpm"), "{:.0f} bpm"))
        grid.add_row("RMSSD", _fmt(f.get("hrv_rmssd_ms"), "{:.0f} ms"))
        grid.add_row("EEG alpha (frontal)", _fmt(_pct(f.get("eeg_rel_alpha_frontal")), "{:.1f} %"))
        grid.add_row("EEG beta (frontal)", _fmt(_pct(f.get("eeg_rel_beta_frontal")), "{:.1f} %"))
        lights = [(ch, traffic_light(f.get(f"eeg_quality_{ch}"))) for ch in runner.spec.channels]
        lights.append(("heart", traffic_light(f.get("heart_quality"))))
        shade = {"green": "green", "amber": "yellow", "red": "red", "grey": "bright_black"}
        quality = "  ".join(f"[{shade[light]}]●[/] {name}" for name, light in lights)
        grid.add_row("signal", Text.from_markup(quality))
        c = hop.craving
        if c.value is None:
            grid.add_row("craving score", "collecting the resting baseline…")
        else:
            grid.add_row("craving score", f"{c.value:5.1f} / 100   (confidence {c.confidence:.2f})")
        for moment, value in ratings.items():
            grid.add_row(f"rating {moment}", f"{value:.0f} / 100")
        title = f"addiction-index · {runner.protocol.name} protocol"
        footer = Text(not_a_diagnosis(env_lang()), style="dim")
        return Panel(Group(grid, footer), title=title)


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _fmt(value: float | None, pattern: str) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return pattern.format(value)
