"""prescribe, plan and exercise from the command line, on one resident in a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addiction_index.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_prescribe_veto_override_exercise_and_plan(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "centre.sqlite")]
    first = _json(["demo", "--subject", "R-0200", "--seed", "3", "--json", *db])
    assert first["prescription"]["programme"]["response"]["decision"] == "none"
    music, chosen = first["prescription"]["music"], first["prescription"]["playlist"]
    assert chosen["library"] == "music-library.example.csv" and chosen["tracks"]
    if music["cadence"] is None:  # the tempo range (else the cadence, its half or double)
        low, high = music["tempo_bpm"]
        assert all(low <= t["tempo_bpm"] <= high for t in chosen["tracks"])

    vetoed = _json(["prescribe", "R-0200", "--contraindication", "cardiac", "--json", *db])
    assert vetoed["exercise"] is None and vetoed["veto"]["rules"] == ["veto_cardiac"]
    assert "not diagnosis" in vetoed["statement"]

    fine = _json(["prescribe", "R-0200", "--contraindication", "lower_limb_injury", "--json", *db])
    assert fine["exercise"]["type"] != first["prescription"]["exercise"]["type"]

    changed = _json(["prescribe", "R-0200", "--override", "exercise.minutes=[20, 25]",
                     "--reason", "first week back", "--by", "dr-li", "--json", *db])  # fmt: skip
    assert changed["exercise"]["minutes"] == [20, 25]
    assert changed["overridden"] == {"by": "dr-li", "reason": "first week back"}
    no_reason = runner.invoke(app, ["prescribe", "R-0200", "--override", "exercise.minutes=1", *db])
    assert no_reason.exit_code == 2 and "reason" in no_reason.output

    session = _json(["exercise", "R-0200", "--hr", "sim", "--rpe", "13", "--craving", "20",
                     "--minutes", "10", "--json", *db])  # fmt: skip
    assert session["target"]["zone_source"] == "prescription"  # the overridden prescription's zone

    png = tmp_path / "plan.png"
    plan = _json(["plan", "R-0200", "--out", str(png), "--json", *db])
    assert png.stat().st_size > 10_000
    assert plan["weeks"][0]["sessions"] == 1 and "overridden" in plan["weeks"][0]["prescription"]
    assert plan["status"]["reassessment_due"] is False
