"""Rule-set schema, the ``when`` expression language, and loading with file/line/key errors.

A rule set is a YAML file in the ``prescriptions/`` content folder (see its README). Each rule's
``when`` is an expression in a small sandboxed language evaluated by ``simpleeval`` (never Python
``eval``): comparisons, ``and``/``or``/``not``, arithmetic, ``in`` with a literal list, the
input names of :data:`~addiction_index.prescriptions.INPUTS` and the unit names of
``_units.UNIT_NAMES`` (``resting_hr > 100 * bpm``). Nothing else: no calls, no attributes, no
subscripts. Every expression is checked when the file is loaded, and probed with absent (None)
inputs and with units, so a rule that forgets ``index_available and ...`` or compares ``age``
with ``bpm`` is refused at load rather than failing in a session. Text literals compared with
``sex``, ``response``, ``mood``, ``energy`` or ``contraindications`` must be values those inputs
can take (the contraindication vocabulary is declared by the rule set).
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

import pint
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr
from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, MultipleExpressions

from addiction_index.datafiles import load_yaml, yaml_line
from addiction_index.errors import ConfigError
from addiction_index.prescriptions._engine import ENUMERATIONS, INPUTS, PrescriptionInputs
from addiction_index.prescriptions._exercise_types import ExerciseTypes, load_exercise_types
from addiction_index.prescriptions._units import ARITHMETIC, UNIT_NAMES, quantity, unit_names
from addiction_index.resources import content_file

__all__ = ["Condition", "ProgressionStep", "Rule", "RuleSet", "load_rule_set"]

# ---------------------------------------------------------------- expressions
_NODES = (
    ast.Expr, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Compare, ast.Eq, ast.NotEq, ast.Lt,
    ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.Name, ast.Load,
    ast.Constant, ast.Tuple, ast.List,
)  # fmt: skip
_OPERATORS = {kind: fn for kind, fn in DEFAULT_OPERATORS.items() if kind in _NODES}
# + - * / only on numbers and quantities; == and != refuse a quantity against a bare number.
_OPERATORS.update({getattr(ast, name): fn for name, fn in ARITHMETIC.items()})
_EXPECTED = (
    "an expression over the inputs " + ", ".join(INPUTS) + " and the units " + ", ".join(UNIT_NAMES)
)
_LITERAL_CHECKED = (*ENUMERATIONS, "contraindications")
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
    "weeks_in_programme": (0.0, 6.0, 20.0),
    "sessions_completed": (0, 30),
    "adherence": (None, 0.5, 0.9),
    "time_in_zone": (None, 0.5, 0.9),
    "response": ("none", "progress", "hold", "step_back"),
    "index_change": (None, -10.0, 10.0),
    "craving_change": (None, -10.0, 10.0),
    "contraindications": ((), ("__probe__",)),
    "mood": (None, "low", "normal"),
    "energy": (None, "low", "normal"),
}


class _ExpressionError(Exception):
    def __init__(self, message: str, expected: str = _EXPECTED) -> None:
        super().__init__(message)
        self.message, self.expected = message, expected


@dataclass(frozen=True)
class Condition:
    """A checked ``when`` expression: its text, parsed tree, the inputs it reads, whether it
    writes units, and the text literals it compares with enumerated inputs."""

    text: str
    node: ast.AST
    names: tuple[str, ...]
    uses_units: bool = False
    literals: tuple[tuple[str, str], ...] = ()  # (input, literal), e.g. ("mood", "low")

    def evaluate(self, names: dict[str, Any]) -> bool:
        """True when the expression holds for these input values (see :data:`INPUTS`).

        ``names`` holds plain values in the units of :data:`INPUTS`; when the expression writes
        units, the numeric ones are turned into pint quantities and the unit names are bound.
        """
        if self.uses_units:
            names = _with_units(names)
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
        units = False
        literals: list[tuple[str, str]] = []
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
            if isinstance(sub, ast.Compare):
                literals += _compared_literals(sub)
            if isinstance(sub, ast.Name):
                if sub.id in UNIT_NAMES:
                    units = True
                    continue
                if sub.id not in INPUTS:
                    raise _ExpressionError(_unknown_name(sub.id))
                if sub.id not in names:
                    names.append(sub.id)
        for name, literal in literals:
            allowed = ENUMERATIONS.get(name)
            if allowed is not None and literal not in allowed:
                shown = ", ".join(repr(a) for a in allowed if a is not None)
                raise _ExpressionError(f"{name} is never {literal!r}", f"one of {shown} for {name}")
        return cls(text, node, tuple(names), units, tuple(dict.fromkeys(literals)))

    def probe(self) -> None:
        """Evaluate over combinations of the inputs read, including None; raise if one fails."""
        fields = sorted({INPUTS[name][0] for name in self.names})
        for values in itertools.product(*(_PROBE_VALUES[f] for f in fields)):
            case = replace(_PROBE_BASE, **dict(zip(fields, values, strict=True)))
            try:
                self.evaluate(case.names())
            except Exception as exc:
                shown = ", ".join(f"{f}={v!r}" for f, v in zip(fields, values, strict=True))
                if _unit_problem(exc):
                    raise _ExpressionError(
                        f"unit mismatch for {shown}: {_unit_text(exc)}",
                        "quantities in compatible units on both sides (e.g. age >= 50 * years,"
                        " resting_hr > 100 * bpm); once an expression writes a unit, write one on"
                        " every number compared with an input",
                    ) from exc
                absent = [f for f, v in zip(fields, values, strict=True) if v is None]
                hint = f" (a None input: test {absent[0]}_available first)" if absent else ""
                raise _ExpressionError(
                    f"fails for {shown}: {exc}{hint}", "an expression giving True or False"
                ) from exc


def _unit_text(exc: Exception) -> str:
    text = str(exc)
    if "Cannot compare" in text:
        return "a number without a unit is compared with a quantity that has one"
    return text


def _unit_problem(exc: Exception) -> bool:
    text = str(exc)
    return isinstance(exc, pint.DimensionalityError) or any(
        part in text
        for part in ("Cannot compare", "Cannot convert", "quantity in", "dimensionless")
    )


def _with_units(names: dict[str, Any]) -> dict[str, Any]:
    out = dict(unit_names())
    for name, value in names.items():
        unit = INPUTS[name].pint_unit if name in INPUTS else None
        if unit is not None and value is not None and not isinstance(value, bool | str):
            out[name] = quantity(value, unit)
        else:
            out[name] = value
    return out


def _compared_literals(node: ast.Compare) -> list[tuple[str, str]]:
    """(input, text) for each text literal compared with an input of a fixed vocabulary."""
    operands = [node.left, *node.comparators]
    inputs = [o.id for o in operands if isinstance(o, ast.Name) and o.id in _LITERAL_CHECKED]
    texts: list[str] = []
    for o in operands:
        items = o.elts if isinstance(o, ast.List | ast.Tuple) else [o]
        texts += [
            i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
        ]
    return [(name, text) for name in inputs for text in texts]


def _unknown_name(name: str) -> str:
    message = f"unknown input '{name}'"
    close = difflib.get_close_matches(name, [*INPUTS, *UNIT_NAMES], n=1)
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
Term = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProgressionStep(_Strict):
    """One step of progression, applied once for ``response`` "progress" or "step_back".

    "progress" adds ``minutes`` to both ends of the session minutes up to ``minutes_max``; once
    there, it adds ``intensity_hrr`` up to ``intensity_hrr_max``. "step_back" first lowers the
    intensity down to ``intensity_hrr_min``, then the minutes down to ``minutes_min``.
    """

    minutes: Annotated[int, Field(ge=0, le=60)]
    minutes_min: Minutes
    minutes_max: Minutes
    intensity_hrr: Annotated[float, Field(ge=0.0, le=0.2)]
    intensity_hrr_min: Fraction
    intensity_hrr_max: Fraction


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
    progression_step: ProgressionStep | None = None
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
    veto: Text | None = None  # a contraindication: no exercise, do this instead
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
    exercise_types_file: Text | None = None  # next to this file; default exercise-types.yaml
    golden: Text | None = None  # file of golden cases, next to this file
    contraindications: dict[Term, Text] = {}  # vocabulary: term -> meaning and citation
    citations: Annotated[dict[CitationId, Text], Field(min_length=1)]
    defaults: Defaults
    rules: list[Rule]
    _source: str = PrivateAttr(default="<memory>")
    _types: ExerciseTypes | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The file the rule set was read from."""
        return self._source

    @property
    def exercise_types(self) -> ExerciseTypes:
        """The exercise types the rule set's ``type`` values name (loaded with the rule set)."""
        if self._types is None:
            self._types = load_exercise_types(content_file("prescriptions", _TYPES_FILE))
        return self._types


# ---------------------------------------------------------------- loading
_TYPES_FILE = "exercise-types.yaml"


def _types_path(path: Path, rule_set: RuleSet) -> Path:
    """The exercise-types file: as named (next to the rule set), else the sibling default,
    else the shipped one."""
    if rule_set.exercise_types_file is not None:
        return path.parent / rule_set.exercise_types_file
    sibling = path.parent / _TYPES_FILE
    return sibling if sibling.is_file() else content_file("prescriptions", _TYPES_FILE)


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

    types_path = _types_path(path, rule_set)
    if not types_path.is_file():
        raise fail(
            ("exercise_types_file",), f"no such file: {types_path}", "a file next to this one"
        )
    rule_set._types = load_exercise_types(types_path)
    kinds = rule_set.exercise_types.types
    type_owners = [(("defaults", "exercise", "type"), rule_set.defaults.exercise.type)]
    type_owners += [
        (("rules", n, "set", "exercise", "type"), rule.set.exercise.type)
        for n, rule in enumerate(rule_set.rules)
        if rule.set.exercise.type is not None
    ]
    for loc, kind in type_owners:
        if kind not in kinds:
            close = difflib.get_close_matches(kind, list(kinds), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise fail(loc, f"unknown exercise type '{kind}'{hint}",
                       f"a type of {types_path.name}: " + ", ".join(kinds))  # fmt: skip
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
        vocabulary = ", ".join(rule_set.contraindications) or "(none declared)"
        for name, literal in rule._condition.literals:
            if name == "contraindications" and literal not in rule_set.contraindications:
                raise fail(
                    ("rules", n, "when"),
                    f"rule '{rule.id}': unknown contraindication {literal!r}",
                    f"a term declared under contraindications: {vocabulary}",
                )
        if rule.veto is not None:
            ex = rule.set.exercise.model_dump(exclude_none=True, exclude={"notes"})
            if ex:
                raise fail(
                    ("rules", n, "set", "exercise", next(iter(ex))),
                    f"veto rule '{rule.id}' sets exercise fields, but a veto removes the exercise",
                    "only notes under set.exercise of a veto rule",
                )
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
