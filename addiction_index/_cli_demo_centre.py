"""``addiction-index demo-centre``: fill an empty database with a simulated centre for demos.

Residents ``R-0001``... are admitted over the last months and assessed, prescribed for and
exercised through the real pipeline on simulated devices (see
:mod:`addiction_index.sessions._demo_centre`); every row is marked simulated and dated in the
past. A database that already holds residents is refused: demo data must never mix with real
residents.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_common import DbOption, JsonOption, dump_json, fail
from addiction_index.errors import AddictionIndexError

__all__ = ["demo_centre_command"]


def _summary_table(data: dict) -> Table:
    table = Table(title="Simulated centre (demo data)", show_header=False)
    table.add_column("")
    table.add_column("")
    first, last = (data[k][:16].replace("T", " ") if data[k] else "—" for k in ("first", "last"))
    rows = [
        ("database", data["database"]),
        ("residents", f"{data['residents']} ({data['in_residence']} in residence today)"),
        ("assessments", str(data["assessments"])),
        ("prescriptions", str(data["prescriptions"])),
        ("exercise sessions", f"{data['exercise_sessions']} "
         f"({data['exercise_with_alerts']} with a warning or an alert)"),
        ("simulated dates (UTC)", f"{first} to {last} ({data['months']} months)"),
        ("time taken", f"{data['seconds']:.0f} s"),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    table.caption = f"Every session is simulated (seed {data['seed']}). {NOT_A_DIAGNOSIS}"
    return table


def demo_centre_command(
    residents: Annotated[int, typer.Option(min=1, max=999, help="Residents to admit.")] = 40,
    months: Annotated[
        int, typer.Option(min=1, max=24, help="Months of history, ending today.")
    ] = 6,
    seed: Annotated[
        int, typer.Option(min=0, help="The same seed (and day) gives the same centre.")
    ] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill an EMPTY database with a simulated centre: residents, assessments, prescriptions
    and exercise sessions over the last months, for demonstrating the web app (serve).

    Refuses a database that already holds residents: simulated ones must never mix with real.
    The default size takes 10-15 minutes (sequential; one assessment takes a few seconds).
    """
    from addiction_index._progress import counting_bar
    from addiction_index.sessions._demo_centre import demo_window, fill_demo_centre

    try:
        days = len(demo_window(months))
        with counting_bar(not as_json, days, "simulating the centre", unit="days") as advance:
            summary = fill_demo_centre(
                db, residents=residents, months=months, seed=seed, progress=advance
            )
    except AddictionIndexError as exc:
        fail(exc)
    data = summary.to_dict()
    if as_json:
        dump_json(data)
    else:
        Console().print(_summary_table(data))
