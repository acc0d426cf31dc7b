"""The systemd unit of ``addiction-index service``: its text, checked with ``systemd-analyze
verify`` when the machine has it (else parsed), and ``install``/``uninstall`` into temporary
folders with the right file modes. No service is started."""

from __future__ import annotations

import configparser
import json
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addiction_index.cli import app
from addiction_index.errors import InputError
from addiction_index.ops._service import ServiceConfig, unit_text, verify_unit


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_the_unit_restarts_runs_unprivileged_and_is_hardened(tmp_path: Path) -> None:
    config = ServiceConfig(
        user="centre",
        port=8080,
        data_dir=tmp_path / "data",
        env_dir=tmp_path / "etc",
        db="/srv/db/centre.sqlite",
    )
    text = unit_text(config)
    unit = _parse(text)
    service = unit["Service"]
    assert service["ExecStart"].endswith(
        "serve --db /srv/db/centre.sqlite --host 127.0.0.1 --port 8080"
    )
    assert service["User"] == "centre" and service["Restart"] == "on-failure"
    assert int(service["RestartSec"]) > 0 and int(unit["Unit"]["StartLimitBurst"]) > 0
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"].split() == [str(tmp_path / "data"), "/srv/db"]
    assert service["PrivateTmp"] == "yes" and service["CapabilityBoundingSet"] == ""
    assert service["EnvironmentFile"] == f"-{tmp_path / 'etc' / 'addiction-index.env'}"
    assert service["StandardOutput"] == "journal" and "MemoryDenyWriteExecute" not in service
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    path = tmp_path / "addiction-index.service"
    path.write_text(text)
    assert verify_unit(path) is None  # systemd-analyze's verdict, where it is installed
    bad = tmp_path / "bad.service"
    bad.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))
    if shutil.which("systemd-analyze"):
        assert "restart specifier" in (verify_unit(bad) or "")


def test_unsafe_values_and_passwords_in_the_unit_are_refused() -> None:
    with pytest.raises(InputError, match="user"):
        ServiceConfig(user="a b")
    with pytest.raises(InputError, match="environment file"):
        ServiceConfig(db="postgresql+psycopg://me:secret@db/centre")


def test_install_writes_the_unit_and_a_private_secrets_file(tmp_path: Path) -> None:
    units, etc, data = tmp_path / "units", tmp_path / "etc", tmp_path / "data"
    args = [
        "service",
        "install",
        "--unit-dir",
        str(units),
        "--env-dir",
        str(etc),
        "--data-dir",
        str(data),
        "--user",
        "root",
        "--json",
    ]
    runner = CliRunner()
    answer = runner.invoke(app, args)
    assert answer.exit_code == 0, answer.output
    result = json.loads(answer.stdout)
    unit, env = units / "addiction-index.service", etc / "addiction-index.env"
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "ADDICTION_INDEX_IDENTITY_KEY=" in env.read_text()
    assert result["systemctl"] == [] and any("enable" in s for s in result["next_steps"])
    # a second install keeps the secrets as they were
    before = env.read_text()
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["kept"] == [str(env)] and env.read_text() == before
    printed = runner.invoke(app, ["service", "install", "--print", "--port", "9000"])
    assert "--port 9000" in printed.stdout and not (tmp_path / "x").exists()
    gone = runner.invoke(app, ["service", "uninstall", "--unit-dir", str(units), "--json"])
    assert str(unit) in json.loads(gone.stdout)["removed"] and env.exists()
    assert not list(units.iterdir())  # the backup timer and service too, when installed
    status = runner.invoke(app, ["service", "status", "--unit-dir", str(units), "--json"])
    assert json.loads(status.stdout)["installed"] is False
