"""Rule-set schema, the ``when`` expression language, and loading with file/line/key errors.

A rule set is a YAML file in the ``prescriptions/`` content folder (see its README). Each rule's
``when`` is an expression in a small sandboxed language evaluated by ``simpleeval`` (never Python
``eval``): comparisons, ``and``/``or``/``not``, arithmetic, ``in`` with a literal list, and the
input names of :data:`~addiction_index.prescriptions.INPUTS`. Nothing else: no calls, no
attributes, no subscripts. Every expression is checked when the file is loaded, and probed with
absent (None) inputs, so a rule that forgets ``index_available and ...`` is refused at load
rather than failing in a session.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr
from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, MultipleExpressions

from addiction_index.datafiles import load_yaml, yaml_line
from addiction_index.errors import ConfigError
from addiction_index.prescriptions._engine import INPUTS, PrescriptionInputs
from addiction_index.resources import content_file

__all__ = ["Condition", "Rule", "RuleSet", "load_rule_set"]

# ---------------------------------------------------------------- expressions
_NODES = (
    ast.Expr, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Compare, ast.Eq, ast.NotEq, ast.Lt,
    ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.Name, ast.Load,
    ast.Constant, ast.Tuple, ast.List,
)  # fmt: skip
_OPERATORS = {kind: fn for kind, fn in DEFAULT_OPERATORS.items() if kind in _NODES}
_EXPECTED = "an expression over the inputs " + ", ".join(INPUTS)
# Values tried for each input when an expression is checked at load (None where allowed).
_PROBE_BASE = PrescriptionInputs(age=30.0, resting_hr=70.0)
_PROBE_VALUES: dict[str, tuple[Any, ...]] = {
    "index": (None, 10.0, 45.0, 80.0),
    "index_confidence": (0.0, 0.9),
    "craving": (None, 0.0, 80.0),
    "resting_hr": (60.0, 95.0),
    "age": (30.0, 60.0),
    "sex": ("male", "female", "unknown"),
    "hr_max_measured": (None, 185.0),
}


class _ExpressionError(Exception):
    def __init__(self, message: str, expected: str = _EXPECTED) -> None:
        super().__init__(message)
        self.message, self.expected = message, expected


@dataclass(frozen=True)
class Condition:
    """A checked ``when`` expression: its text, parsed tree and the inputs it reads."""

    text: str
    node: ast.AST
    names: tuple[str, ...]

    def evaluate(self, names: dict[str, Any]) -> bool:
        """True when the expression holds for these input values (see :data:`INPUTS`)."""
        evaluator = EvalWithCompoundTypes(operators=_OPERATORS, functions={}, names=names)
        result = evaluator.eval(self.text, previously_parsed=self.node)
        if not isinstance(result, bool):
            raise TypeError(f"gave {result!r}, not True or False")
        return result

    @classmethod
    def compile(cls, text: str) -> Condition:
        """Parse ``text`` with simpleeval and check it uses only allowed syntax and inputs."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", MultipleExpressions)
                node = EvalWithCompoundTypes.parse(text)
        except SyntaxError as exc:
            raise _ExpressionError(f"syntax error: {exc.msg} (column {exc.offset})") from exc
        except MultipleExpressions as exc:
            raise _ExpressionError("write a single expression (no ';' or new lines)") from exc
        if not isinstance(node, ast.Expr):
            raise _ExpressionError(f"{type(node).__name__.lower()} is not an expression")
        names: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                raise _ExpressionError("function calls are not allowed")
            if isinstance(sub, ast.Attribute | ast.Subscript):
                raise _ExpressionError("attribute access and indexing ('.', '[]') are not allowed")
            if not isinstance(sub, _NODES):
                raise _ExpressionError(f"'{type(sub).__name__}' is not allowed in a rule")
            if isinstance(sub, ast.Constant) and not isinstance(
                sub.value, bool | int | float | str | type(None)
            ):
                raise _ExpressionError(f"the constant {sub.value!r} is not allowed")
            if isinstance(sub, ast.Name):
                if sub.id not in INPUTS:
                    raise _ExpressionError(_unknown_name(sub.id))
                if sub.id not in names:
                    names.append(sub.id)
        return cls(text, node, tuple(names))

    def probe(self) -> None:
        """Evaluate over combinations of the inputs read, including None; raise if one fails."""
        fields = sorted({INPUTS[name][0] for name in self.names})
        for values in itertools.product(*(_PROBE_VALUES[f] for f in fields)):
            case = replace(_PROBE_BASE, **dict(zip(fields, values, strict=True)))
            try:
                self.evaluate(case.names())
            except Exception as exc:
                shown = ", ".join(f"{f}={v!r}" for f, v in zip(fields, values, strict=True))
                absent = [f for f, v in zip(fields, values, strict=True) if v is None]
                hint = f" (a None input: test {absent[0]}_available first)" if absent else ""
                raise _ExpressionError(
                    f"fails for {shown}: {exc}{hint}", "an expression giving True or False"
                ) from exc


def _unknown_name(name: str) -> str:
    message = f"unknown input '{name}'"
    close = difflib.get_close_matches(name, list(INPUTS), n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    elif name.lower() in {"true", "false", "none", "null"}:
        message += "; write True, False or None"
    return message


# ---------------------------------------------------------------- schema
def _ordered(value: tuple[Any, Any]) -> tuple[Any, Any]:
    if value[0] > value[1]:
        raise ValueError(f"low {value[0]} is above high {value[1]}")
    return value


def _quoted_id(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"citation ids must be quoted: write '{value}' in quotes")
    return value


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
HrrRange = Annotated[tuple[Fraction, Fraction], AfterValidator(_ordered)]
Minutes = Annotated[int, Field(ge=1, le=240)]
MinutesRange = Annotated[tuple[Minutes, Minutes], AfterValidator(_ordered)]
Borg = Annotated[int, Field(ge=6, le=20)]
RpeRange = Annotated[tuple[Borg, Borg], AfterValidator(_ordered)]
Tempo = Annotated[int, Field(ge=40, le=220)]
TempoRange = Annotated[tuple[Tempo, Tempo], AfterValidator(_ordered)]
SessionsPerWeek = Annotated[int, Field(ge=1, le=7)]
Weeks = Annotated[int, Field(ge=1, le=104)]
Text = Annotated[str, Field(min_length=1)]
CitationId = Annotated[str, BeforeValidator(_quoted_id), Field(min_length=1)]
Purpose = Literal["calm", "activate", "synchronise"]
Timing = Literal["during", "before_after", "standalone"]
Valence = Literal["positive", "neutral", "negative"]
Arousal = Literal["low", "moderate", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExerciseSet(_Strict):
    """Exercise fields a rule may set (FITT-VP). Intensities are HRR fractions, times minutes."""

    type: Text | None = None  # e.g. "aerobic cycling", "Tai Chi", "Baduanjin"
    sessions_per_week: SessionsPerWeek | None = None
    minutes: MinutesRange | None = None  # per session, (low, high)
    weeks: Weeks | None = None
    intensity_hrr: HrrRange | None = None  # (low, high) fraction of heart-rate reserve
    intensity_hrr_cap: Fraction | None = None  # upper limit applied after all rules
    rpe: RpeRange | None = None  # Borg 6-20
    progression: Text | None = None
    notes: list[Text] = []  # added to, never overridden


class MusicSet(_Strict):
    """Music fields a rule may set: purpose, timing, tempo (beats per minute), minutes."""

    purpose: Purpose | None = None
    timing: Timing | None = None
    tempo_bpm: TempoRange | None = None
    minutes: MinutesRange | None = None
    valence: Valence | None = None
    arousal: Arousal | None = None
    notes: list[Text] = []


class ExerciseDefaults(ExerciseSet):
    type: Text
    sessions_per_week: SessionsPerWeek
    minutes: MinutesRange
    weeks: Weeks
    intensity_hrr: HrrRange
    rpe: RpeRange


class MusicDefaults(MusicSet):
    purpose: Purpose
    timing: Timing
    tempo_bpm: TempoRange
    minutes: MinutesRange
    valence: Valence
    arousal: Arousal


class Defaults(_Strict):
    exercise: ExerciseDefaults
    music: MusicDefaults
    cite: Annotated[list[CitationId], Field(min_length=1)]


class Changes(_Strict):
    exercise: ExerciseSet = ExerciseSet()
    music: MusicSet = MusicSet()


class Rule(_Strict):
    """One rule: when ``when`` holds it fires and its ``set`` is applied by ``priority``."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: Text
    priority: int
    when: Text
    cite: Annotated[list[CitationId], Field(min_length=1)]
    set: Changes = Changes()
    _condition: Condition | None = PrivateAttr(default=None)

    @property
    def condition(self) -> Condition:
        """The checked ``when`` expression (set by :func:`load_rule_set`)."""
        if self._condition is None:
            self._condition = Condition.compile(self.when)
        return self._condition


class RuleSet(_Strict):
    """A validated prescription rule set (see ``prescriptions/README.md``)."""

    name: Text
    version: Text
    description: Text
    hr_max_formula: Literal["tanaka", "fox"] = "tanaka"
    citations: Annotated[dict[CitationId, Text], Field(min_length=1)]
    defaults: Defaults
    rules: list[Rule]
    _source: str = PrivateAttr(default="<memory>")

    @property
    def source(self) -> str:
        """The file the rule set was read from."""
        return self._source


# ---------------------------------------------------------------- loading
def load_rule_set(
    path_or_name: str | os.PathLike[str] | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> RuleSet:
    """Load and check a rule set: a file path, or a name in the ``prescriptions`` folder.

    ``None`` loads ``default.yaml``; a :class:`~pathlib.Path` or a string with a folder in it is
    read as a file; a bare name (``"default"`` or ``"default.yaml"``) is looked up with
    :func:`~addiction_index.resources.content_file` in ``folder`` (else the environment
    variable or the shipped folder). Each ``when`` is compiled and probed (see the module).
    Raises :class:`~addiction_index.errors.ConfigError` naming file, line and key.
    """
    path = _resolve(path_or_name, folder)
    rule_set = load_yaml(path, RuleSet)
    rule_set._source = str(path)
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)

    def fail(loc: tuple[Any, ...], message: str, expected: str | None = None) -> ConfigError:
        key = ".".join(str(p) for p in loc)
        return ConfigError(path, message, line=yaml_line(root, loc), key=key, expected=expected)

    known = ", ".join(rule_set.citations)
    for i, cite in enumerate(rule_set.defaults.cite):
        if cite not in rule_set.citations:
            raise fail(("defaults", "cite", i), f"unknown citation '{cite}'", f"one of {known}")
    seen: set[str] = set()
    for n, rule in enumerate(rule_set.rules):
        if rule.id in seen:
            raise fail(("rules", n, "id"), f"duplicate rule id '{rule.id}'", "a unique id")
        seen.add(rule.id)
        for i, cite in enumerate(rule.cite):
            if cite not in rule_set.citations:
                raise fail(("rules", n, "cite", i), f"unknown citation '{cite}'", f"one of {known}")
        try:
            rule._condition = Condition.compile(rule.when)
            rule._condition.probe()
        except _ExpressionError as exc:
            raise fail(
                ("rules", n, "when"), f"rule '{rule.id}' {rule.when!r}: {exc.message}", exc.expected
            ) from exc
    return rule_set


def _resolve(path_or_name: str | os.PathLike[str] | None, folder: Any) -> Path:
    if path_or_name is None:
        return content_file("prescriptions", "default.yaml", folder)
    path = Path(path_or_name)
    explicit = isinstance(path_or_name, os.PathLike) or len(path.parts) > 1
    if explicit or (folder is None and path.is_file()):
        return path
    name = path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml"
    return content_file("prescriptions", name, folder)
