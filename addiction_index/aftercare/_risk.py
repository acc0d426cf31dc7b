"""A relapse-risk score per resident at release: transparent by default, retrainable.

Transparent (default): the coefficients are data in ``models/relapse-risk.yaml`` (each with its
EVIDENCE item, whether its size is published or a convention, and what is assumed when it is
missing). log-odds = logit(base rate) + Σ (exposure − typical) × ln(OR); the **value is 0-100**,
100 × logistic(log-odds), probability-like but anchored by convention at the typical resident
(EVIDENCE 6.1's 47.6 % relapse), not calibrated for a centre. The level (low / moderate / high)
comes from cut-offs in the same file; the reasons are the factors that raise the score most, in
words (never a person's values: "earlier compulsory treatments", not a count or a drug).

Retrained (:mod:`._risk_training`): a Cox model fitted on the centre's own follow-ups; with
``model=`` the value becomes 100 × the model's probability of relapse within its horizon.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.errors import InputError
from addiction_index.resources import content_dir

if TYPE_CHECKING:
    from addiction_index.aftercare._risk_training import TrainedRelapseModel

__all__ = [
    "RiskDefinition",
    "RiskResult",
    "load_risk_definition",
    "relapse_risk",
    "relapse_risk_frame",
]


class OnlyIf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    in_: list[str] = Field(alias="in")


class Condition(BaseModel):
    """One test on one column; a flag factor holds when any of its applicable conditions does."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    column: str
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None
    equals: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    only_if: OnlyIf | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.in_, self.not_in, self.equals, self.at_least, self.at_most]
        if sum(t is not None for t in tests) != 1:
            raise ValueError("give exactly one of in, not_in, equals, at_least, at_most")
        return self


class Factor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    reason: str
    protective: str
    kind: Literal["flag", "linear"]
    when: list[Condition] = Field(default_factory=list)
    column: str | None = None
    reference: float = 0.0
    per: float = 1.0
    min: float = -math.inf
    max: float = math.inf
    odds_ratio: float = Field(gt=0.0)
    typical: float
    basis: Literal["published", "convention"]
    cite: list[str] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Factor:
        if self.kind == "flag" and not self.when:
            raise ValueError("a flag factor needs 'when' conditions")
        if self.kind == "linear" and (self.column is None or self.per == 0):
            raise ValueError("a linear factor needs 'column' and a non-zero 'per'")
        return self

    @property
    def columns(self) -> list[str]:
        return [self.column] if self.column else list(dict.fromkeys(c.column for c in self.when))


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    below: float | None = None


class Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: float = Field(gt=0.0, lt=1.0)
    cite: list[str] = Field(default_factory=list)
    note: str = ""


class RiskDefinition(BaseModel):
    """The transparent relapse-risk score (``models/relapse-risk.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    kind: Literal["transparent"]
    validated: bool
    output: str
    citations: dict[str, str]
    base: Base
    levels: list[Level] = Field(min_length=2)
    top_reasons: int = Field(default=3, ge=1, le=10)
    factors: list[Factor] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> RiskDefinition:
        cited = set(self.base.cite) | {c for f in self.factors for c in f.cite}
        unknown = cited - set(self.citations)
        if unknown:
            raise ValueError(f"unknown citation ids: {', '.join(sorted(unknown))}")
        cuts = [lv.below for lv in self.levels]
        if cuts[-1] is not None or any(c is None for c in cuts[:-1]):
            raise ValueError("every level but the last needs 'below'; the last none")
        if cuts[:-1] != sorted(cuts[:-1]):
            raise ValueError("level cut-offs ('below') must increase")
        return self

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def level(self, value: float) -> str:
        """The level name of a 0-100 value."""
        for lv in self.levels:
            if lv.below is None or value < lv.below:
                return lv.name
        return self.levels[-1].name  # pragma: no cover (the last level has no cut-off)


def load_risk_definition(
    name: str = "relapse-risk", folder: str | os.PathLike[str] | None = None
) -> RiskDefinition:
    """Load ``<name>.yaml`` from the models content folder (or a path to a YAML file)."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = content_dir("models", folder) / f"{name}.yaml"
    return load_yaml(path, RiskDefinition)


@dataclass
class RiskResult:
    """The relapse risk of one resident.

    ``value`` 0-100 (see the module docstring for what it means for each model), ``level`` from
    the cut-offs, ``reasons`` the factors raising it most (words only), ``protective`` those
    lowering it most, ``assumed`` what was taken for each missing factor, ``contributions`` the
    log-odds (transparent) or log-hazard (retrained) points per factor.
    """

    value: float
    level: str
    reasons: list[str]
    protective: list[str]
    assumed: list[str]
    contributions: dict[str, float] = field(repr=False)
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "level": self.level, "reasons": self.reasons,
                "protective": self.protective, "assumed": self.assumed,
                "contributions": self.contributions, "model": self.model}  # fmt: skip


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any, column: str) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"row[{column!r}]", value, "a number") from None


def _test(cond: Condition, row: Mapping[str, Any]) -> bool | None:
    """True/False, or None when the column is missing or the condition does not apply."""
    value = row.get(cond.column)
    if _missing(value):
        return None
    if cond.only_if is not None:
        gate = row.get(cond.only_if.column)
        if _missing(gate) or str(gate).lower() not in {v.lower() for v in cond.only_if.in_}:
            return None
    if cond.in_ is not None:
        return str(value).strip().lower() in {v.lower() for v in cond.in_}
    if cond.not_in is not None:
        return str(value).strip().lower() not in {v.lower() for v in cond.not_in}
    number = _number(value, cond.column)
    if cond.equals is not None:
        return number == cond.equals
    if cond.at_least is not None:
        return number >= cond.at_least
    return number <= cond.at_most  # type: ignore[operator]


def exposure(factor: Factor, row: Mapping[str, Any]) -> float | None:
    """The factor's exposure for ``row`` (module docstring of the YAML), None when missing."""
    if factor.kind == "flag":
        results = [_test(c, row) for c in factor.when]
        known = [r for r in results if r is not None]
        return None if not known else float(any(known))
    value = row.get(factor.column)  # type: ignore[arg-type]
    if _missing(value):
        return None
    x = (_number(value, str(factor.column)) - factor.reference) / factor.per
    return min(max(x, factor.min), factor.max)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _ranked(contributions: dict[str, float], words: dict[str, str], sign: int, top: int):
    chosen = sorted(
        (name for name, c in contributions.items() if sign * c > 1e-12),
        key=lambda name: -sign * contributions[name],
    )
    return [words[name] for name in chosen[:top]]


def relapse_risk(
    row: Mapping[str, Any],
    definition: RiskDefinition | None = None,
    model: TrainedRelapseModel | None = None,
) -> RiskResult:
    """Relapse risk of one resident from a mapping of outcome-frame columns (module docstring).

    Optional keys beyond the outcomes frame: ``index_trend`` (addiction-index points per month
    in the centre), ``exercise_adherence`` (0-1, share of prescribed sessions done),
    ``aftercare`` and ``counselling_compliance`` (True/False). Missing keys are allowed; each
    one is listed in ``assumed``. With ``model`` (a retrained Cox model) the value is 100 × its
    probability of relapse within the model's horizon and the levels come from ``definition``.
    """
    if isinstance(row, pd.Series):
        row = row.to_dict()
    if not isinstance(row, Mapping):
        raise InputError("row", type(row).__name__, "a mapping of column -> value")
    definition = definition or load_risk_definition()
    if model is not None:
        return model.risk(row, definition)
    logit = math.log(definition.base.rate / (1.0 - definition.base.rate))
    contributions: dict[str, float] = {}
    assumed: list[str] = []
    for factor in definition.factors:
        x = exposure(factor, row)
        if x is None:
            x = factor.typical
            if factor.kind == "flag":
                what = ("absent" if factor.typical == 0
                        else f"at an assumed prevalence of {factor.typical:.0%}")  # fmt: skip
            else:
                what = "at its typical value"
            assumed.append(f"{factor.name} not recorded: taken {what} (convention), adds nothing")
        contributions[factor.name] = (x - factor.typical) * math.log(factor.odds_ratio)
    value = 100.0 * _logistic(logit + sum(contributions.values()))
    top = definition.top_reasons
    up = {f.name: f.reason for f in definition.factors}
    down = {f.name: f.protective for f in definition.factors}
    return RiskResult(
        value=value,
        level=definition.level(value),
        reasons=_ranked(contributions, up, 1, top),
        protective=_ranked(contributions, down, -1, top),
        assumed=assumed,
        contributions=contributions,
        model=definition.label,
    )


def relapse_risk_frame(
    frame: pd.DataFrame,
    definition: RiskDefinition | None = None,
    model: TrainedRelapseModel | None = None,
) -> pd.DataFrame:
    """:func:`relapse_risk` of every row: ``subject``, ``risk_value`` (0-100), ``risk_level``,
    ``risk_reasons``, ``risk_assumed`` (texts joined by "; "), index of ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", type(frame).__name__, "a pandas DataFrame")
    definition = definition or load_risk_definition()
    results = [relapse_risk(r, definition, model) for r in frame.to_dict("records")]
    return pd.DataFrame(
        {
            "subject": frame["subject"] if "subject" in frame.columns else None,
            "risk_value": [r.value for r in results],
            "risk_level": [r.level for r in results],
            "risk_reasons": ["; ".join(r.reasons) for r in results],
            "risk_assumed": ["; ".join(r.assumed) for r in results],
        },
        index=frame.index,
    )
