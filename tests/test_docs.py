"""The documentation site: commands it shows exist, generated reference pages, offline build."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from addiction_index._docs import (
    EVIDENCE_PAGE,
    GENERATED,
    evidence_citations_markdown,
    evidence_items,
    features_markdown,
    generated_pages,
    rules_markdown,
)
from addiction_index.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SHARED_EVIDENCE = ROOT.parent / "shared" / "EVIDENCE.md"
PAGES = sorted(DOCS.rglob("*.md"))


def _fenced_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _commands(block: str) -> list[str]:
    """The commands of a shell block: comments dropped, spaces collapsed, empty lines skipped."""
    out = []
    for line in block.splitlines():
        command = " ".join(line.split("#", 1)[0].split())
        if command:
            out.append(command)
    return out


def test_getting_started_shows_the_readme_commands() -> None:
    readme = _commands(_fenced_blocks((ROOT / "README.md").read_text(encoding="utf-8"))[0])[:2]
    assert len(readme) == 2 and all(c.startswith("pip install") for c in readme), readme
    for page in ("getting-started.md", "index.md"):
        shown = _commands(_fenced_blocks((DOCS / page).read_text(encoding="utf-8"))[0])[:2]
        assert shown == readme, page


def test_every_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in [*(p.relative_to(DOCS).as_posix() for p in PAGES), *GENERATED]:
        assert f": {page}\n" in config, f"{page} is not in mkdocs.yml's nav"


@cache
def _tree():
    return typer.main.get_command(app)


def _command_path(words: list[str]) -> tuple[str, ...]:
    """The longest prefix of ``words`` that names a command or group of the CLI."""
    path: list[str] = []
    node = _tree()
    for word in words:
        if not hasattr(node, "get_command"):  # a command, not a group (typer vendors click)
            break
        sub = node.get_command(node.context_class(node), word)
        if sub is None:
            break
        path.append(word)
        node = sub
    return tuple(path)


def _snippets(text: str) -> list[tuple[int, str, str]]:
    """(line number, code, whole line) for each fenced code line and inline code span."""
    out = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        codes = [line] if fenced else re.findall(r"`([^`]+)`", line)
        out += [(number, code, line) for code in codes]
    return out


def _mentioned_commands() -> dict[tuple[str, ...], str]:
    """Every ``addiction-index WORDS`` in the docs' code (skipping lines that say "planned")."""
    found: dict[tuple[str, ...], str] = {}
    for page in PAGES:
        for number, code, line in _snippets(page.read_text(encoding="utf-8")):
            if "planned" in line.lower():
                continue
            for match in re.finditer(r"(?:^|\s)addiction-index((?:\s+[a-z][a-z0-9-]*)+)", code):
                words = match.group(1).split()
                path = _command_path(words) or (words[0],)  # an unknown command fails below
                found.setdefault(path, f"{page.relative_to(ROOT)}:{number}")
    return found


def test_docs_mention_commands() -> None:
    mentioned = _mentioned_commands()
    for expected in [("demo",), ("serve",), ("users", "add"), ("demo-centre",), ("db", "upgrade")]:
        assert expected in mentioned


@pytest.mark.parametrize("path", sorted(_mentioned_commands()), ids=" ".join)
def test_every_command_in_the_docs_exists(path: tuple[str, ...]) -> None:
    where = _mentioned_commands()[path]
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, f"{where}: addiction-index {' '.join(path)}: {result.output}"


def test_features_page_lists_every_registered_feature() -> None:
    from addiction_index.features import load_feature_spec

    spec = load_feature_spec()
    page = features_markdown(spec)
    assert spec.version_hash() in page
    for name, definition in spec.registry.items():
        assert f"| `{name}` | " in page, name
        assert definition.reference.split(",")[0] in page


def test_rules_page_lists_every_rule_and_input() -> None:
    from addiction_index.prescriptions import INPUTS, UNIT_NAMES, load_rule_set
    from addiction_index.prescriptions._ruleset import Rule, RuleSet

    rule_set = load_rule_set()
    page = rules_markdown(rule_set)
    for rule in rule_set.rules:
        assert f"#### `{rule.id}`" in page, rule.id
        assert rule.when in page, rule.when
    for name in [*INPUTS, *UNIT_NAMES]:
        assert f"| `{name}` |" in page, name
    for model in (RuleSet, Rule):  # the schema's keys, from the pydantic models
        for field in model.model_fields:
            assert f"| `{field}` |" in page, field
    assert "no exercise, do this instead" in page  # a field comment of Rule.veto


def test_evidence_copy_matches_its_source() -> None:
    if not SHARED_EVIDENCE.is_file():
        pytest.skip(f"{SHARED_EVIDENCE} is absent (outside the repository)")
    copy = (DOCS / EVIDENCE_PAGE).read_text(encoding="utf-8")
    assert "../shared/EVIDENCE.md" in copy.split("\n# ", 1)[0], "the header names the source"
    assert SHARED_EVIDENCE.read_text(encoding="utf-8") in copy, (
        "docs/evidence.md is stale: copy ../shared/EVIDENCE.md below its header again"
    )


def test_evidence_citations_page(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text(
        'a: 1  # EVIDENCE 4.9-4.11 and EVIDENCE 2.1, 2.2\nb: {cite: ["6.3", "convention"]}\n',
        encoding="utf-8",
    )
    notes = "# E\n\n2.1 **First**. x\n\n2.2 **Second**. y\n\n4.10 **Ten** z\n\n6.3 **Three** w\n"
    assert list(evidence_items(notes)) == ["2.1", "2.2", "4.10", "6.3"]
    page = evidence_citations_markdown(tmp_path, notes)
    assert "4 of 4 items are cited" in page
    assert "- `models/m.yaml` (line 2)" in page.split("## 6.3 Three")[1]
    # 4.9 and 4.11 are cited (a range) but are not items of these notes
    assert "- 4.9: `models/m.yaml:1`" in page and "- 4.11: `models/m.yaml:1`" in page

    real = generated_pages(ROOT)
    assert set(real) == set(GENERATED)
    assert "## 4.11 " in real["reference/evidence-citations.md"]
    assert "`prescriptions/default.yaml`" in real["reference/evidence-citations.md"]


@pytest.mark.slow
def test_site_builds_strict_and_offline(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (DOCS / "reference").exists(), "generated pages must not be written into docs/"
    for uri in GENERATED:
        assert (site / uri).with_suffix(".html").is_file(), uri
    external = re.compile(
        r"<script[^>]*\ssrc=[\"']?(?:https?:)?//|<link[^>]*\shref=[\"']?(?:https?:)?//"
        r"|@import\s+(?:url\()?[\"']?(?:https?:)?//|url\([\"']?(?:https?:)?//",
        re.IGNORECASE,
    )
    offenders = [
        str(path.relative_to(site))
        for path in site.rglob("*")
        if path.suffix in {".html", ".css", ".js"}
        and external.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == [], f"external scripts or stylesheets in {offenders}"
