"""Intake risk factors as data (``instruments/risk-factors.yaml``): definitions and checks.

Each factor has a type (``choice``, ``integer``, ``number``, ``boolean``), its allowed values or
range and unit, texts in English and Chinese, the EVIDENCE items it rests on, and ``risk``: the
values the default due-list ordering counts as a risk (with the basis of that choice).
:func:`check_factors` checks raw entries (from a form, the CLI or a CSV) the way
:func:`~addiction_index.aftercare.check_form` checks instrument answers: every accepted value
back, and one message per bad factor.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.aftercare._instruments import Texts
from addiction_index.datafiles import load_yaml
from addiction_index.resources import content_dir

__all__ = [
    "FACTOR_IDS",
    "FactorCheck",
    "RiskFactors",
    "check_factors",
    "load_risk_factors",
    "parse_factor",
]

FACTOR_IDS = (
    "drug_type",
    "years_of_use",
    "prior_treatments",
    "employment",
    "income",
    "marital_status",
    "lives_where_registered",
)
"""The factors every risk-factors file defines (the outcomes table has one column each)."""

Evidence = Annotated[str, Field(pattern=r"^\d+\.\d+$")]
_TRUE = {"true", "yes", "y", "1", "是", "对"}
_FALSE = {"false", "no", "n", "0", "否", "不是"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Risk(_Strict):
    """Which values count as a risk: listed ``values``, or ``min`` and more; and why."""

    values: list[str | bool] | None = None
    min: float | None = None
    basis: Annotated[str, Field(min_length=1)]


class Factor(_Strict):
    """One risk factor's definition."""

    type: Literal["choice", "integer", "number", "boolean"]
    text: Texts
    choices: dict[str, Texts] | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    evidence: Annotated[list[Evidence], Field(min_length=1)]
    risk: Risk

    @model_validator(mode="after")
    def _consistent(self) -> Factor:
        if (self.type == "choice") != (self.choices is not None):
            raise ValueError("'choices' is needed for a choice and only for a choice")
        if self.type in ("integer", "number") and (self.min is None or self.max is None):
            raise ValueError(f"a {self.type} factor needs 'min' and 'max'")
        if self.choices is not None and self.risk.values is not None:
            unknown = [v for v in self.risk.values if v not in self.choices]
            if unknown:
                raise ValueError(f"risk values {unknown} are not choices")
        return self

    def counts_as_risk(self, value: Any) -> bool:
        """Whether ``value`` is one of the values this factor counts as a risk."""
        if value is None:
            return False
        if self.risk.values is not None and value in self.risk.values:
            return True
        return (
            self.risk.min is not None
            and not isinstance(value, bool | str)
            and (value >= self.risk.min)
        )


class InstrumentRisk(_Strict):
    """The bands (levels) of an instrument counted as a risk, and why."""

    levels: Annotated[list[str], Field(min_length=1)]
    basis: Annotated[str, Field(min_length=1)]


class RiskFactors(_Strict):
    """The whole risk-factors file."""

    version: Annotated[str, Field(min_length=1)]
    factors: dict[str, Factor]
    instrument_risks: dict[str, InstrumentRisk] = {}

    @model_validator(mode="after")
    def _complete(self) -> RiskFactors:
        missing = [f for f in FACTOR_IDS if f not in self.factors]
        if missing:
            raise ValueError(f"factors must define {', '.join(missing)}")
        return self


def load_risk_factors(folder: str | os.PathLike[str] | None = None) -> RiskFactors:
    """Load ``risk-factors.yaml`` from the instruments folder (errors name file, line, key)."""
    return load_yaml(content_dir("instruments", folder) / "risk-factors.yaml", RiskFactors)


def parse_factor(factor: Factor, raw: object) -> str | int | float | bool | None:
    """``raw`` as a value of ``factor`` (None for an empty entry); ValueError saying why not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else raw
    if factor.type == "boolean":
        if isinstance(text, bool):
            return text
        folded = str(text).casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not yes or no (expected true/false, yes/no, 是/否)")
    if factor.type == "choice":
        assert factor.choices is not None
        folded = str(text).casefold()
        for key, texts in factor.choices.items():
            if folded in (key.casefold(), texts.en.casefold(), texts.zh_cn.casefold()):
                return key
        raise ValueError(f"{raw!r} is not one of {', '.join(factor.choices)}")
    try:
        number = float(text) if not isinstance(text, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    assert factor.min is not None and factor.max is not None
    unit = f" {factor.unit}" if factor.unit else ""
    if not math.isfinite(number):
        raise ValueError(f"{raw!r} is not a number (expected {factor.min:g}-{factor.max:g}{unit})")
    if factor.type == "integer" and number != int(number):
        raise ValueError(f"{raw!r} is not a whole number")
    if not factor.min <= number <= factor.max:
        raise ValueError(f"{number:g} is out of range {factor.min:g}-{factor.max:g}{unit}")
    return int(number) if factor.type == "integer" else number


@dataclass(frozen=True)
class FactorCheck:
    """The accepted factor values and one message per bad factor (empty when all are fine)."""

    values: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when every entry was accepted."""
        return not self.errors


def check_factors(definitions: RiskFactors, raw: Mapping[str, object]) -> FactorCheck:
    """Check raw factor entries (factor id → value or text); empty entries are left out."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, entry in raw.items():
        factor = definitions.factors.get(str(key))
        if factor is None:
            errors[str(key)] = "not a risk factor: expected one of " + ", ".join(
                definitions.factors
            )
            continue
        try:
            value = parse_factor(factor, entry)
        except ValueError as exc:
            errors[str(key)] = str(exc)
            continue
        if value is not None:
            values[str(key)] = value
    return FactorCheck(values, errors)
