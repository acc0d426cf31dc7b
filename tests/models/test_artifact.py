"""skops artifacts: round trip, allow-list refusal, stale feature spec refusal, model card."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from addiction_index.errors import ConfigError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models._artifact import (
    StaleArtifactError,
    UntrustedArtifactError,
    load_artifact,
    save_artifact,
    save_trained,
)
from addiction_index.models._training import train_model
from addiction_index.models._validation import validate

SPEC = "0123456789abcdef"


def _double(x, k=2.0):  # type: ignore[no-untyped-def]
    return x * k


@pytest.fixture(scope="module")
def ridge(block_table):  # type: ignore[no-untyped-def]
    return train_model(block_table, "craving", "ridge", spec_hash=SPEC, inner_folds=2)


@pytest.mark.parametrize(
    ("task", "model"),
    [
        ("craving", "ridge"),
        ("craving", "random-forest"),
        ("craving", "gbm"),
        ("index", "logistic"),
        ("index", "gbm"),
    ],
)
def test_round_trip_gives_identical_predictions(task, model, tables, tmp_path):
    table = tables[0] if task == "craving" else tables[1]
    trained = train_model(table, task, model, spec_hash=SPEC, inner_folds=2)
    paths = save_trained(tmp_path / f"{task}-{model}-v1", trained)
    assert paths["skops"].read_bytes()[:2] == b"PK"  # a skops zip, not a pickle
    loaded = load_artifact(paths["skops"], spec_hash=SPEC)
    np.testing.assert_array_equal(loaded.score(table), trained.score(table))
    assert loaded.feature_names == trained.feature_names
    scores = loaded.score(table)
    assert np.all((scores >= 0) & (scores <= 100))


def test_default_spec_hash_is_the_running_code(ridge, tmp_path):
    paths = save_trained(tmp_path / "m", ridge)
    with pytest.raises(StaleArtifactError):
        load_artifact(paths["skops"])  # SPEC is not the running hash
    fresh = train_model(ridge_table := _small_table(), "craving", "ridge", inner_folds=2)
    assert fresh.spec_hash == load_feature_spec().version_hash()
    paths = save_trained(tmp_path / "fresh", fresh)
    assert load_artifact(paths["skops"]).score(ridge_table).shape == (len(ridge_table),)


def _small_table():  # type: ignore[no-untyped-def]
    from synthetic_tables import make_tables

    return make_tables(n_subjects=8, sessions=1)[0]


def test_stale_feature_spec_is_refused_naming_both_hashes(ridge, tmp_path):
    paths = save_trained(tmp_path / "old", ridge)
    with pytest.raises(StaleArtifactError) as info:
        load_artifact(paths["skops"], spec_hash="fedcba9876543210")
    text = str(info.value)
    assert SPEC in text and "fedcba9876543210" in text
    assert "re-extract" in text and "retrain" in text
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(
    ("transformer", "expected"),
    [
        (FunctionTransformer(_double), "test_artifact._double"),
        (FunctionTransformer(functools.partial(_double, k=3.0)), "functools.partial"),
    ],
)
def test_unexpected_types_are_refused_by_name(transformer, expected, tmp_path):
    X, y = np.random.default_rng(0).random((20, 2)), np.arange(20.0)
    pipe = make_pipeline(transformer, Ridge()).fit(X, y)
    paths = save_artifact(
        tmp_path / "evil",
        pipe,
        {"task": "craving", "feature_spec_hash": SPEC, "feature_names": ["a", "b"]},
    )
    with pytest.raises(UntrustedArtifactError) as info:
        load_artifact(paths["skops"], spec_hash=SPEC)
    assert expected in str(info.value)
    assert any(expected in t for t in info.value.types)


def test_tampered_file_is_refused(ridge, tmp_path):
    paths = save_trained(tmp_path / "m", ridge)
    meta = json.loads(paths["json"].read_text())
    meta["sha256"] = "0" * 64
    paths["json"].write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="sha256"):
        load_artifact(paths["skops"], spec_hash=SPEC)


def test_metadata_and_model_card(block_table, ridge, tmp_path):
    result = validate(block_table, "craving", "ridge", outer_folds=3, inner_folds=2, n_bootstrap=50)
    paths = save_trained(tmp_path / "craving-ridge-v1", ridge, result)
    meta = json.loads(paths["json"].read_text())
    assert meta["feature_spec_hash"] == SPEC
    assert meta["task"] == "craving" and meta["label"] == "vas_craving"
    assert meta["data"]["n_subjects"] == 40
    assert meta["metrics"]["model"]["mae"]["ci_low"] <= meta["metrics"]["model"]["mae"]["value"]
    assert meta["validation"]["grouped_by"] == "subject"
    assert meta["versions"]["scikit_learn"] and meta["versions"]["skops"]
    assert meta["trained_by"] and meta["created"]
    card = paths["card"].read_text()
    assert "not diagnosis" in card and "not a diagnosis" in card
    for section in ("## Intended use", "## Data", "## Validation", "## Metrics", "## Limits"):
        assert section in card
    assert "MAE" in card and "[" in card
