"""Aftercare commands: ``intake``, ``release`` and ``followup add|due|import``.

``intake SUBJECT`` asks the risk factors and then each instrument item by item (rich prompts in
English or Chinese); an invalid answer is refused naming the item and only that item is asked
again. ``--answers FILE.yaml`` enters an intake from a file instead (every invalid answer is
reported and nothing is stored). Nothing personal is logged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.prompt import Prompt
from rich.table import Table

from addiction_index._cli_common import DbOption, JsonOption
from addiction_index._cli_common import dump_json as _dump
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["followup_app", "intake_command", "release_command"]

followup_app = typer.Typer(
    help="Follow-up after release: record contacts, list who is due, import a spreadsheet.",
    no_args_is_help=True,
)
SubjectArg = Annotated[str, typer.Argument(help="Pseudonymous code of the resident.")]
ByOption = Annotated[str | None, typer.Option(help="Who records it (default: the OS user).")]
InstrumentsDirOption = Annotated[
    Path | None, typer.Option(help="Your own instruments folder.", show_default=False)
]


def _date(value: str, argument: str) -> date:
    from addiction_index.aftercare import ACCEPTED_DATE_FORMATS, parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise InputError(
            argument, value, f"a date like {ACCEPTED_DATE_FORMATS[0]} ({exc})"
        ) from None


# -- intake -----------------------------------------------------------------------------------
def _ask_factors(console: Console, definitions: Any, language: str) -> dict[str, Any]:
    from addiction_index.aftercare._risk_factors import parse_factor

    values: dict[str, Any] = {}
    console.print("[bold]Risk factors[/] (Enter to skip one)")
    for name, factor in definitions.factors.items():
        hint = ""
        if factor.choices:
            hint = " / ".join(factor.choices)
        elif factor.type == "boolean":
            hint = "yes / no"
        else:
            hint = f"{factor.min:g}-{factor.max:g} {factor.unit or ''}".strip()
        while True:
            raw = Prompt.ask(f"{factor.text.get(language)} [{hint}]", default="", console=console)
            try:
                value = parse_factor(factor, raw)
            except ValueError as exc:
                console.print(f"[red]{name}: {exc}[/]", highlight=False)
                continue
            if value is not None:
                values[name] = value
            break
    return values


def _ask_instrument(console: Console, instrument: Any, factors: dict, language: str) -> Any:
    from addiction_index.aftercare._scoring import check_form, parse_answer

    console.print(f"\n[bold]{instrument.name.get(language)}[/]")
    console.print(instrument.instructions.get(language), highlight=False)
    answers: dict[str, int] = {}
    for number, item in enumerate(instrument.items, start=1):
        options = sorted(instrument.options(item), key=lambda o: o.value)
        choices = "  ".join(f"{o.value} = {o.text.get(language)}" for o in options)
        console.print(f"{number}. {item.text.get(language)}", highlight=False)
        console.print(f"   [dim]{choices}[/]", highlight=False)
        while True:
            raw = Prompt.ask(f"   {item.id}", console=console)
            try:
                answers[item.id] = parse_answer(instrument, item, raw)
                break
            except ValueError as exc:
                console.print(f"   [red]{item.id}: {exc}[/]", highlight=False)
    return check_form(instrument, answers, factors)


def intake_command(
    subject: SubjectArg,
    answers: Annotated[
        Path | None, typer.Option(help="Enter from a YAML file (risk_factors, instruments).")
    ] = None,
    instrument: Annotated[
        list[str] | None, typer.Option(help="Enter only this instrument (repeatable).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the prompts: en or zh-CN.")] = "en",
    no_factors: Annotated[
        bool, typer.Option("--no-factors", help="Do not ask the risk factors.")
    ] = False,
    by: ByOption = None,
    instruments_dir: InstrumentsDirOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Structured intake: risk factors and instruments, each answer checked."""
    from addiction_index.aftercare import (
        AnswerErrors,
        IntakeRecords,
        check_factors,
        check_form,
        load_instrument,
        load_instruments,
        load_risk_factors,
    )
    from addiction_index.store import open_store

    console = Console(stderr=as_json)
    try:
        if lang not in ("en", "zh-CN"):
            raise InputError("--lang", lang, "en or zh-CN")
        definitions = load_risk_factors(instruments_dir)
        chosen = (
            [load_instrument(i, instruments_dir) for i in instrument]
            if instrument
            else load_instruments(instruments_dir)
        )
        if answers is not None:
            data = _answers_file(answers)
            checked = check_factors(definitions, data.get("risk_factors") or {})
            errors = {f"risk_factors.{k}": v for k, v in checked.errors.items()}
            factors = checked.values
            given = data.get("instruments") or {}
            unknown = sorted(set(given) - {i.id for i in chosen})
            errors |= {f"instruments.{k}": "not an instrument entered here" for k in unknown}
            scores = []
            for inst in chosen:
                if inst.id not in given:
                    continue
                result = check_form(inst, given[inst.id] or {}, factors)
                if isinstance(result, AnswerErrors):
                    errors |= {f"{inst.id}.{k}": v for k, v in result.errors.items()}
                else:
                    scores.append(result)
            if errors:
                _report_errors(answers, errors, as_json)
        else:
            factors = {} if no_factors else _ask_factors(console, definitions, lang)
            scores = [_ask_instrument(console, inst, factors, lang) for inst in chosen]
        with open_store(db) as store:
            stored = IntakeRecords(store).record_intake(
                subject, factors=factors, factors_version=definitions.version,
                scores=scores, language=lang, by=by,
            )  # fmt: skip
    except AddictionIndexError as exc:
        _fail(exc)
        return
    results = [s.to_dict(lang) for s in scores]
    if as_json:
        _dump({"subject": subject, "risk_factors": stored["factors"], "instruments": results})
        return
    table = Table(title=f"Intake of {subject}", title_justify="left")
    for column in ("instrument", "score", "band", "subscales", "alerts"):
        table.add_column(column)
    for r in results:
        subs = ", ".join(f"{k} {v:g}" for k, v in r["subscales"].items())
        table.add_row(r["instrument"], f"{r['score']:g}", r["band_label"], subs,
                      "; ".join(r["alerts"]))  # fmt: skip
    console.print(table)
    console.print(f"risk factors: {stored['factors']}", highlight=False)


def _answers_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError("--answers", str(path), f"a readable YAML file ({exc})") from None
    if not isinstance(data, dict) or not set(data) <= {"risk_factors", "instruments"}:
        raise InputError("--answers", str(path), "a mapping with risk_factors and instruments")
    return data


def _report_errors(path: Path, errors: dict[str, str], as_json: bool) -> None:
    if as_json:
        _dump({"stored": False, "file": str(path), "errors": errors})
        raise typer.Exit(code=2)
    console = Console(stderr=True)
    console.print(f"[bold red]error:[/] {path}: {len(errors)} invalid answer(s), nothing stored")
    for key, why in errors.items():
        console.print(f"  {key}: {why}", highlight=False)
    raise typer.Exit(code=2)


# -- release and follow-up ---------------------------------------------------------------------
def release_command(
    subject: SubjectArg,
    on: Annotated[str, typer.Option("--date", help="Release date, e.g. 2026-12-01.")],
    to: Annotated[str, typer.Option("--to", help="Receiving community station.")],
    consent: Annotated[
        bool, typer.Option("--consent/--no-consent", help="Consent to the hand-over.")
    ] = False,
    consent_date: Annotated[
        str | None, typer.Option(help="Date of the consent (default: the release date).")
    ] = None,
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a release to a community station (and the consent to the hand-over)."""
    from addiction_index.aftercare import FollowupRecords, Release
    from addiction_index.store import open_store

    try:
        released = _date(on, "--date")
        consented = _date(consent_date, "--consent-date") if consent_date else None
        if consent and consented is None:
            consented = released
        release = Release(subject, released, to, consent, consented)
        with open_store(db) as store:
            out = FollowupRecords(store).add_release(release, by=by)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(out)
        return
    consent_text = f"consent {out['consent_date']}" if out["consent"] else "no hand-over consent"
    Console().print(f"release of {subject} on {out['release_date']} to {out['station']} "
                    f"recorded ({consent_text})", highlight=False)  # fmt: skip


@followup_app.command("add")
def add_command(
    subject: SubjectArg,
    on: Annotated[str, typer.Option("--date", help="Date of the contact.")],
    mode: Annotated[str, typer.Option(help="phone, visit, station, message or other.")],
    status: Annotated[str, typer.Option(help="abstinent, relapsed, lost or refused.")],
    test: Annotated[str, typer.Option(help="negative, positive or not_done.")] = "not_done",
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a follow-up contact (it belongs to the latest release before its date)."""
    from addiction_index.aftercare import Contact, FollowupRecords
    from addiction_index.store import open_store

    try:
        contact = Contact(subject, _date(on, "--date"), mode, status, test.replace("-", "_"))
        with open_store(db) as store:
            out = FollowupRecords(store).add_contact(contact, by=by)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(out)
        return
    Console().print(f"contact with {subject} on {out['date']} recorded: {out['mode']}, "
                    f"{out['status']}, test {out['test']}", highlight=False)  # fmt: skip


@followup_app.command("due")
def due_command(
    today: Annotated[str | None, typer.Option(help="Count from this day (default: today).")] = None,
    upcoming: Annotated[bool, typer.Option(help="Also list visits not yet due.")] = False,
    relapse_model: Annotated[
        Path | None,
        typer.Option(
            help="A retrained relapse model (cohort train-risk); default: the "
            "transparent relapse-risk score."
        ),
    ] = None,
    instruments_dir: InstrumentsDirOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who is due or overdue for follow-up, highest relapse risk first."""
    from addiction_index.aftercare import due_list, load_schedule
    from addiction_index.aftercare._resident_risk import ResidentRisk
    from addiction_index.aftercare._risk_training import load_relapse_model
    from addiction_index.store import open_store

    try:
        day = _date(today, "--today") if today else date.today()
        schedule = load_schedule(instruments_dir)
        model = load_relapse_model(relapse_model) if relapse_model else None
        with open_store(db) as store:
            rows = due_list(store, day, risk=ResidentRisk(store, model=model),
                            schedule=schedule, include_upcoming=upcoming)  # fmt: skip
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump({"today": day.isoformat(), "due": rows})
        return
    table = Table(title=f"Follow-up due on {day.isoformat()}", title_justify="left")
    for column in ("subject", "station", "visit", "due", "state", "last contact", "risk",
                   "why"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        state = r["state"]
        if state == "overdue":
            state = f"[red]overdue {r['days_overdue']} d[/]"
        last = f"{r['last_contact']} {r['last_status']}" if r["last_contact"] else "none"
        table.add_row(r["subject"], r["station"], r["visit"], r["visit_due"], state, last,
                      f"{r['risk']:.0f} {r['risk_level']}", "; ".join(r["reasons"]))  # fmt: skip
    Console().print(table)
    if not rows:
        Console().print("nobody is due")


@followup_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV of releases and contacts.")],
    mapping: Annotated[Path, typer.Option(help="Column mapping (YAML).")],
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a centre's spreadsheet: all rows or, when any row is bad, nothing."""
    from addiction_index.aftercare import import_followups, load_mapping
    from addiction_index.store import open_store

    try:
        columns = load_mapping(mapping)
        with open_store(db) as store:
            report = import_followups(store, file, columns, by=by)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(report.to_dict())
        raise typer.Exit(code=0 if report.imported else 1)
    if not report.imported:
        console = Console(stderr=True)
        table = Table(title=f"{file.name}: {len(report.errors)} error(s), nothing imported",
                      title_justify="left")  # fmt: skip
        for column in ("row", "column", "reason"):
            table.add_column(column)
        for e in report.errors:
            table.add_row(str(e.row), e.column, e.reason)
        console.print(table)
        raise typer.Exit(code=1)
    Console().print(
        f"{file.name}: {report.rows} rows; releases {report.releases_added} added, "
        f"{report.releases_existing} already recorded; contacts {report.contacts_added} added, "
        f"{report.contacts_skipped} already recorded",
        highlight=False,
    )
