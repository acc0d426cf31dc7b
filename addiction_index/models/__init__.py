"""Scoring: model definitions, the transparent estimator, live craving and the session index;
training, subject-grouped validation, skops artifacts, the registry and explanations.

The scoring names load with the package; the training names (scikit-learn pipelines, skops,
SHAP) load on first use, so a live session does not pay their import time (seconds).
"""

from __future__ import annotations

import importlib
from typing import Any

from addiction_index.models._craving import CravingEstimate, LiveCraving
from addiction_index.models._definition import (
    ModelDefinition,
    ModelFeature,
    load_model_definition,
)
from addiction_index.models._session_index import BlockData, IndexResult, score_session
from addiction_index.models._transparent import TransparentIndex

_LAZY = {
    "_artifact": ("ALLOWED_TYPES", "Artifact", "StaleArtifactError", "UntrustedArtifactError",
                  "load_artifact", "save_artifact", "save_trained"),
    "_baseline": ("default_scores",),
    "_explain": ("Explanation", "explain"),
    "_registry": ("list_models", "live_model", "models_root", "promote", "show_model"),
    "_training": ("MODELS", "TASKS", "TrainedModel", "train_model"),
    "_validation": ("ValidationResult", "evaluate_artifact", "validate"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "BlockData",
    "CravingEstimate",
    "IndexResult",
    "LiveCraving",
    "ModelDefinition",
    "ModelFeature",
    "TransparentIndex",
    "load_model_definition",
    "score_session",
    *sorted(_MODULE_OF),
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
