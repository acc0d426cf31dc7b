"""The command line: demo, sessions list and show, --json, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from addiction_index.cli import app

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_demo_json_then_sessions_list_and_show(db_path: Path) -> None:
    code, out, _ = _invoke(
        "demo",
        "--json",
        "--db",
        str(db_path),
        "--subject",
        "R-0042",
        "--craving",
        "80",
        "--seed",
        "5",
    )
    assert code == 0, out
    result = json.loads(out)
    assert result["subject"] == "R-0042"
    assert result["database"].endswith("sessions.sqlite")
    assert result["index"]["status"] == "ok" and 0 <= result["index"]["value"] <= 100
    assert result["index"]["contributions"]
    assert result["prescription"]["exercise"]["zone_bpm"]
    assert "not diagnosis" in result["statement"]

    code, out, _ = _invoke("sessions", "list", "--json", "--db", str(db_path))
    assert code == 0
    listed = json.loads(out)["sessions"]
    assert [s["subject"] for s in listed] == ["R-0042"]

    code, out, _ = _invoke(
        "sessions", "show", str(result["session_id"]), "--json", "--db", str(db_path)
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["index"]["value"] == result["index"]["value"]
    assert shown["prescription"]["exercise"] == result["prescription"]["exercise"]


def test_demo_tables_show_index_prescription_storage_and_statement(db_path: Path) -> None:
    code, out, _ = _invoke("demo", "--db", str(db_path), "--seed", "2")
    assert code == 0, out
    for text in (
        "Addiction index",
        "confidence",
        "heart-rate zone",
        "bpm",
        "music",
        "rules fired",
        "stored",
        "not diagnosis",
        "NOT clinically validated",
    ):
        assert text in out, text
    code, out, _ = _invoke("sessions", "list", "--db", str(db_path))
    assert code == 0 and "SIM-001" in out and "not diagnosis" in out


def test_bad_input_gets_a_specific_error(db_path: Path) -> None:
    code, _, err = _invoke("demo", "--db", str(db_path), "--subject", "Zhang San")
    assert code == 2 and "subject" in err
    code, _, err = _invoke("sessions", "show", "999", "--db", str(db_path))
    assert code == 2 and "999" in err
    code, _, err = _invoke("demo", "--db", str(db_path), "--protocol", "nope")
    assert code == 2 and "cue-reactivity" in err


def test_devices_list_shows_the_shipped_profiles() -> None:
    code, out, _ = _invoke("devices", "list", "--json")
    assert code == 0
    ids = {p["id"] for p in json.loads(out)["profiles"]}
    assert {"muse-2", "hrm"} <= ids


def test_devices_scan_without_an_adapter_says_so() -> None:
    """This machine has no Bluetooth adapter: a clear error, not a traceback."""
    code, _, err = _invoke("devices", "scan", "--timeout", "1")
    if code == 0:
        return  # a machine with an adapter: the scan itself worked
    assert code == 2 and "bluetooth adapter" in err and "cannot scan" in err


def test_demo_record_then_replay_gives_the_same_index(db_path: Path, tmp_path: Path) -> None:
    from addiction_index.sessions._protocol import PROTOCOL_DIR

    protocol = tmp_path / "short.yaml"
    protocol.write_text(
        (PROTOCOL_DIR / "demo.yaml").read_text().replace("duration_s: 120", "duration_s: 45")
    )
    xdf = tmp_path / "session.xdf"
    code, out, err = _invoke(
        "demo",
        "--json",
        "--db",
        str(db_path),
        "--seed",
        "8",
        "--protocol",
        str(protocol),
        "--record",
        str(xdf),
    )
    assert code == 0, err
    live = json.loads(out)
    assert live["recording"] == str(xdf) and xdf.stat().st_size > 100_000
    code, out, err = _invoke(
        "replay",
        str(xdf),
        "--json",
        "--db",
        str(db_path),
        "--protocol",
        str(protocol),
        "--age",
        str(live["resident"]["age"]),
    )
    assert code == 0, err
    replayed = json.loads(out)
    assert replayed["index"] == live["index"]  # bit for bit: same samples, same times
    assert replayed["ratings"] == live["ratings"]  # the recorded ratings are given back
    assert replayed["prescription"]["exercise"] == live["prescription"]["exercise"]
    code, out, _ = _invoke("sessions", "list", "--json", "--db", str(db_path))
    assert [s["subject"] for s in json.loads(out)["sessions"]] == ["REPLAY", "SIM-001"]


def test_replay_of_a_missing_file_names_it(db_path: Path, tmp_path: Path) -> None:
    code, _, err = _invoke("replay", str(tmp_path / "none.xdf"), "--db", str(db_path))
    assert code == 2 and "none.xdf" in err


def test_lsl_list_runs() -> None:
    code, out, _ = _invoke("lsl", "list", "--wait", "0.3", "--json")
    assert code == 0 and isinstance(json.loads(out)["streams"], list)


def test_assess_without_devices_says_what_it_needs(db_path: Path) -> None:
    code, _, err = _invoke("assess", "--subject", "R-1", "--db", str(db_path), "--json")
    assert code == 2 and "--eeg/--hr" in err
    code, _, err = _invoke("assess", "--subject", "R-1", "--eeg", "muse-9", "--db", str(db_path))
    assert code == 2 and "muse-9" in err and "muse-2" in err  # lists the profiles that exist
