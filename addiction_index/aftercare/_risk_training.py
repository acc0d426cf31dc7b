"""Retraining the relapse-risk score on a centre's own follow-up outcomes (a Cox model).

:func:`train_relapse_model` fits a lifelines ``CoxPHFitter`` (ridge ``penalizer=0.1`` by
default: stronger than the cohort report's 0.01 because this model predicts for new residents
and has many terms for a few hundred releases) on the outcomes frame's risk factors plus the
in-centre columns ``index_trend`` and ``exercise_adherence`` when present. Missing values are
imputed with the training median / the most frequent level (:class:`._design.FactorEncoder`).

Validation: K-fold cross-validation **grouped by subject** (a person's several releases are
never split between training and test), Harrell's concordance index on each test fold
(lifelines ``concordance_index``; 0.5 = chance, 1 = perfect ranking of times to relapse).

Saving: a lifelines fitter cannot be written by skops (``TypeError: no default __reduce__``), and
the project's loader refuses non-scikit-learn types anyway, so the fitted **coefficients are
saved as data**: ``NAME.json`` (encoder state, coefficients, covariate means, baseline survival
at the horizon, c-index, versions) and ``NAME.card.md`` (the model card). Prediction needs only
those numbers: P(relapse by h | x) = 1 − S0(h)^exp((x − mean)·β).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.aftercare._contract import RISK_FACTORS, check_outcomes
from addiction_index.aftercare._design import FactorEncoder
from addiction_index.aftercare._survival import horizon_days
from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError
from addiction_index.models._artifact import _json_ready, _write_atomic, artifact_paths

if TYPE_CHECKING:
    from addiction_index.aftercare._risk import RiskDefinition, RiskResult

__all__ = [
    "IN_CENTRE_COLUMNS",
    "TrainedRelapseModel",
    "cross_validate_cindex",
    "load_relapse_model",
    "save_relapse_model",
    "train_relapse_model",
]

IN_CENTRE_COLUMNS = ("index_trend", "exercise_adherence")
FORMAT = "relapse-cox-coefficients/1"


def _fit_cox(design: pd.DataFrame, frame: pd.DataFrame, penalizer: float):
    from lifelines import CoxPHFitter

    data = design.assign(_T=frame["followed_days"].to_numpy(float),
                         _E=frame["relapsed"].to_numpy(bool))  # fmt: skip
    cph = CoxPHFitter(penalizer=penalizer, l1_ratio=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(data, duration_col="_T", event_col="_E")
    return cph


def _prepare(frame: pd.DataFrame, factors: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    frame = check_outcomes(frame)
    if factors is None:
        factors = [*RISK_FACTORS, *(c for c in IN_CENTRE_COLUMNS if c in frame.columns)]
    missing = [f for f in factors if f not in frame.columns]
    if missing:
        raise InputError("factors", missing, "columns of the outcomes frame")
    return frame, list(factors)


def _subject_folds(subjects: pd.Series, folds: int, seed: int) -> list[np.ndarray]:
    unique = np.array(sorted(subjects.unique()))
    if folds < 2 or folds > len(unique):
        raise InputError("folds", folds, f"2 to {len(unique)} (the number of subjects)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(unique)
    fold_of = {s: i % folds for i, s in enumerate(order)}
    assigned = subjects.map(fold_of).to_numpy()
    return [np.flatnonzero(assigned == k) for k in range(folds)]


def cross_validate_cindex(
    frame: pd.DataFrame,
    factors: Sequence[str] | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    penalizer: float = 0.1,
    min_present: float = 0.5,
) -> dict[str, Any]:
    """Subject-grouped K-fold concordance index of the Cox model (module docstring).

    Returns ``mean``, ``sd`` (across folds), ``folds`` (c-index, test rows and relapses per
    fold), ``scheme`` (text) and ``seed``.
    """
    from lifelines.utils import concordance_index

    frame, factors = _prepare(frame, factors)
    per_fold = []
    for k, test in enumerate(_subject_folds(frame["subject"], folds, seed)):
        train = np.setdiff1d(np.arange(len(frame)), test)
        tr, te = frame.iloc[train], frame.iloc[test]
        enc = FactorEncoder(factors, impute=True, min_present=min_present).fit(tr)
        cph = _fit_cox(enc.transform(tr), tr, penalizer)
        lp = enc.transform(te)[list(cph.params_.index)].to_numpy() @ cph.params_.to_numpy()
        c = concordance_index(te["followed_days"], -lp, te["relapsed"])
        per_fold.append({"fold": k, "c_index": float(c), "n_test": len(te),
                         "relapses_test": int(te["relapsed"].sum())})  # fmt: skip
    values = np.array([f["c_index"] for f in per_fold])
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        "folds": per_fold,
        "seed": seed,
        "scheme": (
            f"{folds}-fold cross-validation grouped by subject (shuffled with seed {seed}); "
            "Harrell's concordance index of the linear predictor on each test fold"
        ),
    }


@dataclass
class TrainedRelapseModel:
    """A Cox relapse model kept as numbers (module docstring); fitted attributes only."""

    name: str
    encoder: dict[str, Any]  # FactorEncoder.state()
    coefficients: dict[str, float]  # design column -> log hazard ratio
    means: dict[str, float]  # design column -> training mean (centring)
    baseline_survival: float  # S0 at horizon_days, at the mean covariates
    horizon_days: int
    penalizer: float
    cindex: dict[str, Any]
    data: dict[str, Any]
    created: str
    versions: dict[str, str] = field(default_factory=dict)

    def _encoder(self) -> FactorEncoder:
        return FactorEncoder.from_state(self.encoder)

    def linear_predictor(self, frame: pd.DataFrame) -> np.ndarray:
        """(x − mean)·β for every row (log hazard relative to the average training resident)."""
        design = self._encoder().transform(frame)
        cols = list(self.coefficients)
        beta = np.array([self.coefficients[c] for c in cols])
        mean = np.array([self.means[c] for c in cols])
        return (design[cols].to_numpy(float) - mean) @ beta

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """P(relapse within ``horizon_days``) for every row, 0-1."""
        return 1.0 - self.baseline_survival ** np.exp(self.linear_predictor(frame))

    def risk(self, row: Mapping[str, Any], definition: RiskDefinition) -> RiskResult:
        """A :class:`RiskResult` for one row; contributions in log-hazard points per factor."""
        from addiction_index.aftercare._design import FACTOR_LABELS
        from addiction_index.aftercare._risk import RiskResult

        one = pd.DataFrame([dict(row)])
        enc = self._encoder()
        design = enc.transform(one)
        contributions: dict[str, float] = {}
        for term in enc.terms_:
            part = (design[term.column].iloc[0] - self.means[term.column]) * self.coefficients[
                term.column
            ]
            contributions[term.factor] = contributions.get(term.factor, 0.0) + float(part)
        assumed = [
            f"{f} not recorded: training median or most frequent level"
            for f in dict.fromkeys(t.factor for t in enc.terms_)
            if f not in row or row[f] is None or (isinstance(row[f], float) and math.isnan(row[f]))
        ]
        value = 100.0 * float(self.probability(one)[0])

        def words(name: str) -> str:
            return FACTOR_LABELS.get(name, name).split(" (")[0].split(",")[0]

        up = sorted(
            (n for n, c in contributions.items() if c > 1e-12), key=lambda n: -contributions[n]
        )
        down = sorted(
            (n for n, c in contributions.items() if c < -1e-12), key=lambda n: contributions[n]
        )
        top = definition.top_reasons
        return RiskResult(
            value=value,
            level=definition.level(value),
            reasons=[words(n) for n in up[:top]],
            protective=[words(n) for n in down[:top]],
            assumed=assumed,
            contributions=contributions,
            model=f"{self.name} (Cox, retrained; c-index {self.cindex['mean']:.2f})",
        )

    def to_dict(self) -> dict[str, Any]:
        return _json_ready({"format": FORMAT, "statement": NOT_A_DIAGNOSIS, **self.__dict__})


def _versions() -> dict[str, str]:
    return {
        "addiction_index": __version__,
        "lifelines": importlib.metadata.version("lifelines"),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def train_relapse_model(
    frame: pd.DataFrame,
    factors: Sequence[str] | None = None,
    *,
    name: str = "relapse-cox",
    penalizer: float = 0.1,
    folds: int = 5,
    seed: int = 0,
    horizon_months: float = 12,
    min_present: float = 0.5,
) -> TrainedRelapseModel:
    """Cross-validate (:func:`cross_validate_cindex`) and fit on all rows (module docstring).

    ``factors`` defaults to every risk factor of the outcomes frame plus the in-centre columns
    present. The model predicts the probability of relapse within ``horizon_months``.
    """
    frame, factors = _prepare(frame, factors)
    if int(frame["relapsed"].sum()) < 10:
        raise InputError("frame", f"{int(frame['relapsed'].sum())} relapses", "at least 10")
    cindex = cross_validate_cindex(
        frame, factors, folds=folds, seed=seed, penalizer=penalizer, min_present=min_present
    )
    enc = FactorEncoder(factors, impute=True, min_present=min_present).fit(frame)
    design = enc.transform(frame)
    cph = _fit_cox(design, frame, penalizer)
    days = horizon_days(horizon_months)
    s0 = cph.baseline_survival_.iloc[:, 0]
    return TrainedRelapseModel(
        name=name,
        encoder=enc.state(),
        coefficients={str(k): float(v) for k, v in cph.params_.items()},
        means={str(k): float(v) for k, v in design.mean().items()},
        baseline_survival=float(s0.loc[s0.index <= days].iloc[-1]),
        horizon_days=days,
        penalizer=penalizer,
        cindex=cindex,
        data={
            "releases": len(frame),
            "subjects": int(frame["subject"].nunique()),
            "relapses": int(frame["relapsed"].sum()),
            "lost": int((frame["lost"] & ~frame["relapsed"]).sum()),
            "median_followed_days": float(frame["followed_days"].median()),
            "skipped": enc.skipped_,
        },
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=_versions(),
    )


def _card(model: TrainedRelapseModel) -> str:
    hr = "\n".join(f"| {c} | {math.exp(b):.3g} |" for c, b in sorted(model.coefficients.items()))
    folds = ", ".join(f"{f['c_index']:.3f}" for f in model.cindex["folds"])
    d = model.data
    skipped = "; ".join(f"{k}: {v}" for k, v in d["skipped"].items()) or "none"
    return f"""# Model card: {model.name}

**{NOT_A_DIAGNOSIS}** The relapse-risk score is decision support for aftercare planning.

## What it is
A Cox proportional-hazards model of the time from release to relapse, retrained on this centre's
own follow-ups. It gives P(relapse within {model.horizon_days} days) per resident, 0-100.
Coefficients are stored as data (lifelines fitters cannot be saved with skops).

## Data
{d["releases"]} releases of {d["subjects"]} people, {d["relapses"]} relapses, {d["lost"]} lost or
refused before a relapse was seen (censored at their last known contact); median follow-up
{d["median_followed_days"]:.0f} days. Factors skipped: {skipped}.

## Validation
{model.cindex["scheme"]}. Concordance index {model.cindex["mean"]:.3f} (SD {model.cindex["sd"]:.3f}
across folds; folds: {folds}). 0.5 is chance. This is internal validation on one centre's cohort,
not an external or clinical validation.

## Hazard ratios (ridge penalizer {model.penalizer}; missing values imputed)
| term | HR |
|---|---|
{hr}

## Limits
Proportional hazards assumed; people lost to follow-up are censored, which is optimistic if the
lost relapse more often (EVIDENCE 8.3); the in-centre terms (index trend, exercise adherence) are
only as good as their recording. Retrain when the population or the follow-up practice changes.
"""


def save_relapse_model(path: str | os.PathLike[str], model: TrainedRelapseModel) -> dict[str, Path]:
    """Write ``NAME.json`` (the coefficients as data) and ``NAME.card.md``; returns both paths."""
    paths = artifact_paths(path)
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(paths["json"], json.dumps(model.to_dict(), indent=2, ensure_ascii=False))
    _write_atomic(paths["card"], _card(model))
    return {"json": paths["json"], "card": paths["card"]}


def load_relapse_model(path: str | os.PathLike[str]) -> TrainedRelapseModel:
    """Load a model saved by :func:`save_relapse_model` (refuses another format)."""
    paths = artifact_paths(path)
    if not paths["json"].is_file():
        raise ResourceNotFoundError(f"no relapse model {paths['json']}")
    try:
        data = json.loads(paths["json"].read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(paths["json"], exc.msg, line=exc.lineno) from None
    if data.get("format") != FORMAT:
        raise ConfigError(paths["json"], f"format {data.get('format')!r}", key="format",
                          expected=FORMAT)  # fmt: skip
    fields = TrainedRelapseModel.__dataclass_fields__
    return TrainedRelapseModel(**{k: v for k, v in data.items() if k in fields})
