"""The relapse-risk score: transparent (data-defined, monotone, explained, robust to missing
factors) and retrained (Cox on simulated outcomes: concordance above chance, chance when
shuffled; coefficients saved as data and loaded back)."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from addiction_index.aftercare._risk import (
    load_risk_definition,
    relapse_risk,
    relapse_risk_frame,
)
from addiction_index.aftercare._risk_training import (
    _subject_folds,
    cross_validate_cindex,
    load_relapse_model,
    save_relapse_model,
    train_relapse_model,
)
from addiction_index.aftercare._simulate import simulate_outcomes
from addiction_index.datafiles import parse_yaml
from addiction_index.errors import ConfigError
from addiction_index.resources import content_file

BASE = {
    "drug_type": "methamphetamine",
    "years_of_use": 8.0,
    "prior_treatments": 1,
    "employment": "employed",
    "income": "below_minimum_wage",
    "marital_status": "married",
    "lives_where_registered": True,
    "sds": 3.0,
    "phq9": 5.0,
    "gad7": 5.0,
    "mspss": 4.0,
    "apgar": 7.0,
    "index_trend": 0.0,
    "exercise_adherence": 0.7,
    "aftercare": False,
    "counselling_compliance": True,
}

# (column, values ordered from lower to higher expected risk)
LADDERS = [
    ("marital_status", ["married", "cohabiting", "single"]),
    ("prior_treatments", [0, 1, 2, 5]),
    ("lives_where_registered", [True, False]),
    ("years_of_use", [0.0, 2.0, 8.0, 20.0, 40.0]),
    ("employment", ["employed", "unemployed"]),
    ("phq9", [0.0, 9.0, 10.0, 27.0]),
    ("gad7", [0.0, 10.0]),
    ("apgar", [10.0, 7.0, 6.0, 0.0]),
    ("mspss", [7.0, 3.0, 2.9, 1.0]),
    ("sds", [0.0, 4.0, 5.0, 15.0]),
    ("index_trend", [-20.0, -5.0, 0.0, 5.0, 20.0]),
    ("exercise_adherence", [1.0, 0.8, 0.5, 0.0]),
    ("aftercare", [True, False]),
    ("counselling_compliance", [True, False]),
]


def test_definition_loads_and_cites_evidence() -> None:
    definition = load_risk_definition()
    assert definition.base.rate == pytest.approx(0.476)  # EVIDENCE 6.1
    ors = {f.name: f.odds_ratio for f in definition.factors}
    assert ors["marital_status"] == 2.67 and ors["prior_treatments"] == 2.33  # EVIDENCE 6.1
    assert ors["lives_where_registered"] == 1.56 and ors["years_of_use"] == 1.08  # 6.1, 6.5
    assert ors["aftercare"] == 0.29  # EVIDENCE 6.2
    in_centre = {f.name: f for f in definition.factors}
    assert in_centre["index_trend"].basis == "convention"
    assert in_centre["exercise_adherence"].basis == "convention"
    assert all(f.note for f in definition.factors)


def test_definition_errors_name_the_key() -> None:
    text = content_file("models", "relapse-risk.yaml").read_text(encoding="utf-8")
    from addiction_index.aftercare._risk import RiskDefinition

    with pytest.raises(ConfigError, match="odds_ratio") as info:
        parse_yaml(text.replace("odds_ratio: 2.67", "odds_ratio: -2.67"), RiskDefinition)
    assert info.value.line is not None


@pytest.mark.parametrize(("column", "values"), LADDERS, ids=[c for c, _ in LADDERS])
def test_score_is_monotone_in_each_factor(column: str, values: list) -> None:
    scores = [relapse_risk({**BASE, column: v}).value for v in values]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(scores)), scores
    assert scores[-1] > scores[0], scores


def test_reasons_name_the_top_factors_without_values() -> None:
    row = {**BASE, "marital_status": "single", "prior_treatments": 3, "drug_type": "heroin",
           "lives_where_registered": False, "years_of_use": 12.0}  # fmt: skip
    result = relapse_risk(row)
    # log-odds points: not married 0.5·ln 2.67 = 0.49 > earlier treatments 0.5·ln 2.33 = 0.42 >
    # years of use 4·ln 1.08 = 0.31 > away from registered home 0.5·ln 1.56 = 0.22
    assert result.reasons == [
        "not married",
        "earlier compulsory treatments",
        "long history of drug use",
    ]
    text = " ".join(result.reasons + result.protective + result.assumed)
    assert "heroin" not in text and not re.search(r"\d", " ".join(result.reasons))
    assert 0 <= result.value <= 100 and result.level in ("low", "moderate", "high")


def test_levels_come_from_the_cut_offs() -> None:
    definition = load_risk_definition()
    low = relapse_risk({**BASE, "prior_treatments": 0, "aftercare": True, "years_of_use": 0.0})
    high = relapse_risk({**BASE, "marital_status": "single", "prior_treatments": 4,
                         "lives_where_registered": False, "years_of_use": 20.0,
                         "phq9": 20.0, "counselling_compliance": False})  # fmt: skip
    assert low.level == "low" and low.value < definition.levels[0].below
    assert high.level == "high" and high.value >= definition.levels[1].below


def test_missing_factors_still_score_and_say_what_was_assumed() -> None:
    empty = relapse_risk({})
    assert empty.value == pytest.approx(47.6, abs=1e-9)  # the typical resident: EVIDENCE 6.1
    assert empty.level == "moderate" and empty.reasons == []
    partial = {k: v for k, v in BASE.items() if k not in ("marital_status", "exercise_adherence")}
    result = relapse_risk({**partial, "apgar": float("nan")})
    assumed = " ".join(result.assumed)
    assert "marital_status not recorded" in assumed
    assert "exercise_adherence not recorded" in assumed
    assert "family not recorded" in assumed  # APGAR NaN
    assert "prior_treatments" not in assumed
    assert len(result.assumed) == 3


def test_frame_version_matches_rows() -> None:
    frame = simulate_outcomes(20, seed=1)
    table = relapse_risk_frame(frame)
    assert table["risk_value"].iloc[3] == pytest.approx(relapse_risk(frame.iloc[3].to_dict()).value)
    assert list(table.columns) == ["subject", "risk_value", "risk_level", "risk_reasons",
                                   "risk_assumed"]  # fmt: skip


KNOWN = {"prior_treatments": math.log(1.6), "unmarried": 0.8, "index_trend": 0.08}


def test_subject_folds_keep_a_person_together() -> None:
    frame = simulate_outcomes(60, seed=2)
    frame["subject"] = [f"P{i // 3}" for i in range(60)]  # three releases each
    folds = _subject_folds(frame["subject"], 5, seed=0)
    seen = [set(frame["subject"].iloc[f]) for f in folds]
    assert sum(len(s) for s in seen) == 20 and len(set().union(*seen)) == 20


def test_retrained_model_ranks_relapse_and_shuffled_outcomes_do_not(tmp_path) -> None:
    frame = simulate_outcomes(400, seed=3, log_hr=KNOWN)
    model = train_relapse_model(frame, seed=0)
    assert model.cindex["mean"] > 0.62, model.cindex  # measured 0.69
    shuffled = frame.copy()
    order = np.random.default_rng(0).permutation(len(frame))
    shuffled["followed_days"] = frame["followed_days"].to_numpy()[order]
    shuffled["relapsed"] = frame["relapsed"].to_numpy()[order]
    chance = cross_validate_cindex(shuffled, seed=0)
    assert abs(chance["mean"] - 0.5) < 0.05, chance

    paths = save_relapse_model(tmp_path / "centre-cox", model)
    loaded = load_relapse_model(paths["json"])
    np.testing.assert_allclose(loaded.probability(frame), model.probability(frame), atol=1e-12)
    card = paths["card"].read_text(encoding="utf-8")
    assert f"{model.cindex['mean']:.3f}" in card and "not diagnosis" in card
    result = relapse_risk(frame.iloc[0].to_dict(), model=loaded)
    assert 0 <= result.value <= 100 and "Cox" in result.model


def test_retrained_probability_matches_lifelines() -> None:
    from lifelines import CoxPHFitter

    from addiction_index.aftercare._design import FactorEncoder

    frame = simulate_outcomes(200, seed=4, log_hr=KNOWN)
    factors = ["prior_treatments", "marital_status", "index_trend"]
    model = train_relapse_model(frame, factors, folds=3)
    enc = FactorEncoder(factors, impute=True, min_present=0.5).fit(frame)
    data = enc.transform(frame).assign(T=frame["followed_days"], E=frame["relapsed"])
    cph = CoxPHFitter(penalizer=0.1).fit(data, "T", "E")
    theirs = 1 - cph.predict_survival_function(data, times=[365]).to_numpy()[0]
    np.testing.assert_allclose(model.probability(frame), theirs, atol=1e-9)
