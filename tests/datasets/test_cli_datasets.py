"""The dataset commands through typer's CliRunner (real files in tmp_path)."""

from __future__ import annotations

import json
import shutil

import typer
from typer.testing import CliRunner

from addiction_index._cli_datasets import dataset_app, export_command

runner = CliRunner()


def test_simulate_list_show_import_export(tmp_path, shared_file):
    data = ["--data-dir", str(tmp_path / "ds")]
    result = runner.invoke(dataset_app, ["simulate", "cli", "--residents", "1", "--controls", "1",
                                         "--seed", "2", *data, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recordings"] == 2

    listed = json.loads(runner.invoke(dataset_app, ["list", *data, "--json"]).stdout)
    (row,) = listed["datasets"]
    assert (row["name"], row["recordings"], row["subjects"]) == ("cli", 2, 2)
    assert "vas_craving" in row["labels"]

    shown = json.loads(runner.invoke(dataset_app, ["show", "cli", *data, "--json"]).stdout)
    assert shown["subjects"] == ["S001", "S002"]
    assert shown["recordings"][0]["labels"]["group"] == "resident"

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(shared_file("edf_eegmmidb", "S001R04.edf"), src)
    (src / "readme.md").write_text("x")
    result = runner.invoke(dataset_app, ["import", str(src), "--format", "folder", *data])
    assert result.exit_code == 0, result.output
    assert "imported 1, skipped 1" in result.stdout and "unknown suffix '.md'" in result.stdout
    result = runner.invoke(dataset_app, ["show", "src", *data])
    assert result.exit_code == 0 and "unknown suffix '.md'" in result.stdout
    shown = json.loads(runner.invoke(dataset_app, ["show", "src", *data, "--json"]).stdout)
    assert [r["subject"] for r in shown["recordings"]] == ["S001R04"]
    assert shown["skipped"][0]["path"].endswith("readme.md")

    app = typer.Typer()
    app.command("export")(export_command)
    app.command("noop")(lambda: None)
    out = tmp_path / "bids"
    result = runner.invoke(app, ["export", "cli", "--bids", str(out), "--seed", "1", *data,
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["exported"]) == 2 and (out / "participants.tsv").is_file()


def test_errors_exit_1_with_the_reason(tmp_path):
    data = ["--data-dir", str(tmp_path)]
    result = runner.invoke(dataset_app, ["show", "nope", *data])
    assert result.exit_code == 1 and "no dataset 'nope'" in result.stderr
    result = runner.invoke(dataset_app, ["import", str(tmp_path), "--format", "gdf", *data])
    assert result.exit_code == 1 and "format" in result.stderr
