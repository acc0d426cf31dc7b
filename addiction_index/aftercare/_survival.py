"""Abstinence after release as time to relapse: Kaplan-Meier, life tables, log-rank and Cox.

Definitions (the cohort report and the tests use the same ones):

* **duration** = ``followed_days`` (days from release to ``end_date``); **event** = ``relapsed``.
  People who have not relapsed are *censored* at their last contact with a known status (lost and
  refused people at the last contact before they were lost). A horizon of m months is
  round(m × 365.25/12) whole days (3, 6, 12, 24, 36 months = 91, 183, 365, 730, 1096 days).
* **Censored estimate**: the Kaplan-Meier product-limit estimate S(t) = Π_{t_i <= t} (1 - d_i/n_i)
  (lifelines ``KaplanMeierFitter``; 95 % CIs by the exponential Greenwood formula). Median
  abstinence = the first t with S(t) <= 0.5, "not reached" when the curve stays above 0.5; its CI
  from the pointwise CI curves (lifelines ``median_survival_times``).
* **Lost counted as relapsed** (the survey convention, EVIDENCE 8.3: abstinence rate = confirmed
  abstinent / everyone, lost and refused counted as failures): at horizon h, among the people
  released at least h before the data cut-off (``as_of``, default the latest date in the frame),
  the share known to be abstinent at h, that is not relapsed by h and followed (last known
  status) to h or later; everyone else (relapsed, lost, refused, or not yet seen at h) counts
  as relapsed. 95 % Wilson interval. It is always at or below the censored estimate when people
  are lost, and the gap shows how much the definition moves the figure.
* **Life table** from interval counts (grouped data; the actuarial method): in each interval,
  q = d / (n - c/2) and S = Π (1 - q) (lifelines ``survival_table_from_events`` does the counting).
  EVIDENCE 8.2's published table is reproduced by a test.
* **Log-rank**: lifelines ``multivariate_logrank_test`` (all groups) and ``pairwise_logrank_test``.
* **Cox model** of the risk factors: lifelines ``CoxPHFitter`` with a small ridge penalty
  (``penalizer=0.01`` by default, ``l1_ratio=0``: it keeps the fit finite when a level has few or
  no events and shrinks the log hazard ratios by about 1 % of their size on cohorts of hundreds),
  Breslow baseline, complete cases; encoding in :mod:`._design`.

Compute only: no plotting here (plots: ``_cohort_plots``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from addiction_index.aftercare._contract import RISK_FACTORS, check_outcomes
from addiction_index.aftercare._design import FactorEncoder
from addiction_index.errors import InputError

__all__ = [
    "CENSORED_LABEL",
    "DAYS_PER_MONTH",
    "HORIZONS_MONTHS",
    "LOST_AS_RELAPSED_LABEL",
    "AbstinenceCurve",
    "CoxResult",
    "abstinence_curve",
    "abstinence_rates",
    "compare_groups",
    "cox_risk_factors",
    "group_labels",
    "horizon_days",
    "life_table",
    "lost_as_relapsed_rates",
]

DAYS_PER_MONTH = 365.25 / 12
HORIZONS_MONTHS = (3, 6, 12, 24, 36)
CENSORED_LABEL = (
    "abstinent (Kaplan-Meier, people lost to follow-up censored at their last known contact)"
)
LOST_AS_RELAPSED_LABEL = (
    "abstinent, lost or refused counted as relapsed (survey convention, EVIDENCE 8.3): "
    "confirmed abstinent at the horizon / everyone released that long ago"
)


def horizon_days(months: float) -> int:
    """Whole days of a horizon of ``months`` months (365.25/12 days per month, rounded)."""
    return round(months * DAYS_PER_MONTH)


def _kmf(durations: Sequence[float], events: Sequence[bool], label: str = "abstinent"):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=0.05).fit(
        np.asarray(durations, float), np.asarray(events, bool), label=label
    )


def _step_at(series: pd.Series | pd.DataFrame, t: float) -> Any:
    """Value of a right-continuous step function (indexed by time) at ``t``."""
    return series.loc[series.index <= t].iloc[-1]


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


@dataclass
class AbstinenceCurve:
    """A Kaplan-Meier curve of time to relapse with its summaries (days; survival 0-1)."""

    n: int
    relapses: int
    censored: int
    lost: int
    median_days: float | None  # None: not reached (the curve stays above 0.5)
    median_ci_days: tuple[float | None, float | None]
    horizons: list[dict[str, Any]]
    time_days: np.ndarray = field(repr=False)
    survival: np.ndarray = field(repr=False)
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    at_risk: np.ndarray = field(repr=False)  # number at risk just before each time
    at_risk_after: np.ndarray = field(repr=False)  # number still at risk just after each time

    @property
    def median_reached(self) -> bool:
        return self.median_days is not None

    def survival_at(self, days: float) -> float:
        """S(t) at ``days`` (step function, right-continuous)."""
        return float(self.survival[np.searchsorted(self.time_days, days, side="right") - 1])

    def at_risk_at(self, days: float) -> int:
        """Number still at risk (followed, not relapsed) at ``days``."""
        return int(self.at_risk_after[np.searchsorted(self.time_days, days, side="right") - 1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no arrays except the curve, rounded)."""
        return {
            "n": self.n,
            "relapses": self.relapses,
            "censored": self.censored,
            "lost": self.lost,
            "median_days": self.median_days,
            "median_months": None
            if self.median_days is None
            else self.median_days / DAYS_PER_MONTH,
            "median_reached": self.median_reached,
            "median_ci_days": list(self.median_ci_days),
            "horizons": self.horizons,
        }


def abstinence_curve(
    frame: pd.DataFrame, horizons_months: Sequence[float] = HORIZONS_MONTHS
) -> AbstinenceCurve:
    """Kaplan-Meier curve of time to relapse for the cohort in ``frame`` (outcomes frame).

    ``horizons`` gives S(t) with its 95 % CI at each horizon (months), with ``None`` beyond the
    longest follow-up (the estimate is undefined there, not 0 or the last value).
    """
    frame = check_outcomes(frame)
    if frame.empty:
        raise InputError("frame", "0 rows", "at least one release")
    from lifelines.utils import median_survival_times

    kmf = _kmf(frame["followed_days"], frame["relapsed"])
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    table = kmf.event_table
    median = _finite(kmf.median_survival_time_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mci = median_survival_times(ci).iloc[0]
    last = float(frame["followed_days"].max())
    horizons = []
    for months in horizons_months:
        days = horizon_days(months)
        if days > last:
            horizons.append({"months": months, "days": days, "survival": None, "ci_low": None,
                             "ci_high": None, "at_risk": 0})  # fmt: skip
            continue
        low, high = _step_at(ci, days)
        at_risk = int((frame["followed_days"] >= days).sum())
        survival = float(_step_at(sf, days))
        horizons.append({"months": months, "days": days, "survival": survival,
                         "ci_low": float(low), "ci_high": float(high),
                         "at_risk": at_risk})  # fmt: skip
    at_risk_after = (table["at_risk"] - table["removed"]).to_numpy()
    return AbstinenceCurve(
        n=len(frame),
        relapses=int(frame["relapsed"].sum()),
        censored=int((~frame["relapsed"]).sum()),
        lost=int((frame["lost"] & ~frame["relapsed"]).sum()),
        median_days=median,
        median_ci_days=(_finite(mci.iloc[0]), _finite(mci.iloc[1])),
        horizons=horizons,
        time_days=sf.index.to_numpy(float),
        survival=sf.to_numpy(float),
        lower=ci.iloc[:, 0].to_numpy(float),
        upper=ci.iloc[:, 1].to_numpy(float),
        at_risk=table["at_risk"].to_numpy(int),
        at_risk_after=at_risk_after,
    )


def _wilson(k: int, n: int) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def lost_as_relapsed_rates(
    frame: pd.DataFrame,
    horizons_months: Sequence[float] = HORIZONS_MONTHS,
    as_of: pd.Timestamp | None = None,
) -> list[dict[str, Any]]:
    """The survey-style abstinence rate at each horizon (module docstring; EVIDENCE 8.3).

    ``as_of`` is the data cut-off (default: the latest release or end date in the frame); only
    people released at least the horizon before it are counted. Rates are 0-1 with 95 % Wilson
    intervals; ``None`` when nobody was released that long ago.
    """
    frame = check_outcomes(frame)
    cutoff = pd.Timestamp(as_of) if as_of is not None else max(
        frame["end_date"].max(), frame["release_date"].max()
    )  # fmt: skip
    out = []
    for months in horizons_months:
        days = horizon_days(months)
        eligible = frame[(cutoff - frame["release_date"]).dt.days >= days]
        reached = eligible["followed_days"] >= days
        # relapsed on or before the horizon -> failure; relapse later -> abstinent at the horizon
        abstinent = reached & ~(eligible["relapsed"] & (eligible["followed_days"] <= days))
        k, n = int(abstinent.sum()), len(eligible)
        low, high = _wilson(k, n)
        out.append({"months": months, "days": days, "eligible": n, "abstinent": k,
                    "rate": k / n if n else None, "ci_low": low, "ci_high": high})  # fmt: skip
    return out


def abstinence_rates(
    frame: pd.DataFrame,
    horizons_months: Sequence[float] = HORIZONS_MONTHS,
    as_of: pd.Timestamp | None = None,
) -> list[dict[str, Any]]:
    """Both definitions side by side at each horizon: ``censored`` and ``lost_as_relapsed``.

    Each row: ``months``, ``censored`` (Kaplan-Meier S(t), CI, number at risk; label
    :data:`CENSORED_LABEL`) and ``lost_as_relapsed`` (rate, CI, counts; label
    :data:`LOST_AS_RELAPSED_LABEL`), and ``difference`` = censored − lost-as-relapsed (0-1).
    """
    curve = abstinence_curve(frame, horizons_months)
    survey = lost_as_relapsed_rates(frame, horizons_months, as_of)
    rows = []
    for km, sv in zip(curve.horizons, survey, strict=True):
        diff = None
        if km["survival"] is not None and sv["rate"] is not None:
            diff = km["survival"] - sv["rate"]
        rows.append({"months": km["months"], "censored": km, "lost_as_relapsed": sv,
                     "difference": diff})  # fmt: skip
    return rows


def life_table(
    bounds: Sequence[float],
    events: Sequence[int],
    censored: Sequence[int] | None = None,
    total: int | None = None,
) -> pd.DataFrame:
    """Actuarial life table from counts per interval (grouped data).

    ``bounds`` are the interval edges (k+1 numbers, e.g. years ``[0, 1, 2, 3, 5, 9]`` for the
    intervals (0,1], (1,2], ...); ``events[i]`` relapses and ``censored[i]`` people lost or still
    abstinent at the end of their follow-up inside interval i (assumed, as usual, to be at risk
    for half of it); ``total`` the number released (default: all events + censored). Returns one
    row per interval: ``start``, ``end``, ``entering``, ``events``, ``censored``, ``at_risk``
    (n − c/2), ``q`` (d/at_risk), ``survival`` (at the end of the interval) and
    ``cumulative_relapse`` = 1 − survival (0-1). EVIDENCE 8.2's table is the test case.
    """
    from lifelines.utils import survival_table_from_events

    edges = np.asarray(bounds, float)
    d = np.asarray(events, int)
    c = np.zeros_like(d) if censored is None else np.asarray(censored, int)
    if edges.ndim != 1 or len(edges) != len(d) + 1 or np.any(np.diff(edges) <= 0):
        raise InputError("bounds", list(bounds), "increasing edges, one more than the counts")
    if len(c) != len(d) or np.any(d < 0) or np.any(c < 0):
        raise InputError("censored", None if censored is None else list(censored),
                         "counts >= 0, one per interval")  # fmt: skip
    n = int(d.sum() + c.sum()) if total is None else int(total)
    if n < d.sum() + c.sum():
        raise InputError("total", total, f"at least the {int(d.sum() + c.sum())} counted")
    # lifelines counts who leaves when: an event or a censoring at each interval's end; those
    # still abstinent after the last edge leave no row but count in `entering`
    ends = np.r_[edges[1:], edges[1:]]
    observed = np.r_[np.ones(len(d)), np.zeros(len(d))]
    weights = np.r_[d, c]
    keep = weights > 0
    if keep.any():
        counted = survival_table_from_events(ends[keep], observed[keep], weights=weights[keep])
        counted = counted.reindex(edges[1:], fill_value=0)
    else:
        counted = pd.DataFrame({"removed": 0, "observed": 0, "censored": 0}, index=edges[1:])
    entering = n - np.r_[0, np.cumsum(counted["removed"].to_numpy())[:-1]]
    deaths = counted["observed"].to_numpy(int)
    lost = counted["censored"].to_numpy(int)
    effective = entering - lost / 2.0
    q = np.divide(deaths, effective, out=np.zeros(len(d)), where=effective > 0)
    survival = np.cumprod(1.0 - q)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "entering": entering,
                         "events": deaths, "censored": lost, "at_risk": effective, "q": q,
                         "survival": survival, "cumulative_relapse": 1.0 - survival})  # fmt: skip


def group_labels(frame: pd.DataFrame, by: str) -> pd.Series:
    """Group of each release for ``by``: ``prior_treatments`` in bands 0 / 1 / 2+; other
    numeric factors with more than 5 values split at the median (≤ / >); booleans yes/no;
    text as it is. Missing values give the group ``"not recorded"``."""
    if by not in frame.columns:
        raise InputError("by", by, "a column of the outcomes frame")
    s = frame[by]
    if by == "prior_treatments":
        v = pd.to_numeric(s, errors="coerce")
        out = np.where(v >= 2, "2+", np.where(v >= 1, "1", "0")).astype(object)
    elif by == "lives_where_registered" or pd.api.types.is_bool_dtype(s):
        out = np.where(s.astype(float) > 0.5, "yes", "no").astype(object)
    elif pd.api.types.is_numeric_dtype(s) and s.dropna().nunique() > 5:
        median = float(s.median())
        out = np.where(s <= median, f"≤ {median:g}", f"> {median:g}").astype(object)
    elif pd.api.types.is_numeric_dtype(s):
        out = s.map(lambda v: f"{v:g}").to_numpy(object)
    else:
        out = s.astype(object).to_numpy()
    out = pd.Series(out, index=frame.index, dtype=object)
    return out.where(s.notna(), "not recorded")


def compare_groups(frame: pd.DataFrame, by: str, min_group: int = 5) -> dict[str, Any]:
    """Log-rank comparison of time to relapse between the groups of ``by`` (see group_labels).

    Groups of fewer than ``min_group`` people (distinct subjects) are left out of the test and
    listed under ``suppressed``. Returns ``groups`` (name, n releases, people, relapses), ``p`` of
    the multivariate log-rank test (None with fewer than two groups), its chi² statistic and
    degrees of freedom, and ``pairwise`` p-values (unadjusted) when there are more than two groups.
    """
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test

    frame = check_outcomes(frame)
    labels = group_labels(frame, by)
    people = frame["subject"].groupby(labels).nunique()
    kept = sorted(people[people >= min_group].index, key=str)
    suppressed = sorted(people[people < min_group].index, key=str)
    mask = labels.isin(kept)
    sub, lab = frame[mask], labels[mask]
    groups = [{"group": g, "n": int((lab == g).sum()), "people": int(people[g]),
               "relapses": int(sub.loc[lab == g, "relapsed"].sum())} for g in kept]  # fmt: skip
    result: dict[str, Any] = {"by": by, "groups": groups, "suppressed": suppressed,
                              "min_group": min_group, "p": None, "statistic": None,
                              "df": None, "pairwise": []}  # fmt: skip
    if len(kept) < 2:
        return result
    test = multivariate_logrank_test(sub["followed_days"], lab, sub["relapsed"])
    result.update(p=float(test.p_value), statistic=float(test.test_statistic),
                  df=int(test.degrees_of_freedom))  # fmt: skip
    if len(kept) > 2:
        pw = pairwise_logrank_test(sub["followed_days"], lab, sub["relapsed"]).summary
        result["pairwise"] = [{"a": str(a), "b": str(b), "p": float(row["p"])}
                              for (a, b), row in pw.iterrows()]  # fmt: skip
    return result


@dataclass
class CoxResult:
    """Hazard ratios of relapse from a Cox model (HR > 1: earlier relapse)."""

    rows: list[dict[str, Any]]  # term, factor, label, hr, ci_low, ci_high, p
    n_used: int
    n_dropped: int
    events: int
    skipped: dict[str, str]
    penalizer: float
    concordance: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "n_used": self.n_used, "n_dropped": self.n_dropped,
                "events": self.events, "skipped": self.skipped, "penalizer": self.penalizer,
                "concordance": self.concordance, "note": self.note}  # fmt: skip


def cox_risk_factors(
    frame: pd.DataFrame,
    factors: Sequence[str] = RISK_FACTORS,
    *,
    penalizer: float = 0.01,
    min_present: float = 0.8,
    min_events: int = 10,
) -> CoxResult:
    """Cox proportional-hazards model of time to relapse on ``factors`` (module docstring).

    Factors recorded in fewer than ``min_present`` of the rows, or with no variation, are skipped
    and named in ``skipped``; rows missing any used factor are dropped (``n_dropped``). With fewer
    than ``min_events`` relapses no model is fitted and ``note`` says so.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    frame = check_outcomes(frame)
    if penalizer < 0:
        raise InputError("penalizer", penalizer, "a number >= 0")
    encoder = FactorEncoder(factors, min_present=min_present).fit(frame)
    design = encoder.transform(frame)
    complete = design.notna().all(axis=1)
    design = design[complete]
    skipped = dict(encoder.skipped_)
    for column in list(design.columns):
        if design[column].nunique() < 2:
            term = next(t for t in encoder.terms_ if t.column == column)
            skipped[term.column] = "no variation among the complete rows"
            design = design.drop(columns=column)
    sub = frame[complete]
    base = {"n_used": len(sub), "n_dropped": int((~complete).sum()),
            "events": int(sub["relapsed"].sum()), "skipped": skipped,
            "penalizer": penalizer}  # fmt: skip
    if base["events"] < min_events or design.shape[1] == 0:
        note = (f"no Cox model: {base['events']} relapses among complete rows "
                f"(needs {min_events}) and {design.shape[1]} usable terms")  # fmt: skip
        return CoxResult(rows=[], concordance=None, note=note, **base)
    data = design.assign(_T=sub["followed_days"].to_numpy(float),
                         _E=sub["relapsed"].to_numpy(bool))  # fmt: skip
    cph = CoxPHFitter(penalizer=penalizer, l1_ratio=0.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph.fit(data, duration_col="_T", event_col="_E")
    except ConvergenceError as exc:
        return CoxResult(rows=[], concordance=None, note=f"no Cox model: {exc}", **base)
    summary = cph.summary
    labels = {t.column: t for t in encoder.terms_}
    rows = []
    for column, row in summary.iterrows():
        term = labels[str(column)]
        rows.append({"term": str(column), "factor": term.factor, "label": term.label,
                     "hr": float(row["exp(coef)"]),
                     "ci_low": float(row["exp(coef) lower 95%"]),
                     "ci_high": float(row["exp(coef) upper 95%"]),
                     "p": float(row["p"])})  # fmt: skip
    return CoxResult(rows=rows, concordance=float(cph.concordance_index_), **base)
