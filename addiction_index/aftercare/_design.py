"""The design matrix of risk factors for Cox models (cohort analysis and the retrained risk score).

Encoding (:class:`FactorEncoder`):

* numeric factors (years of use, earlier treatments, instrument totals) enter as they are, so a
  hazard ratio is *per unit* (per year, per treatment, per scale point);
* ``lives_where_registered`` (1/0) enters as one 0/1 term, HR of yes vs no;
* a categorical factor becomes one 0/1 term per level against its most frequent level (the
  reference, so that the reference group is the largest and the HRs are most stable); levels
  seen in fewer than ``min_level_rows`` rows are pooled into ``other`` first, and when that pool
  is itself smaller than ``min_level_rows`` its rows count as not recorded (no hazard ratio is
  ever shown for fewer than ``min_level_rows`` releases); a level unseen in training is treated
  the same way at prediction;
* a factor present in fewer than ``min_present`` of the rows, or with no variation, is skipped
  and the reason is kept in ``skipped_``.

Missing values stay NaN (``impute=False``: the caller drops incomplete rows) or are replaced by
the training median / the reference level (``impute=True``: for prediction on new residents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from addiction_index.aftercare._contract import CATEGORICAL_FACTORS
from addiction_index.errors import InputError

__all__ = ["FACTOR_LABELS", "FactorEncoder", "Term"]

#: Words for each factor (reports and reasons; never a person's value).
FACTOR_LABELS = {
    "drug_type": "main drug",
    "years_of_use": "years of drug use (per year)",
    "prior_treatments": "earlier compulsory treatments (per treatment)",
    "employment": "employment",
    "income": "income band",
    "marital_status": "marital status",
    "lives_where_registered": "lives where registered (yes vs no)",
    "sds": "dependence severity, SDS (per point)",
    "phq9": "depression, PHQ-9 (per point)",
    "gad7": "anxiety, GAD-7 (per point)",
    "mspss": "perceived social support, MSPSS (per point)",
    "apgar": "family functioning, APGAR (per point)",
    "index_trend": "addiction index trend in the centre (per point/month)",
    "exercise_adherence": "exercise adherence in the centre (per 10 % of sessions)",
}
OTHER = "other"


@dataclass(frozen=True)
class Term:
    """One column of the design matrix."""

    column: str
    factor: str
    label: str
    level: str | None = None
    scale: float = 1.0  # the column is value / scale (exercise adherence: per 10 %)


class FactorEncoder:
    """Encode risk factors for a Cox model (module docstring); scikit-learn style fit/transform."""

    def __init__(
        self,
        factors: Sequence[str],
        *,
        impute: bool = False,
        min_present: float = 0.8,
        min_level_rows: int = 5,
    ) -> None:
        self.factors = factors
        self.impute = impute
        self.min_present = min_present
        self.min_level_rows = min_level_rows

    def fit(self, frame: pd.DataFrame) -> FactorEncoder:
        missing = [f for f in self.factors if f not in frame.columns]
        if missing:
            raise InputError("factors", missing, "columns of the outcomes frame")
        self.terms_: list[Term] = []
        self.skipped_: dict[str, str] = {}
        self.medians_: dict[str, float] = {}
        self.levels_: dict[str, list[str]] = {}
        self.references_: dict[str, str] = {}
        for factor in self.factors:
            s = frame[factor]
            present = float(s.notna().mean()) if len(s) else 0.0
            if present < self.min_present:
                self.skipped_[factor] = (
                    f"recorded for {100 * present:.0f} % of releases "
                    f"(needs {100 * self.min_present:.0f} %)"
                )
                continue
            if factor in CATEGORICAL_FACTORS or s.dtype == object:
                text = s.dropna().astype(str)
                counts = text.value_counts()
                rare = counts[counts < self.min_level_rows].index
                counts = text.where(~text.isin(rare), OTHER).value_counts()
                if counts.get(OTHER, 0) < self.min_level_rows:
                    counts = counts.drop(OTHER, errors="ignore")
                if len(counts) < 2:
                    self.skipped_[factor] = "no variation (one level only)"
                    continue
                order = sorted(counts.index, key=lambda lv: (-counts[lv], lv))
                self.references_[factor] = order[0]
                self.levels_[factor] = order
                for level in order[1:]:
                    self.terms_.append(
                        Term(
                            f"{factor}[{level}]",
                            factor,
                            f"{FACTOR_LABELS.get(factor, factor)}: {level} vs {order[0]}",
                            level,
                        )
                    )
            else:
                values = pd.to_numeric(s, errors="coerce").astype(float)
                if values.dropna().nunique() < 2:
                    self.skipped_[factor] = "no variation (every recorded value is the same)"
                    continue
                self.medians_[factor] = float(values.median())
                scale = 0.1 if factor == "exercise_adherence" else 1.0
                self.terms_.append(Term(factor, factor, FACTOR_LABELS.get(factor, factor),
                                        scale=scale))  # fmt: skip
        return self

    def state(self) -> dict[str, Any]:
        """The fitted state as JSON-ready data (for saving a model's coefficients as data)."""
        return {"factors": list(self.factors), "impute": self.impute,
                "min_present": self.min_present, "min_level_rows": self.min_level_rows,
                "terms": [asdict(t) for t in self.terms_], "skipped": self.skipped_,
                "medians": self.medians_, "levels": self.levels_,
                "references": self.references_}  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FactorEncoder:
        """Rebuild a fitted encoder from :meth:`state`."""
        enc = cls(state["factors"], impute=state["impute"], min_present=state["min_present"],
                  min_level_rows=state["min_level_rows"])  # fmt: skip
        enc.terms_ = [Term(**t) for t in state["terms"]]
        enc.skipped_ = dict(state["skipped"])
        enc.medians_ = {k: float(v) for k, v in state["medians"].items()}
        enc.levels_ = {k: list(v) for k, v in state["levels"].items()}
        enc.references_ = dict(state["references"])
        return enc

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The design matrix (one column per :class:`Term`, index of ``frame``)."""
        if not hasattr(self, "terms_"):
            raise InputError("encoder", "unfitted", "fit() before transform()")
        out = {}
        for term in self.terms_:
            s = (
                frame[term.factor]
                if term.factor in frame.columns
                else pd.Series(np.nan, frame.index)
            )
            if term.level is None:
                values = pd.to_numeric(s, errors="coerce").astype(float)
                if self.impute:
                    values = values.fillna(self.medians_[term.factor])
                out[term.column] = values / term.scale
            else:
                known = set(self.levels_[term.factor])
                text = s.map(lambda v: None if v is None or v != v else str(v))
                spare = OTHER if OTHER in known else None
                text = text.map(lambda v, k=known, o=spare: v if v is None or v in k else o)
                if self.impute:
                    text = text.fillna(self.references_[term.factor])
                column = (text == term.level).astype(float)
                out[term.column] = column.where(text.notna(), np.nan)
        return pd.DataFrame(out, index=frame.index, dtype=float)
