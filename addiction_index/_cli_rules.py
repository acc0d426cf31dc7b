"""``addiction-index rules check FILE``: validate a rule set and run its golden cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["rules_app"]

rules_app = typer.Typer(
    help="Prescription rule sets: check a file and run its golden cases.", no_args_is_help=True
)


@rules_app.callback()
def _rules() -> None:
    """Prescription rule sets (prescriptions/*.yaml)."""


@rules_app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="Rule-set YAML, e.g. prescriptions/default.yaml.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate FILE and run its golden cases. Exit 0: all pass; 1: a case fails; 2: invalid."""
    from addiction_index.prescriptions._golden import check_rule_set

    report = check_rule_set(file)
    if as_json:
        text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(text + "\n")
        raise typer.Exit(code=report.exit_code)
    console = Console()
    if report.error is not None:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]invalid:[/] {report.error}", highlight=False, markup=True
        )
        raise typer.Exit(code=2)
    title = f"{report.rule_set} {report.version}: golden cases ({report.golden_file or 'none'})"
    table = Table(title=title, title_justify="left")
    for column in ("case", "result", "field", "expected", "got"):
        table.add_column(column)
    for case in report.cases:
        if case.passed:
            table.add_row(case.name, "[green]pass[/]", "", "", "")
        for m in case.mismatches:
            table.add_row(case.name, "[red]FAIL[/]", m.field, repr(m.expected), repr(m.got))
    console.print(table)
    failed = sum(not c.passed for c in report.cases)
    if not report.cases:
        console.print("no golden cases (add `golden: FILE` to the rule set)")
    console.print(f"{len(report.cases) - failed} passed, {failed} failed", highlight=False)
    raise typer.Exit(code=report.exit_code)
