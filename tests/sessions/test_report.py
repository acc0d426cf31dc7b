"""The assessment report of a stored session: self-contained HTML, PDF via Chromium, the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import addiction_index.sessions
from addiction_index import NOT_A_DIAGNOSIS
from addiction_index._cli_report import report_command
from addiction_index.sessions._report import (
    ChromiumNotFoundError,
    assessment_report_html,
    chromium_path,
    write_pdf,
)
from addiction_index.store import SessionNotFoundError, open_store

HAVE_CHROMIUM = Path(chromium_path()).is_file()
needs_chromium = pytest.mark.skipif(
    not HAVE_CHROMIUM, reason=f"Chromium not installed at {chromium_path()} (needed for the PDF)"
)


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """One real simulated assessment (about 6 s): the database path and the session id."""
    db = str(tmp_path_factory.mktemp("report") / "c.sqlite")
    result = asyncio.run(
        addiction_index.sessions.run_simulated_assessment(
            subject="R-0300", craving=70.0, seed=2, db=db
        )
    )
    return db, result.session_id


@pytest.fixture(scope="module")
def page(assessment: tuple[str, int]) -> str:
    db, session_id = assessment
    store = open_store(db)
    try:
        return assessment_report_html(store, session_id)
    finally:
        store.close()


def test_html_is_self_contained_and_complete(assessment: tuple[str, int], page: str) -> None:
    db, session_id = assessment
    store = open_store(db)
    try:
        data = store.get_session(session_id)
    finally:
        store.close()
    index, prescription = data["index"], data["prescription"]
    assert page.count(NOT_A_DIAGNOSIS) >= 2  # top and bottom
    assert f"{index['value']:.1f}" in page
    assert index["model"] in page
    assert "not clinically validated" in page
    assert page.count("data:image/png;base64,") >= 2
    zone = prescription["exercise"]["zone_bpm"]
    assert f"{zone[0]}-{zone[1]} bpm" in page
    assert "http://" not in page and "https://" not in page
    assert "R-0300" in page and "simulated" in page
    assert "Features against baseline" in page and "FITT-VP" in page
    assert f"rule set {prescription['rule_set']} {prescription['version']}" in page


def test_unknown_session_raises(assessment: tuple[str, int]) -> None:
    store = open_store(assessment[0])
    try:
        with pytest.raises(SessionNotFoundError, match="session 999"):
            assessment_report_html(store, 999)
    finally:
        store.close()


@needs_chromium
def test_pdf(page: str, tmp_path: Path) -> None:
    out = write_pdf(page, tmp_path / "out" / "report.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000


def test_missing_chromium_is_a_clear_error(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADDICTION_INDEX_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(ChromiumNotFoundError, match="install Debian's chromium, or give --html"):
        write_pdf(page, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(lambda: None)  # two commands: "report" stays a subcommand
    return app


@needs_chromium
def test_cli_writes_both_files(assessment: tuple[str, int], tmp_path: Path) -> None:
    db, session_id = assessment
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    args = ["report", str(session_id), "--html", str(html), "--pdf", str(pdf), "--db", db]
    result = CliRunner().invoke(_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == {"session": session_id, "html": str(html), "pdf": str(pdf),
                   "statement": NOT_A_DIAGNOSIS}  # fmt: skip
    assert NOT_A_DIAGNOSIS in html.read_text(encoding="utf-8")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_cli_default_is_html(
    assessment: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, session_id = assessment
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(_app(), ["report", str(session_id), "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["html"] == f"session-{session_id}.html" and doc["pdf"] is None
    assert (tmp_path / f"session-{session_id}.html").is_file()


def test_cli_unknown_session(assessment: tuple[str, int], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["report", "4242", "--db", assessment[0], "--html", str(tmp_path / "x.html")]
    )
    assert result.exit_code == 2
    assert "4242" in result.output
    assert not (tmp_path / "x.html").exists()
