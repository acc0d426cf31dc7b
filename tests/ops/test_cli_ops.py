"""The operations commands: --json output, clear errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from addiction_index.cli import app
from addiction_index.ops import OpsPaths
from tests.ops.conftest import fill_subject

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # unwrapped


def test_backup_verify_list_erase_retention_as_json(tmp_path: Path, ops_paths: OpsPaths) -> None:
    db = str(tmp_path / "centre.sqlite")
    fill_subject(db, "CLI-01")
    code, out, err = _invoke("backup", "create", "--db", db, "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["verify"]["ok"] and created["database"]["residents"] == 1
    assert "CLI-01" not in out  # no code in the manifest
    code, out, err = _invoke("backup", "verify", created["file"], "--json")
    assert code == 0 and json.loads(out)["ok"], err
    code, out, _ = _invoke("backup", "list", "--json")
    assert [b["file"] for b in json.loads(out)] == [created["file"]]
    code, out, err = _invoke(
        "subject", "erase", "CLI-01", "--reason", "resident-request", "--db", db, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["rows"]["subjects"] == 1
    code, out, err = _invoke("retention", "apply", "--db", db, "--dry-run", "--json")
    assert code == 0, err
    assert set(json.loads(out)["deleted"]) >= {"scores", "backups", "audit_log"}


def test_clear_errors(tmp_path: Path, ops_paths: OpsPaths) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nkeep_days:\n  scores: soon\n")
    code, _, err = _invoke("retention", "check", "--policy", str(bad))
    assert code == 2 and "line 3" in err and "keep_days.scores" in err
    code, _, err = _invoke("subject", "erase", "X-1", "--reason", "she asked", "--yes")
    assert code == 2 and "--reason" in err
    code, _, err = _invoke("backup", "verify", str(bad))
    assert code == 2 and "not an addiction-index backup" in err


def test_schedule_prints_units() -> None:
    code, out, _ = _invoke("backup", "schedule", "--json")
    units = json.loads(out)
    assert code == 0 and "OnCalendar=" in units["timer"] and "ExecStart=" in units["service"]
    code, out, _ = _invoke("retention", "schedule", "--cron")
    assert code == 0 and "retention apply" in out
