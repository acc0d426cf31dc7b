"""What every command shares: the ``--db`` and ``--json`` options, JSON output, error exit."""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

__all__ = ["DbOption", "JsonOption", "dump_json", "fail"]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database file or URL (default: $ADDICTION_INDEX_DB, else the user data folder).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump_json(data: Any) -> None:
    """One JSON document on stdout (NaN and infinities as null, other objects as text)."""
    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False, default=str)
    sys.stdout.write(text + "\n")


def fail(error: object, code: int = 2) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with ``code``.

    In the language of ``$ADDICTION_INDEX_LANG`` (en or zh-CN): the prefix always, the message
    when the catalogue has it (most error classes still build English text).
    """
    from addiction_index.i18n import env_lang, translator

    _ = translator(env_lang()).gettext
    prefix = _("error:")
    text = str(error)
    text = _(text) if text else text
    Console(stderr=True).print(f"[bold red]{prefix}[/] {text}", highlight=False)
    raise typer.Exit(code=code)
