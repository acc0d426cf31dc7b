"""Craving ratings typed in by the clinician during a real session."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.prompt import IntPrompt

from addiction_index.sessions._protocol import rating_question
from addiction_index.ui.live import LiveView

__all__ = ["ConsoleRater"]


class ConsoleRater:
    """Asks for a 0-100 VAS rating at the protocol's rating points; empty input skips it.

    The live panel pauses while the question is on screen; the prompt runs in a worker thread,
    so the devices keep streaming.
    """

    def __init__(self, console: Console | None = None, view: LiveView | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.view = view

    async def rate(self, moment: str, t: float) -> float | None:
        question = rating_question(moment)
        if self.view is not None:
            self.view.pause()
        try:
            return await asyncio.to_thread(self._ask, question)
        finally:
            if self.view is not None:
                self.view.resume()

    def _ask(self, question: str) -> float | None:
        while True:
            value = IntPrompt.ask(question, console=self.console, default=None, show_default=False)
            if value is None:
                return None
            if 0 <= value <= 100:
                return float(value)
            self.console.print("[red]Please give a number from 0 to 100.[/]")
