"""Scoring: model definitions, the transparent estimator, live craving and the session index."""

from addiction_index.models._craving import CravingEstimate, LiveCraving
from addiction_index.models._definition import (
    ModelDefinition,
    ModelFeature,
    load_model_definition,
)
from addiction_index.models._session_index import BlockData, IndexResult, score_session
from addiction_index.models._transparent import TransparentIndex

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
]
