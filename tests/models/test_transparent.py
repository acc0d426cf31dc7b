"""The transparent index: the scikit-learn contract, the arithmetic, and the shipped definition."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from addiction_index.errors import ConfigError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import TransparentIndex, load_model_definition


def _model() -> TransparentIndex:
    return TransparentIndex(
        directions=(-1, 1),
        weights=(0.75, 0.25),
        reference_changes=(0.5, 0.4),
        gain=4.0,
        midpoint=0.5,
    )


def test_sklearn_contract() -> None:
    model = _model()
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="has 2 values; X has 3 columns"):
        model.fit(np.zeros((1, 3)))
    assert model.fit(np.zeros((4, 2))) is model and model.n_features_in_ == 2


def test_hand_computed_index_and_contributions() -> None:
    model = _model().fit(np.zeros((1, 2)))
    x = np.array([[-0.25, 0.2]])  # alpha −22 %, beta +22 %
    # s = (0.75 × (−1)(−0.25)/0.5 + 0.25 × 0.2/0.4) / 1.0 = 0.375 + 0.125 = 0.5
    assert model.score_samples(x)[0] == pytest.approx(0.5)
    assert model.predict(x)[0] == pytest.approx(50.0)
    base = 100 / (1 + math.exp(2.0))
    assert model.baseline_value() == pytest.approx(base)
    parts = model.contributions(x)[0]
    assert parts.sum() == pytest.approx(50.0 - base)
    assert parts[0] == pytest.approx(3 * parts[1])  # 0.375 vs 0.125 of s


def test_missing_features_are_left_out_and_weights_renormalised() -> None:
    model = _model().fit(np.zeros((1, 2)))
    only_alpha = model.score_samples(np.array([[-0.25, np.nan]]))[0]
    assert only_alpha == pytest.approx(0.375 / 0.75)
    assert math.isnan(model.predict(np.array([[np.nan, np.nan]]))[0])


def test_index_rises_with_reactivity() -> None:
    model = _model().fit(np.zeros((1, 2)))
    grid = np.column_stack([-np.linspace(0, 1, 11), np.linspace(0, 1, 11)])
    assert np.all(np.diff(model.predict(grid)) > 0)


def test_shipped_definition_matches_the_running_feature_spec() -> None:
    definition = load_model_definition()
    assert definition.validated is False
    assert definition.feature_spec_hash == load_feature_spec().version_hash()
    names = set(load_feature_spec().feature_names())
    assert {f.name for f in definition.features} <= names
    card = Path(__file__).resolve().parents[2] / "models" / definition.card
    assert "not clinically validated" in card.read_text().lower()


def test_definition_typo_names_file_and_key(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "models" / "default-index.yaml").read_text()
    (tmp_path / "m.yaml").write_text(
        text.replace("reference_change: 0.4", "reference_chnge: 0.4", 1)
    )
    with pytest.raises(ConfigError) as err:
        load_model_definition("m", tmp_path)
    assert err.value.key.endswith("reference_chnge") and "reference_change" in str(err.value)
