"""``addiction-index prescribe SUBJECT`` and ``addiction-index plan SUBJECT``: the loop's commands.

``prescribe`` records any intake facts given, then prescribes from the latest assessment, the
intake facts and the programme so far (re-assessment response, progression level), and stores
it. With ``--override KEY=VALUE … --reason TEXT`` it instead overrides the latest prescription,
keeping the original and the reason. ``plan`` shows weeks of prescriptions, sessions done and
indices over time, and draws them (``--out plan.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_common import DbOption, JsonOption
from addiction_index._cli_common import dump_json as _dump
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["plan_command", "prescribe_command"]


def _changes(pairs: list[str]) -> dict[str, Any]:
    """``["exercise.type=Tai Chi", "exercise.minutes=[20, 30]"]`` → nested dict (YAML values)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip() or "." not in key:
            raise InputError("--override", pair, "SECTION.KEY=VALUE, e.g. exercise.type=Tai Chi")
        section, name = key.strip().split(".", 1)
        out.setdefault(section, {})[name] = yaml.safe_load(text)
    return out


def prescribe_command(
    subject: Annotated[str, typer.Argument(help="Pseudonymous code of the resident.")],
    age: Annotated[float | None, typer.Option(help="Age in years (an intake fact).")] = None,
    sex: Annotated[str | None, typer.Option(help="male, female or unknown.")] = None,
    hr_max: Annotated[float | None, typer.Option(help="Measured HRmax (bpm).")] = None,
    contraindication: Annotated[
        list[str] | None,
        typer.Option(help="A contraindication term of the rule set (repeat for several)."),
    ] = None,
    mood: Annotated[str | None, typer.Option(help="low or normal.")] = None,
    energy: Annotated[str | None, typer.Option(help="low or normal.")] = None,
    override: Annotated[
        list[str] | None,
        typer.Option(help="Override the latest prescription: SECTION.KEY=VALUE (repeatable)."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (required with --override).")] = None,
    by: Annotated[str | None, typer.Option(help="Who overrides (default: OS user).")] = None,
    music: Annotated[
        Path | None,
        typer.Option("--music-library", help="Music library CSV (default: the centre's)."),
    ] = None,
    prescriptions_dir: Annotated[
        Path | None, typer.Option(help="Your own rule sets folder.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Prescribe from the latest assessment, intake facts and the programme (or override)."""
    from addiction_index.prescriptions import load_rule_set
    from addiction_index.prescriptions._music import centre_library, load_music_library
    from addiction_index.prescriptions._programme import load_programme_settings
    from addiction_index.prescriptions._programme_loop import prescribe_subject
    from addiction_index.store import open_store
    from addiction_index.store._programme_store import ProgrammeRecords
    from addiction_index.ui.tables import prescription_table

    facts = {
        "age": age, "sex": sex, "hr_max_measured": hr_max, "mood": mood, "energy": energy,
        "contraindications": list(contraindication) if contraindication else None,
    }  # fmt: skip
    try:
        with open_store(db) as store:
            records = ProgrammeRecords(store)
            if override:
                latest = records.prescriptions(subject)
                if not latest:
                    raise InputError("subject", subject, "a resident with a prescription")
                result = records.override(latest[-1]["id"], _changes(override), reason or "", by)
            else:
                given = {k: v for k, v in facts.items() if v is not None}
                rule_set = load_rule_set(folder=prescriptions_dir)
                settings = load_programme_settings(folder=prescriptions_dir)
                library = load_music_library(music) if music else centre_library(prescriptions_dir)
                result = prescribe_subject(
                    store, subject, rule_set, settings, library=library, new_facts=given
                )
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(result | {"statement": NOT_A_DIAGNOSIS})
        return
    console = Console()
    console.print(prescription_table(result))
    loop = result.get("programme")
    if loop:
        status, response = loop["status"], loop["response"]
        console.print(
            f"week {status['weeks_in_programme']:.1f} of the programme, "
            f"{status['sessions_completed']} sessions done; response: "
            f"[bold]{response['decision']}[/] (level {loop['progression_level']:+d}); "
            f"re-assessment: {status['reassessment_reason']}",
            highlight=False,
        )
        for why in response["reasons"]:
            console.print(f"  · {why}", highlight=False)
    if result.get("overridden"):
        console.print(f"overridden by {result['overridden']['by']}: "
                      f"{result['overridden']['reason']}", highlight=False)  # fmt: skip
    console.print(NOT_A_DIAGNOSIS)


def plan_command(
    subject: Annotated[str, typer.Argument(help="Pseudonymous code of the resident.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the plan's plot (PNG).")
    ] = None,
    prescriptions_dir: Annotated[
        Path | None, typer.Option(help="Your own rule sets folder.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Weeks of prescriptions, sessions done and indices over time (a table and a plot)."""
    from addiction_index.prescriptions._plan import build_plan, plot_plan
    from addiction_index.prescriptions._programme import load_programme_settings
    from addiction_index.store import open_store

    try:
        settings = load_programme_settings(folder=prescriptions_dir)
        with open_store(db) as store:
            plan = build_plan(store, subject, settings)
        if out is not None:
            plot_plan(plan, out)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(plan | {"plot": str(out) if out else None, "statement": NOT_A_DIAGNOSIS})
        return
    console = Console()
    table = Table(title=f"Plan of {subject}", title_justify="left")
    for name in ("week", "prescription", "sessions", "in zone", "assessment"):
        table.add_column(name)
    for w in plan["weeks"]:
        table.add_row(
            str(w["week"]),
            w["prescription"] or "—",
            str(w["sessions"]),
            "—" if w["time_in_zone"] is None else f"{w['time_in_zone']:.0%}",
            "; ".join(w["assessments"]) or "",
        )
    console.print(table)
    status = plan["status"]
    console.print(
        f"re-assessment {'DUE' if status['reassessment_due'] else 'not due'}: "
        f"{status['reassessment_reason']}; last response: {plan['response']['decision']}",
        highlight=False,
    )
    if out is not None:
        console.print(f"plot: {out}")
    console.print(NOT_A_DIAGNOSIS)
