"""Per-score contributions: exact for linear pipelines, occlusion otherwise."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from addiction_index.models._explain import decision_value, explain, linear_contributions
from addiction_index.models._training import train_model


@pytest.mark.parametrize(("task", "model"), [("craving", "ridge"), ("index", "logistic")])
def test_linear_contributions_sum_to_the_decision_value(tables, task, model):
    table = tables[0] if task == "craving" else tables[1]
    trained = train_model(table, task, model, spec_hash="x", inner_folds=2)
    X = table[trained.feature_names].iloc[:25]
    parts, base, _ = linear_contributions(trained.estimator, X)
    np.testing.assert_allclose(parts.sum(axis=1) + base, decision_value(trained.estimator, task, X))
    top = explain(trained.estimator, X.iloc[:3], task, top_k=3)
    assert len(top[0].contributions) == 3
    sizes = [abs(c["contribution"]) for c in top[0].contributions]
    assert sizes == sorted(sizes, reverse=True)
    assert top[0].method == "linear"
    assert all(c["label"] for c in top[0].contributions)


def test_linear_contributions_point_the_right_way(block_table):
    trained = train_model(block_table, "craving", "ridge", spec_hash="x", inner_folds=2)
    drug = block_table[block_table["block"] == "drug"]
    high = drug.loc[[drug["label:latent_craving"].idxmax()]]
    [e] = explain(trained.estimator, high[trained.feature_names], "craving", top_k=10)
    alpha = next(c for c in e.contributions if c["feature"] == "delta:eeg_rel_alpha_frontal")
    assert alpha["contribution"] > 0  # alpha drops under craving: a large drop adds craving


def test_occlusion_for_tree_models(block_table):
    trained = train_model(block_table, "craving", "random-forest", spec_hash="x", inner_folds=2)
    X = block_table[trained.feature_names].iloc[[5, 6]]
    [e, _] = explain(trained.estimator, X, "craving", top_k=2)
    assert e.method == "occlusion"
    moved = X.iloc[[0]].copy()
    top = e.contributions[0]
    medians = trained.estimator.named_steps["impute"].statistics_
    moved[top["feature"]] = medians[trained.feature_names.index(top["feature"])]
    assert top["contribution"] == pytest.approx(e.score - trained.score(moved)[0])


@pytest.mark.skipif(importlib.util.find_spec("shap") is None, reason="shap not installed")
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_shap_is_additive(block_table):
    trained = train_model(block_table, "craving", "random-forest", spec_hash="x", inner_folds=2)
    X = block_table[trained.feature_names]
    [e] = explain(
        trained.estimator, X.iloc[[7]], "craving", method="shap", top_k=10, background=X.iloc[:40]
    )
    total = e.base + sum(c["contribution"] for c in e.contributions)
    assert total == pytest.approx(e.score, abs=1e-6)
