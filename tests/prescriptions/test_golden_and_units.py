"""Golden cases of the shipped rule set, units in expressions, vetoes, progression, the holder
and the ``rules check`` command."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from addiction_index._cli_rules import rules_app
from addiction_index.errors import ConfigError, InputError
from addiction_index.prescriptions import (
    PrescriptionInputs,
    RuleSetHolder,
    check_rule_set,
    load_rule_set,
    prescribe,
)
from addiction_index.prescriptions._golden import load_golden, run_golden
from addiction_index.resources import content_file

HEADER = """\
name: test
version: "1"
description: a small rule set for tests
contraindications:
  cardiac: heart disease
citations:
  "4.4": "China Sport Science 2017"
defaults:
  cite: ["4.4"]
  exercise:
    type: aerobic cycling
    sessions_per_week: 3
    minutes: [30, 40]
    weeks: 12
    intensity_hrr: [0.40, 0.59]
    rpe: [12, 13]
  music:
    purpose: synchronise
    timing: during
    tempo_bpm: [120, 140]
    minutes: [30, 40]
    valence: positive
    arousal: high
"""

ADULT = {"age": 30, "resting_hr": 70}


def write(tmp_path: Path, rules: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(rules), encoding="utf-8")
    return path


def one_rule(when: str, extra: str = "") -> str:
    return f"""\
rules:
  - id: only
    description: one rule
    priority: 1
    when: {when}
    cite: ["4.4"]
{extra}"""


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


# ---------------------------------------------------------------- golden cases
DEFAULT = content_file("prescriptions", "default.yaml")
GOLDEN = load_golden(DEFAULT.parent / "default.golden.yaml")


@pytest.mark.parametrize("case", GOLDEN, ids=[c.name for c in GOLDEN])
def test_golden_case_of_the_shipped_rule_set(case):
    (result,) = run_golden(load_rule_set(DEFAULT), [case])
    assert result.passed, [(m.field, m.expected, m.got) for m in result.mismatches]


def test_golden_set_has_a_veto_and_progression_steps():
    names = {c.name for c in GOLDEN}
    assert len(GOLDEN) >= 8
    assert {"cardiac_veto", "progress_adds_time", "step_back_lowers_intensity"} <= names


def test_check_rule_set_reports_every_mismatch(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT.parent, folder)
    golden = folder / "default.golden.yaml"
    text = golden.read_text(encoding="utf-8")
    golden.write_text(text.replace("zone_bpm: [111, 133]", "zone_bpm: [110, 133]"), "utf-8")
    report = check_rule_set(folder / "default.yaml")
    assert report.valid and not report.passed and report.exit_code == 1
    bad = [m for c in report.cases for m in c.mismatches]
    assert [(m.case, m.field, m.expected, m.got) for m in bad] == [
        ("step_back_lowers_intensity", "exercise.zone_bpm", [110, 133], [111, 133])
    ]


def test_check_rule_set_on_an_invalid_file_names_line_and_key(tmp_path):
    path = write(tmp_path, one_rule("age >= 18").replace("priority: 1", "priorty: 1"))
    report = check_rule_set(path)
    assert report.exit_code == 2
    assert report.error.key == "rules.0.priorty" and report.error.line == line_of(path, "priorty")


def test_unknown_field_in_a_golden_file(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT.parent, folder)
    golden = folder / "default.golden.yaml"
    text = golden.read_text(encoding="utf-8")
    golden.write_text(text.replace("sessions_per_week: 4", "sesions_per_week: 4"), "utf-8")
    report = check_rule_set(folder / "default.yaml")
    assert report.exit_code == 2
    assert report.error.key.endswith("expect.exercise.sesions_per_week")
    assert report.error.line == line_of(golden, "sesions_per_week")


# ---------------------------------------------------------------- CLI
def _cli(*args: str):
    app = typer.Typer()
    app.add_typer(rules_app, name="rules")
    return CliRunner().invoke(app, ["rules", *args])


def test_cli_rules_check_exit_codes(tmp_path):
    ok = _cli("check", str(DEFAULT), "--json")
    assert ok.exit_code == 0, ok.stdout
    data = json.loads(ok.stdout)
    assert data["passed"] and len(data["cases"]) >= 8
    assert _cli("check", str(DEFAULT)).exit_code == 0
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT.parent, folder)
    golden = folder / "default.golden.yaml"
    golden.write_text(
        golden.read_text("utf-8").replace("minutes: [35, 45]", "minutes: [40, 45]"), "utf-8"
    )
    failed = _cli("check", str(folder / "default.yaml"))
    assert failed.exit_code == 1 and "progress_adds_time" in failed.stdout
    broken = write(tmp_path, one_rule("age > 100 * bpm"))
    invalid = _cli("check", str(broken))
    assert invalid.exit_code == 2
    assert f"line {line_of(broken, 'when:')}" in invalid.stderr and "rules.0.when" in invalid.stderr


# ---------------------------------------------------------------- units
@pytest.mark.parametrize(
    "when",
    [
        "age > 100 * bpm",
        "resting_hr > 30 * years",
        "index_available and index > 60 * percent",
        "age >= 50 * years and resting_hr > 90",
        "age == 30 and resting_hr > 60 * bpm",
    ],
)
def test_unit_mismatch_is_refused_at_load_with_line_and_key(tmp_path, when):
    path = write(tmp_path, one_rule(when))
    with pytest.raises(ConfigError, match="unit mismatch") as info:
        load_rule_set(path)
    assert (info.value.file, info.value.key) == (str(path), "rules.0.when")
    assert info.value.line == line_of(path, "when:")


@pytest.mark.parametrize(
    ("when", "inputs", "fires"),
    [
        ("resting_hr > 100 * bpm", {"resting_hr": 101}, True),
        ("resting_hr > 100 * bpm", {"resting_hr": 100}, False),
        ("age >= 50 * years", {"age": 50}, True),
        ("weeks_in_programme >= 42 * days", {"weeks_in_programme": 6}, True),  # 6 weeks = 42 d
        ("weeks_in_programme >= 42 * days", {"weeks_in_programme": 5.9}, False),
        ("adherence_available and adherence < 70 * percent", {"adherence": 0.69}, True),
        ("adherence_available and adherence < 70 * percent", {"adherence": 0.7}, False),
        ("craving_available and craving >= 50 * points", {"craving": 50}, True),
        ("resting_hr > 100", {"resting_hr": 101}, True),  # plain numbers: the input's unit
        ("sessions_completed >= 12 * count", {"sessions_completed": 12}, True),
    ],
)
def test_units_in_expressions(tmp_path, when, inputs, fires):
    rules = load_rule_set(write(tmp_path, one_rule(when)))
    p = prescribe(rules, PrescriptionInputs(**{**ADULT, **inputs}))
    assert bool(p.rules_fired) is fires
    if fires:  # the record keeps plain numbers, JSON-friendly
        json.dumps(p.to_dict())


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ('mood == "lo"', "mood is never 'lo'"),
        ('response == "progres"', "response is never 'progres'"),
        ('"cardiak" in contraindications', "unknown contraindication 'cardiak'"),
        ("adherence < 0.5", "adherence_available"),
        ("(age > 3", "syntax error"),
        ("weeks_in_programe > 3", "did you mean 'weeks_in_programme'"),
    ],
)
def test_bad_expressions_name_line_and_key(tmp_path, when, message):
    path = write(tmp_path, one_rule(f"'{when}'"))
    with pytest.raises(ConfigError, match=r"rules\.0\.when") as info:
        load_rule_set(path)
    assert message in str(info.value)
    assert info.value.line == line_of(path, "when:")


def test_unknown_contraindication_in_inputs_is_an_input_error():
    with pytest.raises(InputError) as info:
        prescribe(load_rule_set(), PrescriptionInputs(**ADULT, contraindications=("cardiak",)))
    assert info.value.argument == "inputs.contraindications" and info.value.value == "cardiak"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weeks_in_programme", -1),
        ("sessions_completed", 2.5),
        ("adherence", 1.2),
        ("time_in_zone", -0.1),
        ("response", "faster"),
        ("index_change", 150),
        ("mood", "sad"),
        ("energy", "high"),
    ],
)
def test_bad_programme_inputs_name_the_argument(field, value):
    with pytest.raises(InputError) as info:
        prescribe(load_rule_set(), PrescriptionInputs(**{**ADULT, field: value}))
    assert info.value.argument == f"inputs.{field}"


# ---------------------------------------------------------------- veto and progression
def test_cardiac_veto_removes_exercise_and_names_the_rule():
    p = prescribe(
        load_rule_set(), PrescriptionInputs(**ADULT, index=45, contraindications=("cardiac",))
    )
    assert p.exercise is None
    assert p.veto.rules == ("veto_cardiac",) and "physician" in p.veto.actions[0]
    assert p.music.timing == "standalone"
    data = p.to_dict()
    assert data["exercise"] is None and data["veto"]["rules"] == ["veto_cardiac"]
    assert next(r for r in data["rules_fired"] if r["id"] == "veto_cardiac")["veto"]


def test_veto_wins_whatever_its_priority(tmp_path):
    rules = one_rule(
        """'"cardiac" in contraindications'""",
        "    veto: refer to a physician\n",
    ) + textwrap.indent(
        textwrap.dedent("""\
        - id: high
          description: a higher rule
          priority: 50
          when: age >= 18
          cite: ["4.4"]
          set:
            music:
              timing: during
        """),
        "  ",
    )
    p = prescribe(
        load_rule_set(write(tmp_path, rules)),
        PrescriptionInputs(**ADULT, contraindications=("cardiac",)),
    )
    assert p.exercise is None and p.veto.rules == ("only",)
    assert p.music.timing == "standalone"


def test_veto_rule_may_not_set_exercise_fields(tmp_path):
    extra = "    veto: stop\n    set:\n      exercise:\n        minutes: [10, 20]\n"
    path = write(tmp_path, one_rule("""'"cardiac" in contraindications'""", extra))
    with pytest.raises(ConfigError, match="veto") as info:
        load_rule_set(path)
    assert info.value.key == "rules.0.set.exercise.minutes"


@pytest.mark.parametrize(
    ("response", "minutes", "hrr"),
    [
        ("none", (30, 40), (0.40, 0.59)),
        ("hold", (30, 40), (0.40, 0.59)),
        ("progress", (35, 45), (0.40, 0.59)),
        ("step_back", (30, 40), (0.35, 0.54)),
    ],
)
def test_progression_step_follows_the_response(response, minutes, hrr):
    p = prescribe(
        load_rule_set(),
        PrescriptionInputs(**ADULT, index=45, index_confidence=0.9, response=response),
    )
    assert p.exercise.minutes == minutes and p.exercise.intensity_hrr == hrr
    assert (p.exercise.progression_applied is None) is (response in ("none", "hold"))


def test_progression_moves_intensity_once_minutes_are_at_the_top(tmp_path):
    rules = one_rule(
        "age >= 18",
        "    set:\n      exercise:\n        minutes: [55, 60]\n"
        "        intensity_hrr: [0.40, 0.50]\n"
        "        progression_step: {minutes: 5, minutes_min: 20, minutes_max: 60,"
        " intensity_hrr: 0.05, intensity_hrr_min: 0.30, intensity_hrr_max: 0.59}\n",
    )
    p = prescribe(
        load_rule_set(write(tmp_path, rules)), PrescriptionInputs(**ADULT, response="progress")
    )
    assert p.exercise.minutes == (55, 60) and p.exercise.intensity_hrr == (0.45, 0.55)
    # 70 + 0.45 × 117 = 122.65 -> 123; 70 + 0.55 × 117 = 134.35 -> 134
    assert p.exercise.zone_bpm == (123, 134)


def test_screening_cap_applies_after_progression():
    p = prescribe(
        load_rule_set(),
        PrescriptionInputs(
            age=30, resting_hr=95, index=10, index_confidence=0.9, response="progress"
        ),
    )
    assert p.exercise.intensity_hrr[1] == 0.49


# ---------------------------------------------------------------- holder
def test_holder_keeps_the_previous_rule_set_when_the_new_file_is_broken(tmp_path):
    good = write(tmp_path, one_rule("age >= 18"), "good.yaml")
    holder = RuleSetHolder(load_rule_set(good))
    assert holder.current.source == str(good)
    for broken_rule in ("age > 100 * bpm", "indx > 3", "(age > 3"):
        broken = write(tmp_path, one_rule(f"'{broken_rule}'"), "broken.yaml")
        result = holder.reload(broken)
        assert not result.loaded and result.error.key == "rules.0.when"
        assert result.error.line == line_of(broken, "when:")
        assert holder.current.source == str(good)  # still in force
        assert "still in force" in str(result)
    newer = write(tmp_path, one_rule("age >= 21"), "newer.yaml")
    result = holder.reload(newer)
    assert result.loaded and result.error is None and holder.current.source == str(newer)
