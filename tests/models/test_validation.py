"""Subject-grouped nested validation, leakage, metrics and bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score
from synthetic_tables import make_tables

from addiction_index.errors import InputError
from addiction_index.models import _training
from addiction_index.models._baseline import default_scores
from addiction_index.models._craving import LiveCraving
from addiction_index.models._definition import load_model_definition
from addiction_index.models._metrics import (
    bootstrap_ci,
    expected_calibration_error,
    fast_metric_functions,
    metric_functions,
)
from addiction_index.models._training import task_data
from addiction_index.models._validation import validate

FAST = {"outer_folds": 3, "inner_folds": 2, "n_bootstrap": 100}


def test_grouped_cv_never_shares_a_subject(block_table):
    result = validate(block_table, "craving", "ridge", **FAST)
    subjects = set(block_table["subject"])
    seen: set[str] = set()
    for fold in result.folds:
        train, test = set(fold["train_subjects"]), set(fold["test_subjects"])
        assert not train & test
        assert train | test == subjects
        seen |= test
    assert seen == subjects  # every subject tested exactly once across folds
    per_subject = result.predictions.groupby("subject")["fold"].nunique()
    assert (per_subject == 1).all()
    assert np.isfinite(result.predictions["score"]).all()
    assert result.scheme["grouped_by"] == "subject"


def test_leaky_split_flatters_the_model(block_table):
    """A subject fingerprint feature lets a row-level split memorise people."""
    grouped = validate(block_table, "craving", "random-forest", **FAST)
    leaky = validate(block_table, "craving", "random-forest", leaky=True, **FAST)
    assert leaky.leaky and leaky.scheme["grouped_by"] is None
    assert any(set(f["train_subjects"]) & set(f["test_subjects"]) for f in leaky.folds), (
        "the leaky split shares subjects"
    )
    assert grouped.value("mae") > leaky.value("mae") + 1.0
    assert grouped.value("spearman") < leaky.value("spearman") - 0.05


def test_nested_tuning_happens_inside_each_training_fold(block_table, monkeypatch):
    seen: list[set[str]] = []

    class Spy(_training.GridSearchCV):
        def fit(self, X, y=None, **params):  # type: ignore[no-untyped-def]
            seen.append(set(params["groups"]))
            return super().fit(X, y, **params)

    monkeypatch.setattr(_training, "GridSearchCV", Spy)
    result = validate(block_table, "craving", "ridge", **FAST)
    assert len(seen) == len(result.folds) == 3
    grid = _training.build_pipeline("craving", "ridge")[1]["estimator__alpha"]
    for groups, fold in zip(seen, result.folds, strict=True):
        assert groups == set(fold["train_subjects"])
        assert not groups & set(fold["test_subjects"])
        assert fold["best_params"]["estimator__alpha"] in grid
        assert fold["inner_splits"] == 2


def test_tuning_prefers_strong_regularisation_for_a_noise_label(block_table):
    noisy = block_table.copy()
    rng = np.random.default_rng(3)
    rated = noisy["label:vas_craving"].notna()
    noisy.loc[rated, "label:vas_craving"] = rng.uniform(0, 100, rated.sum())
    noise = validate(noisy, "craving", "ridge", **FAST)
    signal = validate(block_table, "craving", "ridge", **FAST)
    alpha = [f["best_params"]["estimator__alpha"] for f in noise.folds]
    assert min(alpha) >= 100.0
    assert max(f["best_params"]["estimator__alpha"] for f in signal.folds) <= 10.0


def test_index_validation_is_calibrated_and_compared_with_default(session_table):
    result = validate(session_table, "index", "logistic", **FAST)
    model = result.metrics["model"]
    assert set(model) == {"roc_auc", "balanced_accuracy", "ece", "brier"}
    assert model["roc_auc"]["value"] > 0.65
    assert 0 <= model["ece"]["value"] < 0.3
    assert "default" in result.metrics and "difference" in result.metrics
    assert set(result.comparison) == set(model)
    scores = result.predictions["score"]
    assert ((scores >= 0) & (scores <= 100)).all()


def test_default_scores_use_the_real_default_model(block_table):
    definition = load_model_definition("default-index")
    live = LiveCraving(definition)
    rows = block_table[block_table["block"] == "drug"].head(5)
    columns = [f"delta:{f.name}" for f in live.features]
    assert "delta:eeg_rel_gamma_frontal" not in rows  # missing columns count as missing values
    expected = live._estimator.predict(rows.reindex(columns=columns).to_numpy(float))
    np.testing.assert_allclose(default_scores(rows, "craving"), expected)


def test_craving_metrics_against_latent_truth(block_table):
    result = validate(block_table, "craving", "ridge", **FAST)
    assert result.latent_metrics is not None
    assert result.latent_metrics["model"]["spearman"]["value"] > 0.5


def test_unknown_label_is_named(block_table):
    with pytest.raises(InputError, match="vas_craving"):
        task_data(block_table, "craving", "nope")


def test_ece_definition_on_known_cases():
    # one bin (0.1-0.2): observed 0.3, predicted 0.1
    assert expected_calibration_error(np.r_[np.ones(3), np.zeros(7)], np.full(10, 0.1)) == (
        pytest.approx(0.2)
    )
    # two bins, each off by 0.2, weighted 1/2 each
    y, p = np.array([0, 0, 1, 1]), np.array([0.2, 0.2, 0.8, 0.8])
    assert expected_calibration_error(y, p) == pytest.approx(0.2)
    # perfectly calibrated in every bin; p = 1.0 falls in the last bin
    y, p = np.array([0, 1, 1, 1]), np.array([0.5, 0.5, 1.0, 1.0])
    assert expected_calibration_error(y, p) == pytest.approx(0.0)


def test_fast_metrics_equal_sklearn_and_scipy():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60).astype(float)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 60), 0, 1)
    p[:5] = p[5:10]  # ties
    fast, slow = fast_metric_functions("index"), metric_functions("index")
    for name in slow:
        assert fast[name](y, p) == pytest.approx(slow[name](y, p))
    assert slow["roc_auc"](y, p) == pytest.approx(roc_auc_score(y, p))
    assert slow["brier"](y, p) == pytest.approx(brier_score_loss(y, p))
    assert slow["balanced_accuracy"](y, p) == pytest.approx(balanced_accuracy_score(y, p >= 0.5))
    r = rng.uniform(0, 100, 60)
    q = r + rng.normal(0, 20, 60)
    fast, slow = fast_metric_functions("craving"), metric_functions("craving")
    assert fast["spearman"](r, q) == pytest.approx(spearmanr(r, q).statistic)
    assert fast["mae"](r, q) == pytest.approx(slow["mae"](r, q))


def _ci_width(n_subjects: int) -> tuple[float, dict]:
    rng = np.random.default_rng(n_subjects)
    subjects = np.repeat(np.arange(n_subjects), 4)
    y = rng.uniform(0, 100, subjects.size)
    pred = y + rng.normal(0, 15, subjects.size)
    out = bootstrap_ci(
        subjects, y, {"model": pred}, metric_functions("craving"), n_resamples=300, seed=0
    )
    mae = out["model"]["mae"]
    return mae["ci_high"] - mae["ci_low"], mae


def test_bootstrap_ci_contains_estimate_and_narrows_with_more_subjects():
    narrow_n, wide_n = 200, 20
    wide, entry = _ci_width(wide_n)
    narrow, big = _ci_width(narrow_n)
    for e in (entry, big):
        assert e["ci_low"] <= e["value"] <= e["ci_high"]
        assert e["n_valid"] == 300
    assert narrow < wide / 2


def test_bootstrap_is_seeded():
    subjects = np.repeat(np.arange(10), 2)
    y = np.arange(20.0)
    a = bootstrap_ci(
        subjects, y, {"model": y + 1}, metric_functions("craving"), seed=4, n_resamples=50
    )
    b = bootstrap_ci(
        subjects, y, {"model": y + 1}, metric_functions("craving"), seed=4, n_resamples=50
    )
    assert a == b


def test_more_subjects_give_narrower_validation_ci():
    small, _ = make_tables(n_subjects=16, seed=5, sessions=1)
    large, _ = make_tables(n_subjects=64, seed=5, sessions=1)
    a = validate(small, "craving", "ridge", **FAST).metrics["model"]["mae"]
    b = validate(large, "craving", "ridge", **FAST).metrics["model"]["mae"]
    assert b["ci_high"] - b["ci_low"] < a["ci_high"] - a["ci_low"]
