"""Aftercare analysis commands: ``handover SUBJECT``, ``cohort report`` and ``cohort train-risk``.

``handover`` writes the least-data page for the community station, only with a recorded consent.
``cohort report`` gives abstinence curves, rates (censored beside "lost counts as relapsed"),
group comparisons and the Cox model of risk factors, as HTML, PDF or JSON (aggregates only).
``cohort train-risk`` retrains the relapse-risk model on the centre's own follow-up outcomes,
validated by the concordance index, and writes it with its model card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_common import DbOption, JsonOption
from addiction_index._cli_common import dump_json as _dump
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError

__all__ = ["cohort_app", "handover_command"]

cohort_app = typer.Typer(
    help="The cohort after release: abstinence report, relapse-risk model.", no_args_is_help=True
)
HtmlOption = Annotated[Path | None, typer.Option("--html", help="Write the HTML page here.")]
PdfOption = Annotated[Path | None, typer.Option("--pdf", help="Write a PDF here (Chromium).")]


def _write(html: str, html_out: Path | None, pdf_out: Path | None) -> list[str]:
    from addiction_index.sessions._report import write_pdf

    written = []
    if html_out is not None:
        html_out.write_text(html, encoding="utf-8")
        written.append(str(html_out))
    if pdf_out is not None:
        written.append(str(write_pdf(html, pdf_out)))
    return written


def handover_command(
    subject: Annotated[str, typer.Argument(help="Pseudonymous code of the resident.")],
    html_out: HtmlOption = None,
    pdf_out: PdfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The hand-over to the community station (needs a recorded consent): code, schedule,
    exercise plan and risk level with its reasons; never drug history or index values."""
    from addiction_index.aftercare._handover import handover, render_handover_html
    from addiction_index.store import open_store

    try:
        with open_store(db) as store:
            data = handover(store, subject)
        written = _write(render_handover_html(data), html_out, pdf_out)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(data | {"written": written})
        return
    console = Console()
    console.print(f"hand-over of {data['code']} to {data['station']}: risk {data['risk']['level']}"
                  f"; {len(data['schedule'])} visits to come", highlight=False)  # fmt: skip
    for path in written:
        console.print(f"written: {path}", highlight=False)


@cohort_app.command("report")
def report_command(
    by: Annotated[
        str | None, typer.Option(help="Compare groups of a risk factor (e.g. prior_treatments).")
    ] = None,
    html_out: HtmlOption = None,
    pdf_out: PdfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Abstinence after release: Kaplan-Meier curves, rates at 3-36 months (censored and "lost
    counts as relapsed"), median abstinence, log-rank by group, Cox model of risk factors."""
    from addiction_index.aftercare import outcomes_frame
    from addiction_index.aftercare._cohort_report import cohort_report, render_cohort_html
    from addiction_index.store import open_store

    try:
        with open_store(db) as store:
            frame = outcomes_frame(store)
        report = cohort_report(frame, by=by)
        written = _write(render_cohort_html(report), html_out, pdf_out)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    if as_json:
        _dump(report | {"written": written})
        return
    console = Console()
    c = report["cohort"]
    console.print(f"{c['releases']} releases of {c['people']} people, {c['relapses']} relapses "
                  f"seen; median abstinence: " + _median(report), highlight=False)  # fmt: skip
    table = Table(title="Abstinence after release", title_justify="left")
    for column in ("months", "censored estimate¹", "lost counted as relapsed²"):
        table.add_column(column)
    for r in report["rates"]:
        table.add_row(str(r["months"]), _rate(r["censored"], "survival"),
                      _rate(r["lost_as_relapsed"], "rate"))  # fmt: skip
    console.print(table)
    console.print(f"¹ {report['labels']['censored']}\n² {report['labels']['lost_as_relapsed']}",
                  highlight=False)  # fmt: skip
    for path in written:
        console.print(f"written: {path}", highlight=False)
    console.print(NOT_A_DIAGNOSIS, style="dim")


def _median(report: dict) -> str:
    m = report["median"]
    return f"{m['months']:.1f} months" if m["reached"] else "not reached"


def _rate(block: dict | None, key: str) -> str:
    if not block or block.get(key) is None:
        return "—"
    low, high = block.get("ci_low"), block.get("ci_high")
    ci = (
        f" (95% CI {100 * low:.1f}-{100 * high:.1f})"
        if low is not None and high is not None
        else ""
    )
    return f"{100 * block[key]:.1f} %{ci}"


@cohort_app.command("train-risk")
def train_risk_command(
    name: Annotated[str, typer.Argument(help="Name of the model (file name).")] = "relapse-cox",
    folds: Annotated[int, typer.Option(help="Cross-validation folds, by subject.", min=2)] = 5,
    models_dir: Annotated[
        Path | None, typer.Option(help="Models folder (default: the data folder's models/).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retrain the relapse-risk model (Cox) on this centre's follow-up outcomes; prints the
    cross-validated concordance index and writes the model with its card."""
    from addiction_index.aftercare import outcomes_frame
    from addiction_index.aftercare._resident_risk import with_centre_terms
    from addiction_index.aftercare._risk_training import save_relapse_model, train_relapse_model
    from addiction_index.models._registry import models_root
    from addiction_index.store import open_store

    try:
        with open_store(db) as store:
            frame = with_centre_terms(store, outcomes_frame(store))
        model = train_relapse_model(frame, name=name, folds=folds)
        paths = save_relapse_model(models_root(models_dir) / "relapse" / name, model)
    except AddictionIndexError as exc:
        _fail(exc)
        return
    written = {k: str(v) for k, v in paths.items()}
    out = {"name": name, "c_index": model.cindex, "data": model.data, "written": written,
           "statement": NOT_A_DIAGNOSIS}  # fmt: skip
    if as_json:
        _dump(out)
        return
    Console().print(f"{name}: concordance index {model.cindex['mean']:.3f} "
                    f"(SD {model.cindex['sd']:.3f}, {model.cindex['scheme']}); "
                    f"written {paths['json']} and {paths['card']}", highlight=False)  # fmt: skip
