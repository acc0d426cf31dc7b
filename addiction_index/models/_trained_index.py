"""The session index from a promoted trained model: what ``models promote`` changes in sessions.

When the registry names a live ``index`` model (:func:`~addiction_index.models._registry.
live_model`), an assessment loads it at start (refusing a stale feature spec or an untrusted
type before anything is recorded) and scores the finished session with it instead of the
transparent default. The session's hops become the row the model was trained on, by the same
code as the batch tables (:func:`~addiction_index.datasets._tables.recording_blocks`): block
means over usable hops, then ``cue:<feature>`` = the drug block relative to the neutral block.
The transparent default's result is kept in the reason text, so a report shows both.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from addiction_index.models._session_index import BlockData, IndexResult

if TYPE_CHECKING:
    from addiction_index.features.spec import FeatureSpec
    from addiction_index.models._artifact import Artifact

__all__ = ["load_live", "session_cue_row", "trained_index"]


def load_live(
    task: str, spec_hash: str, models_dir: str | os.PathLike[str] | None = None
) -> Artifact | None:
    """The promoted model of ``task`` (craving, index), loaded and checked; None if none is."""
    from addiction_index.models._registry import live_model

    path = live_model(task, models_dir)
    if path is None:
        return None
    from addiction_index.models._artifact import load_artifact

    return load_artifact(path, spec_hash=spec_hash)


def session_cue_row(
    blocks: list[BlockData],
    spec: FeatureSpec,
    *,
    cue_role: str = "drug",
    reference_role: str = "neutral",
    min_usable: float = 0.5,
) -> dict[str, float] | None:
    """``cue:<feature>`` of one session (None without a cue and a reference block)."""
    from addiction_index.datasets._tables import (
        delta_kind,
        recording_blocks,
        relative_change,
        value_features,
    )

    by_role = {b.role: b for b in reversed(blocks)}  # the first block of each role
    if cue_role not in by_role or reference_role not in by_role:
        return None
    features = value_features(spec)
    kinds = {name: delta_kind(spec.registry[name]) for name in features}
    n_hops = [b.hop_times.size for b in blocks]
    names = {k for b in blocks for k in b.hop_features}
    pairs = list(zip(blocks, n_hops, strict=True))
    hop = {k: np.concatenate([b.hop_features.get(k, np.full(n, np.nan)) for b, n in pairs])
           for k in names}  # fmt: skip
    block_of = np.repeat([b.block_id for b in blocks], n_hops).astype(str)
    _, _, _, rows, _ = recording_blocks(hop, block_of, features, kinds, min_usable)
    cue, ref = rows.get(by_role[cue_role].block_id), rows.get(by_role[reference_role].block_id)
    if cue is None or ref is None:  # a block without hops
        return None
    return {f"cue:{f}": relative_change(cue[f], ref[f], kinds[f]) for f in features}


def trained_index(
    artifact: Artifact, blocks: list[BlockData], spec: FeatureSpec, default: IndexResult
) -> IndexResult:
    """Score a finished session with ``artifact`` (an index model); ``default`` is the
    transparent model's result of the same session (kept for comparison)."""
    import pandas as pd

    from addiction_index.models._explain import explain

    version = str(artifact.meta.get("created", ""))
    shown = "none" if default.value is None else f"{default.value:.0f}"
    compare = f"transparent default {default.model} {default.model_version}: {shown}"
    row = session_cue_row(blocks, spec)
    if row is None:
        return IndexResult("insufficient_data", None, None, None, None, [],
                           [{"feature": "cue blocks", "reason": "no drug and neutral blocks"}],
                           f"the session has no drug and neutral blocks; {compare}",
                           artifact.name, version, False,
                           block_summaries=default.block_summaries)  # fmt: skip
    X = artifact.features(pd.DataFrame([row]))
    present = X.notna().to_numpy()[0]
    excluded = [
        {"feature": name, "reason": "not usable in this session (imputed from training data)"}
        for name, ok in zip(artifact.feature_names, present, strict=True)
        if not ok
    ]
    value = float(artifact.score(pd.DataFrame([row]))[0])
    no_reactivity = float(artifact.score(pd.DataFrame([dict.fromkeys(row, 0.0)]))[0])
    why = explain(artifact.estimator, X, "index", top_k=5)[0]
    contributions = [
        {
            "feature": c["feature"].removeprefix("cue:"),
            "label": c["label"],
            "change": c["value"],
            "change_pct": _percent(c["feature"], c["value"], spec),
            "points": c["contribution"],
            "units": why.units,
            "method": why.method,
        }
        for c in why.contributions
    ]
    scheme = artifact.meta.get("validation") or {}
    outer = scheme.get("outer") if isinstance(scheme, dict) else None
    reason = f"trained model {artifact.name}" + (f", validated by {outer}" if outer else "")
    reason += f"; {compare}"
    return IndexResult(
        status="ok",
        value=value,
        confidence=float(present.mean()),
        interval=None,
        base_value=no_reactivity,
        contributions=contributions,
        excluded=excluded,
        reason=reason,
        model=artifact.name,
        model_version=version,
        validated=False,
        block_summaries=default.block_summaries,
    )


def _percent(column: str, value: float | None, spec: FeatureSpec) -> float | None:
    """A log-ratio change as a percentage (None for differences and missing values)."""
    from addiction_index.datasets._tables import delta_kind

    name = column.removeprefix("cue:")
    if value is None or name not in spec.registry or delta_kind(spec.registry[name]) != "log_ratio":
        return None
    return 100.0 * (float(np.exp(value)) - 1.0)
