"""``train``, ``evaluate`` and ``models list/show/promote`` through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from addiction_index import _cli_models
from addiction_index.features.spec import load_feature_spec

runner = CliRunner()


@pytest.fixture
def cli(models_dir, tables, monkeypatch):  # type: ignore[no-untyped-def]
    app = typer.Typer()
    app.command("train")(_cli_models.train_command)
    app.command("evaluate")(_cli_models.evaluate_command)
    app.add_typer(_cli_models.models_app, name="models")

    def fake_tables(dataset, data_dir, task, progress=True):  # type: ignore[no-untyped-def]
        table = tables[0] if task == "craving" else tables[1]
        return table, {"dataset": dataset, "manifest_hash": f"hash-{dataset}"}

    monkeypatch.setattr(_cli_models, "load_tables", fake_tables)
    return app


def _run(app, *args):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


FAST = ("--outer-folds", 3, "--inner-folds", 2, "--bootstrap", 50)


def test_train_list_show_promote_evaluate(cli, models_dir, tmp_path):
    r = _run(cli, "train", "craving", "study", "--model", "ridge", *FAST, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["name"] == "craving-ridge-v1"
    assert out["data"]["dataset"] == "study" and out["data"]["manifest_hash"] == "hash-study"
    assert (models_dir / "craving-ridge-v1.card.md").is_file()
    assert out["metrics"]["model"]["mae"]["value"] > 0

    r = _run(cli, "models", "list", "--json")
    assert r.exit_code == 0, r.output
    [entry] = json.loads(r.stdout)
    assert entry["name"] == "craving-ridge-v1" and not entry["live"]
    assert entry["feature_spec_hash"] == load_feature_spec().version_hash()

    r = _run(cli, "models", "show", "craving-ridge-v1", "--json")
    assert r.exit_code == 0, r.output
    assert "not a diagnosis" in json.loads(r.stdout)["card"]

    r = _run(cli, "models", "promote", "craving-ridge-v1", "--by", "dr.lee", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["by"] == "dr.lee"
    r = _run(cli, "models", "list")
    assert r.exit_code == 0 and "craving-ridge-v1" in r.stdout and "*" in r.stdout

    report = tmp_path / "report.html"
    r = _run(cli, "evaluate", "craving-ridge-v1", "other", "--out", report, *FAST[2:], "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["external"]["model"]["mae"]["value"] >= 0  # another dataset: external scores
    assert "data:image/png;base64," in report.read_text()


def test_errors_are_one_line_with_exit_code_2(cli):
    for args in (
        ("models", "show", "nope-v1"),
        ("models", "promote", "nope-v1"),
        ("train", "mood", "study"),
        ("train", "craving", "study", "--model", "svm"),
    ):
        r = _run(cli, *args, "--json")
        assert r.exit_code == 2, (args, r.output)
        assert "error:" in r.output


def test_empty_registry_lists_nothing(cli):
    r = _run(cli, "models", "list", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    r = _run(cli, "models", "list")
    assert "default is used" in r.stdout
