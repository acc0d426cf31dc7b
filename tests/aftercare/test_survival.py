"""Abstinence survival analysis: Kaplan-Meier against lifelines and against a hand-computed
product-limit estimate, the published life table of EVIDENCE 8.2, the lost-as-relapsed rate,
log-rank tests and a Cox model on simulated data with a known hazard ratio."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from addiction_index.aftercare._contract import OUTCOME_COLUMNS, check_outcomes
from addiction_index.aftercare._simulate import simulate_outcomes
from addiction_index.aftercare._survival import (
    abstinence_curve,
    abstinence_rates,
    compare_groups,
    cox_risk_factors,
    group_labels,
    horizon_days,
    life_table,
    lost_as_relapsed_rates,
)
from addiction_index.errors import InputError


def outcomes(rows: list[tuple], release: str = "2024-01-01") -> pd.DataFrame:
    """A minimal outcomes frame from (followed_days, relapsed, last_status, lost) tuples."""
    n = len(rows)
    days = [r[0] for r in rows]
    start = pd.Timestamp(release)
    frame = pd.DataFrame({
        "subject": [f"T-{i:03d}" for i in range(n)],
        "release_date": [start] * n,
        "end_date": [start + pd.Timedelta(days=d) for d in days],
        "relapsed": [r[1] for r in rows],
        "last_status": [r[2] for r in rows],
        "lost": [r[3] for r in rows],
        "followed_days": days,
        "station": "north",
        "drug_type": "methamphetamine",
        "years_of_use": 5.0,
        "prior_treatments": 1.0,
        "employment": "employed",
        "income": "none",
        "marital_status": "single",
        "lives_where_registered": True,
        **{c: np.nan for c in ("sds", "phq9", "gad7", "mspss", "apgar")},
    })  # fmt: skip
    return frame


# Eight people with ties (three at day 3, two at day 6) and censoring (one at 3, 5 and 6).
DAYS = [2, 3, 3, 3, 5, 6, 6, 8]
EVENTS = [True, True, True, False, False, True, False, True]


def small_cohort() -> pd.DataFrame:
    rows = [
        (d, e, "relapsed" if e else "abstinent", False) for d, e in zip(DAYS, EVENTS, strict=True)
    ]
    return outcomes(rows)


def test_kaplan_meier_by_hand() -> None:
    # Product-limit steps, written out: S(t) = Π (1 - d_i / n_i) over event times t_i <= t.
    # t=2: 8 at risk, 1 relapse                      -> 7/8
    # t=3: 7 at risk (the one censored at 3 counts), 2 relapses -> 7/8 × 5/7 = 5/8
    # t=5: a censoring only                          -> 5/8
    # t=6: 3 at risk, 1 relapse                      -> 5/8 × 2/3 = 5/12
    # t=8: 1 at risk, 1 relapse                      -> 0
    expected = {0: 1.0, 2: 7 / 8, 3: 7 / 8 * 5 / 7, 5: 7 / 8 * 5 / 7, 6: 5 / 12, 8: 0.0}
    curve = abstinence_curve(small_cohort(), horizons_months=())
    got = dict(zip(curve.time_days.tolist(), curve.survival.tolist(), strict=True))
    assert set(got) == set(expected)
    for t, s in expected.items():
        assert got[t] == pytest.approx(s, abs=1e-12), t
    assert curve.survival_at(4.0) == pytest.approx(5 / 8, abs=1e-12)
    assert curve.median_days == 6.0  # first time S(t) <= 0.5
    assert (curve.n, curve.relapses, curve.censored) == (8, 5, 3)


def test_kaplan_meier_matches_lifelines_fitter() -> None:
    frame = simulate_outcomes(250, seed=11, log_hr={"prior_treatments": 0.4})
    curve = abstinence_curve(frame)
    kmf = KaplanMeierFitter().fit(frame["followed_days"], frame["relapsed"])
    np.testing.assert_allclose(curve.survival, kmf.survival_function_.iloc[:, 0], atol=1e-12)
    np.testing.assert_allclose(curve.lower, kmf.confidence_interval_.iloc[:, 0], atol=1e-12)
    for h in curve.horizons:
        if h["survival"] is not None:
            assert h["survival"] == pytest.approx(
                float(kmf.survival_function_at_times(h["days"]).iloc[0]), abs=1e-12
            )
            assert h["ci_low"] <= h["survival"] <= h["ci_high"]
    assert curve.median_days == pytest.approx(kmf.median_survival_time_)


def test_median_not_reached_and_horizon_beyond_follow_up() -> None:
    rows = [(400, False, "abstinent", False)] * 8 + [(30, True, "relapsed", False)] * 2
    curve = abstinence_curve(outcomes(rows))
    assert curve.median_days is None and not curve.median_reached
    by_month = {h["months"]: h for h in curve.horizons}
    assert by_month[12]["survival"] == pytest.approx(0.8, abs=1e-12)
    assert by_month[24]["survival"] is None  # beyond the longest follow-up: undefined, not 0.8


def test_published_life_table_evidence_8_2() -> None:
    # EVIDENCE 8.2: 112 repeat admissions, abstinence period (0,1] 48, (1,2] 22, (2,3] 18,
    # (3,5] 15, (5,9] 9 years; cumulative 42.9 %, 62.5 %, 78.6 %, 92.0 %, 100 %.
    table = life_table([0, 1, 2, 3, 5, 9], [48, 22, 18, 15, 9])
    assert table["entering"].tolist() == [112, 64, 42, 24, 9]
    published = [42.9, 62.5, 78.6, 92.0, 100.0]
    assert [round(100 * c, 1) for c in table["cumulative_relapse"]] == published


def test_life_table_actuarial_with_censoring() -> None:
    # 40 people; (0,1]: 10 relapses, 4 censored; (1,2]: 5 relapses, 2 censored; 19 left over.
    table = life_table([0, 1, 2], [10, 5], censored=[4, 2], total=40)
    s1 = 1 - 10 / (40 - 4 / 2)
    s2 = s1 * (1 - 5 / (26 - 2 / 2))
    np.testing.assert_allclose(table["survival"], [s1, s2], atol=1e-12)
    assert table["entering"].tolist() == [40, 26]
    with pytest.raises(InputError, match="bounds"):
        life_table([0, 2, 1], [1, 1])


def lost_cohort() -> pd.DataFrame:
    # (followed_days, relapsed, last_status, lost); all released 2024-01-01, cut-off 2025-06-30
    rows = [
        (400, False, "abstinent", False),  # A: abstinent at 3 and 6 months
        (200, False, "lost", True),  # B: confirmed abstinent at day 200, then lost
        (60, False, "lost", True),  # C: lost before 3 months
        (100, False, "refused", True),  # D: seen at day 100, then refused
        (50, True, "relapsed", False),  # E: relapsed at day 50
        (150, True, "relapsed", False),  # F: relapsed at day 150 (after 3 months)
        (0, False, "none", False),  # G: never contacted
        (300, False, "abstinent", False),  # H
    ]
    frame = outcomes(rows)
    late = outcomes([(30, False, "abstinent", False)], release="2025-05-01")  # I: 60 days ago
    late["subject"] = "T-late"
    return pd.concat([frame, late], ignore_index=True)


def test_lost_as_relapsed_rate_by_hand() -> None:
    frame = lost_cohort()
    rates = lost_as_relapsed_rates(frame, (3, 6), as_of=pd.Timestamp("2025-06-30"))
    # 3 months (91 days): A, B, D, F, H abstinent of the 8 released long enough ago (not I)
    assert (rates[0]["abstinent"], rates[0]["eligible"]) == (5, 8)
    assert rates[0]["rate"] == pytest.approx(5 / 8, abs=1e-12)
    # 6 months (183 days): A, B, H
    assert rates[1]["rate"] == pytest.approx(3 / 8, abs=1e-12)
    assert rates[1]["ci_low"] < 3 / 8 < rates[1]["ci_high"]
    # The censored estimate: relapse at 50 with 7 at risk, at 150 with 4 at risk.
    both = abstinence_rates(frame, (3, 6), as_of=pd.Timestamp("2025-06-30"))
    assert both[0]["censored"]["survival"] == pytest.approx(6 / 7, abs=1e-12)
    assert both[1]["censored"]["survival"] == pytest.approx(6 / 7 * 3 / 4, abs=1e-12)
    assert both[1]["difference"] == pytest.approx(6 / 7 * 3 / 4 - 3 / 8, abs=1e-12)


def test_horizon_days() -> None:
    assert [horizon_days(m) for m in (3, 6, 12, 24, 36)] == [91, 183, 365, 730, 1096]


def test_logrank_separates_different_groups_and_not_identical_ones() -> None:
    rng = np.random.default_rng(5)
    n = 100
    fast = rng.exponential(100, n).round().astype(int) + 1
    slow = rng.exponential(300, n).round().astype(int) + 1
    same = rng.exponential(200, n).round().astype(int) + 1
    rows = [(int(d), True, "relapsed", False) for d in np.r_[fast, slow]]
    frame = outcomes(rows)
    frame["station"] = ["fast"] * n + ["slow"] * n
    assert compare_groups(frame, "station")["p"] < 0.01
    rows = [
        (int(d), True, "relapsed", False) for d in np.r_[same, rng.exponential(200, n).round() + 1]
    ]
    frame = outcomes(rows)
    frame["station"] = ["a"] * n + ["b"] * n
    assert compare_groups(frame, "station")["p"] > 0.05
    twins = outcomes([(int(d), True, "relapsed", False) for d in np.r_[same, same]])
    twins["station"] = ["a"] * n + ["b"] * n
    assert compare_groups(twins, "station")["p"] == pytest.approx(1.0, abs=1e-9)


def test_group_bands_and_suppression() -> None:
    frame = simulate_outcomes(60, seed=3)
    frame.loc[frame.index[:3], "drug_type"] = "cocaine"
    labels = group_labels(frame.assign(prior_treatments=[0, 1, 2, 7] * 15), "prior_treatments")
    assert sorted(labels.unique()) == ["0", "1", "2+"]
    result = compare_groups(frame, "drug_type", min_group=5)
    assert "cocaine" in result["suppressed"]
    assert "cocaine" not in [g["group"] for g in result["groups"]]


def test_cox_recovers_a_known_hazard_ratio() -> None:
    frame = simulate_outcomes(400, seed=7, log_hr={"prior_treatments": math.log(1.5)})
    result = cox_risk_factors(frame)
    row = next(r for r in result.rows if r["term"] == "prior_treatments")
    # stated tolerance: within ±0.15 of the true 1.5, and its 95 % CI covers 1.5
    assert row["hr"] == pytest.approx(1.5, abs=0.15)
    assert row["ci_low"] < 1.5 < row["ci_high"]
    assert result.n_used == 400 and result.events == int(frame["relapsed"].sum())


def test_cox_skips_constant_and_sparse_factors() -> None:
    frame = simulate_outcomes(200, seed=8, log_hr={"prior_treatments": 0.4})
    frame["employment"] = "employed"
    frame.loc[frame.index[:150], "sds"] = np.nan
    result = cox_risk_factors(frame)
    assert "no variation" in result.skipped["employment"]
    assert "recorded for 25 %" in result.skipped["sds"]
    assert not any(r["factor"] in ("employment", "sds") for r in result.rows)


def test_cox_with_too_few_relapses_says_so() -> None:
    rows = [(300, False, "abstinent", False)] * 20 + [(40, True, "relapsed", False)] * 3
    result = cox_risk_factors(outcomes(rows))
    assert result.rows == [] and "3 relapses" in result.note


def test_contract_names_the_missing_or_mistyped_column() -> None:
    frame = small_cohort()
    with pytest.raises(InputError, match="apgar"):
        check_outcomes(frame.drop(columns="apgar"))
    with pytest.raises(InputError, match="release_date"):
        check_outcomes(frame.assign(release_date=frame["release_date"].astype(str)))
    with pytest.raises(InputError, match="last_status"):
        check_outcomes(frame.assign(last_status="gone"))
    with pytest.raises(InputError, match="relapsed"):
        check_outcomes(frame.assign(relapsed="yes"))
    with pytest.raises(InputError, match="end_date"):
        check_outcomes(frame.assign(end_date=frame["release_date"] - pd.Timedelta(days=1)))
    assert set(check_outcomes(frame).columns) >= set(OUTCOME_COLUMNS)


def test_contract_matches_the_database_outcomes_frame(tmp_path) -> None:
    """The frame built from the store passes the contract and feeds the analysis."""
    from datetime import date

    from addiction_index.aftercare import Contact, FollowupRecords, Release, outcomes_frame
    from addiction_index.aftercare._outcomes import OUTCOME_COLUMNS as STORE_COLUMNS
    from addiction_index.store import open_store

    assert set(STORE_COLUMNS) == set(OUTCOME_COLUMNS)
    with open_store(tmp_path / "centre.sqlite") as store:
        records = FollowupRecords(store)
        records.add_release(Release("R-1", date(2025, 1, 1), "s1"))
        records.add_contact(Contact("R-1", date(2025, 2, 1), "phone", "abstinent"))
        records.add_contact(Contact("R-1", date(2025, 4, 1), "visit", "relapsed"))
        records.add_release(Release("R-2", date(2025, 1, 1), "s1"))
        records.add_contact(Contact("R-2", date(2025, 3, 2), "phone", "abstinent"))
        records.add_contact(Contact("R-2", date(2025, 6, 1), "phone", "lost"))
        frame = outcomes_frame(store)
    checked = check_outcomes(frame)
    curve = abstinence_curve(checked, horizons_months=())
    assert (curve.relapses, curve.censored, curve.lost) == (1, 1, 1)
    # R-2 is censored at its last abstinent contact (60 days); R-1 relapses at day 90
    assert curve.survival_at(90) == pytest.approx(0.0, abs=1e-12)
    assert curve.survival_at(60) == pytest.approx(1.0, abs=1e-12)
