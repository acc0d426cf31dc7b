"""``addiction-index report SESSION``: the assessment report of a stored session (HTML, PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_common import DbOption, JsonOption, dump_json, fail
from addiction_index.errors import AddictionIndexError
from addiction_index.i18n import normalise, translator

__all__ = ["report_command"]


def report_command(
    session: Annotated[int, typer.Argument(help="Session id (see `addiction-index sessions`).")],
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the self-contained HTML report here.", dir_okay=False),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf", help="Print the report to this PDF (needs Chromium).", dir_okay=False
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: Annotated[
        str,
        typer.Option("--lang", help="Language of the report: en or zh-CN."),
    ] = "en",
) -> None:
    """Write the assessment report of SESSION as HTML and/or PDF (default: session-<id>.html).

    Blocks, signal quality, features against baseline with plots, the index with its
    confidence and explanation, the model and its validation, the prescription and the
    not-a-diagnosis statement. The HTML has no external links; the PDF is printed by headless
    Chromium ($ADDICTION_INDEX_CHROMIUM, else /usr/bin/chromium).
    """
    from addiction_index.sessions._report import assessment_report_html, write_pdf
    from addiction_index.store import open_store

    try:
        lang = normalise(lang)
    except ValueError as exc:
        fail(str(exc))
    _ = translator(lang).gettext
    if html is None and pdf is None:
        html = Path(f"session-{session}.html")
    try:
        store = open_store(db)
        try:
            page = assessment_report_html(store, session, lang=lang)
        finally:
            store.close()
        if html is not None:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(page, encoding="utf-8")
        if pdf is not None:
            write_pdf(page, pdf)
    except AddictionIndexError as exc:
        fail(exc)

    except OSError as exc:
        fail(_("cannot write the report: %(error)s") % {"error": exc})
    if as_json:
        dump_json(
            {
                "session": session,
                "html": None if html is None else str(html),
                "pdf": None if pdf is None else str(pdf),
                "statement": NOT_A_DIAGNOSIS,
            }
        )
        return
    for kind, path in (("HTML", html), ("PDF", pdf)):
        if path is not None:
            message = _("%(kind)s report of session %(session)s: %(path)s")
            typer.echo(message % {"kind": kind, "session": session, "path": path})
    typer.echo(_(NOT_A_DIAGNOSIS))
