"""The transparent default model's scores on block and session tables (nothing to train).

Craving: as :class:`~addiction_index.models.LiveCraving` does, a
:class:`~addiction_index.models.TransparentIndex` over the definition's weighted features with
the definition's ``craving`` logistic, applied to the ``delta:<feature>`` columns (change from
the recording's baseline block).

Index: as :func:`~addiction_index.models.score_session` does, the weighted features (plus the
post-cue self-report, when the table has ``label:<rating>`` or ``rating:<rating>``, divided by 100)
with the ``index`` logistic, applied to the ``cue:<feature>`` columns (drug vs neutral block).

Missing columns are NaN: their weight is left out and the others renormalised, exactly as live.
A row with no weighted feature gets NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from addiction_index.models._definition import ModelDefinition, load_model_definition
from addiction_index.models._session_index import _estimator as _index_estimator
from addiction_index.models._transparent import TransparentIndex

__all__ = ["default_scores"]


def _craving_estimator(definition: ModelDefinition) -> TransparentIndex:
    features = definition.weighted_features
    est = TransparentIndex(
        tuple(f.direction for f in features),
        tuple(f.weight for f in features),
        tuple(f.reference_change for f in features),
        definition.craving.gain,
        definition.craving.midpoint,
    )
    return est.fit(np.zeros((1, len(features))))


def default_scores(
    table: pd.DataFrame, task: str, definition: ModelDefinition | None = None
) -> np.ndarray:
    """The default model's 0-100 score for every row of a block (craving) or session table."""
    definition = definition or load_model_definition("default-index")
    features = definition.weighted_features
    prefix = "delta:" if task == "craving" else "cue:"
    columns = [
        pd.to_numeric(table[f"{prefix}{f.name}"], errors="coerce").to_numpy(float)
        if f"{prefix}{f.name}" in table.columns
        else np.full(len(table), np.nan)
        for f in features
    ]
    if task == "craving":
        est = _craving_estimator(definition)
    else:
        est = _index_estimator(definition, features)
        if definition.self_report is not None:
            rating = definition.self_report.rating
            found = next(
                (c for c in (f"label:{rating}", f"rating:{rating}") if c in table.columns), None
            )
            values = (
                pd.to_numeric(table[found], errors="coerce").to_numpy(float) / 100.0
                if found
                else np.full(len(table), np.nan)
            )
            columns.append(values)
    X = np.column_stack(columns) if columns else np.empty((len(table), 0))
    return np.asarray(est.predict(X), dtype=float)
