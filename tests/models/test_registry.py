"""Registry: names, listing, promotion history, the live model."""

from __future__ import annotations

import json

import pytest

from addiction_index.errors import InputError, ResourceNotFoundError
from addiction_index.models._artifact import save_trained
from addiction_index.models._registry import (
    REGISTRY_FILE,
    list_models,
    live_model,
    models_root,
    next_name,
    promote,
    show_model,
)
from addiction_index.models._training import train_model


@pytest.fixture(scope="module")
def trained(block_table):  # type: ignore[no-untyped-def]
    return train_model(block_table, "craving", "ridge", spec_hash="x", inner_folds=2)


def test_default_folder_follows_data_dir(models_dir):
    assert models_root() == models_dir


def test_names_count_up_per_task_and_model(models_dir, trained):
    assert next_name("craving", "ridge") == "craving-ridge-v1"
    save_trained(models_dir / "craving-ridge-v1", trained)
    save_trained(models_dir / "craving-ridge-v7", trained)
    assert next_name("craving", "ridge") == "craving-ridge-v8"
    assert next_name("craving", "gbm") == "craving-gbm-v1"


def test_promote_records_who_and_when_and_keeps_history(models_dir, trained):
    assert live_model("craving") is None  # → the transparent default
    save_trained(models_dir / "craving-ridge-v1", trained)
    save_trained(models_dir / "craving-ridge-v2", trained)
    first = promote("craving-ridge-v1", "craving", by="dr.lee")
    assert first["by"] == "dr.lee" and first["at"] and first["previous"] is None
    assert live_model("craving") == models_dir / "craving-ridge-v1.skops"
    second = promote("craving-ridge-v2")  # by = OS user
    assert second["by"] and second["previous"] == "craving-ridge-v1"
    assert live_model("craving") == models_dir / "craving-ridge-v2.skops"
    assert live_model("index") is None
    doc = json.loads((models_dir / REGISTRY_FILE).read_text())
    assert [h["name"] for h in doc["history"]] == ["craving-ridge-v1", "craving-ridge-v2"]
    listed = {m["name"]: m for m in list_models()}
    assert listed["craving-ridge-v2"]["live"] and not listed["craving-ridge-v1"]["live"]
    info = show_model("craving-ridge-v1")
    assert info["history"][0]["by"] == "dr.lee"
    assert "Model card" in info["card"]


def test_promote_checks_task_and_name(models_dir, trained, tmp_path):
    save_trained(models_dir / "craving-ridge-v1", trained)
    with pytest.raises(InputError, match="craving"):
        promote("craving-ridge-v1", "index")
    with pytest.raises(ResourceNotFoundError, match="craving-ridge-v1"):
        promote("nope-v1")
    other = tmp_path / "elsewhere"
    assert list_models(other) == []
    save_trained(other / "x-v1", trained)
    assert [m["name"] for m in list_models(other)] == ["x-v1"]
