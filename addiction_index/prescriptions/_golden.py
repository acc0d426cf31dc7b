"""Golden cases of a rule set, and :func:`check_rule_set`, which validates a file and runs them.

A rule set names its golden-case file with ``golden:`` (next to it, e.g.
``default.golden.yaml``). Each case gives inputs and the expected prescription fields:

.. code-block:: yaml

    cases:
      - name: cardiac_veto
        inputs: {age: 30, resting_hr: 70, index: 45, contraindications: [cardiac]}
        expect:
          vetoed: true
          veto_rules: [veto_cardiac]
          rules_fired: [veto_cardiac, index_moderate]   # ids, highest priority first
          exercise: {zone_bpm: [117, 139]}              # any ExercisePrescription field
          music: {purpose: calm, tempo_bpm: [60, 80]}   # any MusicPrescription field

:func:`check_rule_set` reports every mismatch (case, field, expected, got); the file being invalid
is reported as the :class:`~addiction_index.errors.ConfigError` (file, line, key).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from addiction_index.datafiles import load_yaml, yaml_line
from addiction_index.errors import AddictionIndexError, ConfigError
from addiction_index.prescriptions._engine import (
    ExercisePrescription,
    MusicPrescription,
    PrescriptionInputs,
    _jsonable,
    prescribe,
)
from addiction_index.prescriptions._ruleset import RuleSet, load_rule_set

__all__ = ["CaseResult", "CheckReport", "GoldenCase", "Mismatch", "check_rule_set", "run_golden"]

_EXERCISE_FIELDS = {f.name for f in dataclasses.fields(ExercisePrescription)}
_MUSIC_FIELDS = {f.name for f in dataclasses.fields(MusicPrescription)}
_INPUT_FIELDS = {f.name for f in dataclasses.fields(PrescriptionInputs)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """Expected fields of the prescription; only those given are compared."""

    vetoed: bool | None = None
    veto_rules: list[str] | None = None
    rules_fired: list[str] | None = None
    exercise: dict[str, Any] | None = None
    music: dict[str, Any] | None = None


class GoldenCase(_Strict):
    """One case: a name, the inputs, and what the prescription must contain."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: str | None = None
    inputs: dict[str, Any]
    expect: Expect


class GoldenFile(_Strict):
    cases: Annotated[list[GoldenCase], Field(min_length=1)]


@dataclass(frozen=True)
class Mismatch:
    """One expected field that came out different."""

    case: str
    field: str
    expected: Any
    got: Any


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one golden case."""

    name: str
    passed: bool
    mismatches: tuple[Mismatch, ...]


@dataclass
class CheckReport:
    """The result of :func:`check_rule_set`: an invalid file, or the golden cases' results."""

    file: str
    rule_set: str | None = None
    version: str | None = None
    golden_file: str | None = None
    error: ConfigError | None = None
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when the rule set and its golden file loaded."""
        return self.error is None

    @property
    def passed(self) -> bool:
        """True when the file is valid and every case passed."""
        return self.valid and all(c.passed for c in self.cases)

    @property
    def exit_code(self) -> int:
        """0 all pass, 1 a case fails, 2 the file is invalid."""
        return 2 if not self.valid else (0 if self.passed else 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        error = None
        if self.error is not None:
            e = self.error
            error = {"file": e.file, "line": e.line, "key": e.key, "message": str(e)}
        return {
            "file": self.file,
            "rule_set": self.rule_set,
            "version": self.version,
            "golden_file": self.golden_file,
            "valid": self.valid,
            "passed": self.passed,
            "error": error,
            "cases": [_jsonable(dataclasses.asdict(c)) for c in self.cases],
        }


def load_golden(path: str | os.PathLike[str]) -> list[GoldenCase]:
    """Load a golden-case file; unknown input or field names are errors with line and key."""
    path = Path(path)
    golden = load_yaml(path, GoldenFile)
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    checks = (("inputs", _INPUT_FIELDS), ("exercise", _EXERCISE_FIELDS), ("music", _MUSIC_FIELDS))
    for n, case in enumerate(golden.cases):
        for part, known in checks:
            values = case.inputs if part == "inputs" else getattr(case.expect, part) or {}
            loc = ("cases", n, "inputs") if part == "inputs" else ("cases", n, "expect", part)
            for key in values:
                if key not in known:
                    raise ConfigError(
                        path,
                        f"unknown {part} field '{key}'",
                        line=yaml_line(root, (*loc, key)),
                        key=".".join(map(str, (*loc, key))),
                        expected="one of " + ", ".join(sorted(known)),
                    )
        names = [c.name for c in golden.cases[:n]]
        if case.name in names:
            raise ConfigError(
                path,
                f"duplicate case name '{case.name}'",
                line=yaml_line(root, ("cases", n, "name")),
                key=f"cases.{n}.name",
            )
    return golden.cases


def run_golden(rule_set: RuleSet, cases: list[GoldenCase]) -> list[CaseResult]:
    """Prescribe each case and compare the expected fields; never raises for a bad case."""
    return [_run_case(rule_set, case) for case in cases]


def _run_case(rule_set: RuleSet, case: GoldenCase) -> CaseResult:
    inputs = dict(case.inputs)
    if "contraindications" in inputs:
        inputs["contraindications"] = tuple(inputs["contraindications"])
    try:
        p = prescribe(rule_set, PrescriptionInputs(**inputs)).to_dict()
    except (AddictionIndexError, TypeError) as exc:
        problem = Mismatch(case.name, "(prescribe)", "a prescription", str(exc))
        return CaseResult(case.name, False, (problem,))
    e = case.expect
    pairs: list[tuple[str, Any, Any]] = []
    if e.vetoed is not None:
        pairs.append(("vetoed", e.vetoed, p["veto"] is not None))
    if e.veto_rules is not None:
        pairs.append(("veto_rules", e.veto_rules, p["veto"]["rules"] if p["veto"] else []))
    if e.rules_fired is not None:
        pairs.append(("rules_fired", e.rules_fired, [r["id"] for r in p["rules_fired"]]))
    for section in ("exercise", "music"):
        for key, expected in (getattr(e, section) or {}).items():
            got = None if p[section] is None else p[section].get(key)
            pairs.append((f"{section}.{key}", expected, got))
    bad = tuple(
        Mismatch(case.name, name, expected, got)
        for name, expected, got in pairs
        if _jsonable(expected) != got
    )
    return CaseResult(case.name, not bad, bad)


def check_rule_set(path: str | os.PathLike[str]) -> CheckReport:
    """Validate the rule-set file at ``path`` and run its golden cases.

    Never raises for a bad file: the :class:`ConfigError` (file, line, key) is in the report.
    """
    report = CheckReport(file=str(path))
    try:
        rule_set = load_rule_set(Path(path))
        report.rule_set, report.version = rule_set.name, rule_set.version
        if rule_set.golden is not None:
            golden_path = Path(path).parent / rule_set.golden
            report.golden_file = str(golden_path)
            if not golden_path.is_file():
                raise ConfigError(path, f"golden file not found: {golden_path}", key="golden")
            cases = load_golden(golden_path)
            report.cases = run_golden(rule_set, cases)
    except ConfigError as exc:
        report.error = exc
    return report
