"""The per-session addiction index: drug-cue versus neutral-cue reactivity, given a usable baseline.

For every weighted feature of the model definition, each block (baseline, neutral, drug) gives one
value: EEG features are the mean over the block's clean hops; heart features are computed over the
block's own beats with the same kernel as the live path
(:func:`~addiction_index.features.hrv.hrv_window`).
A feature whose baseline block is unusable is left out; if that leaves nothing, the result is
"no baseline". The change of each feature (log ratio drug/neutral) feeds the transparent model;
a bootstrap over non-overlapping EEG windows and heartbeats gives the interval and confidence.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.features.hrv import hrv_window
from addiction_index.models._definition import ModelDefinition, ModelFeature
from addiction_index.models._transparent import TransparentIndex

__all__ = ["BlockData", "IndexResult", "block_value", "score_session", "usable_mask"]

SELF_REPORT = "self_report"


@dataclass
class BlockData:
    """What one protocol block produced: hop features (all hops) and the beats inside it."""

    block_id: str
    role: str
    start: float
    end: float
    hop_times: np.ndarray
    hop_features: dict[str, np.ndarray]
    rr_times: np.ndarray
    rr_ms: np.ndarray


@dataclass
class IndexResult:
    """The addiction index of one session, or the reason there is none."""

    status: str  # "ok" | "no_baseline" | "insufficient_data"
    value: float | None
    confidence: float | None
    interval: tuple[float, float] | None
    base_value: float | None
    contributions: list[dict[str, object]]
    excluded: list[dict[str, str]]
    reason: str
    model: str
    model_version: str
    validated: bool
    statement: str = NOT_A_DIAGNOSIS
    block_summaries: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["interval"] = list(self.interval) if self.interval else None
        return out


def usable_mask(name: str, hop_features: dict[str, np.ndarray]) -> np.ndarray:
    """Hops where feature ``name`` is computed from clean channels and is finite.

    Works on arrays of hops and, element-wise, on one hop's dict of floats.
    """
    values = hop_features[name]
    mask = np.isfinite(values)
    if name.endswith("_frontal") or name == "eeg_faa":
        mask &= hop_features["eeg_usable_frontal"] == 1.0
    elif name.endswith("_temporal"):
        mask &= (hop_features["eeg_quality_TP9"] == 0) & (hop_features["eeg_quality_TP10"] == 0)
    elif name.startswith("eeg_"):
        channel = name.rsplit("_", 1)[-1]
        key = f"eeg_quality_{channel}"
        mask &= (hop_features[key] == 0) if key in hop_features else hop_features["eeg_usable"] == 1
    return mask


def _is_heart(name: str) -> bool:
    return name.startswith(("hr_", "hrv_"))


@dataclass
class _Units:
    """Resampling units of one feature in one block, and the block value they give."""

    value: float
    units: np.ndarray
    n_total: int
    n_usable: int


def block_value(
    feature: str,
    block: BlockData,
    definition: ModelDefinition,
    eeg_window_s: float,
    hop_s: float,
) -> tuple[_Units | None, str]:
    """The block's value of ``feature`` with its resampling units, or None and the reason."""
    q = definition.quality
    settle_start = block.start + q.settle_s
    if _is_heart(feature):
        if block.end - settle_start < q.min_heart_s:
            return None, (
                f"block {block.block_id} is shorter than {q.settle_s:g} s settling plus "
                f"{q.min_heart_s:g} s of beats"
            )
        keep = block.rr_times > settle_start
        rr_t, rr = block.rr_times[keep], block.rr_ms[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hr, rmssd, n = hrv_window(
                rr_t, rr, np.array([block.end]), block.end - settle_start, q.min_heart_s
            )
        value = {"hr_mean_bpm": hr[0], "hrv_rmssd_ms": rmssd[0]}.get(feature, math.nan)
        if not math.isfinite(value):
            return None, f"fewer than {q.min_heart_s:g} s of beats in block {block.block_id}"
        units = np.diff(rr) if feature == "hrv_rmssd_ms" else rr
        return _Units(float(value), units, int(n[0]), int(n[0])), ""
    if feature not in block.hop_features:
        return None, f"feature {feature} was not computed"
    inside = (block.hop_times - eeg_window_s >= settle_start - 1e-9) & (
        block.hop_times <= block.end + 1e-9
    )
    mask = usable_mask(feature, block.hop_features) & inside
    n_total, n_usable = int(inside.sum()), int(mask.sum())
    if n_total == 0 or n_usable / n_total < q.min_usable_fraction:
        return None, (
            f"{n_usable} of {n_total} windows clean in block {block.block_id} "
            f"(need {q.min_usable_fraction:.0%})"
        )
    values = block.hop_features[feature][mask]
    stride = max(1, round(eeg_window_s / hop_s))  # non-overlapping windows for the bootstrap
    return _Units(float(values.mean()), values[::stride], n_total, n_usable), ""


def _change(feature: ModelFeature, drug: float, neutral: float) -> float:
    if feature.difference:
        return drug - neutral
    if drug <= 0 or neutral <= 0:
        return math.nan
    return math.log(drug / neutral)


def _resampled_value(feature: str, units: np.ndarray, rng: np.random.Generator) -> float:
    sample = units[rng.integers(0, units.size, units.size)]
    if feature == "hrv_rmssd_ms":
        return float(np.sqrt(np.mean(sample**2)))
    if feature == "hr_mean_bpm":
        return float(60000.0 / np.mean(sample))
    return float(np.mean(sample))


def _estimator(definition: ModelDefinition, features: list[ModelFeature]) -> TransparentIndex:
    directions = [f.direction for f in features]
    weights = [f.weight for f in features]
    references = [f.reference_change for f in features]
    if definition.self_report is not None:
        directions.append(1)
        weights.append(definition.self_report.weight)
        references.append(1.0)
    est = TransparentIndex(
        tuple(directions),
        tuple(weights),
        tuple(references),
        definition.index.gain,
        definition.index.midpoint,
    )
    return est.fit(np.zeros((1, len(weights))))


def score_session(
    definition: ModelDefinition,
    blocks: list[BlockData],
    ratings: dict[str, float],
    *,
    eeg_window_s: float,
    hop_s: float,
    seed: int = 0,
) -> IndexResult:
    """Score one session: see the module docstring."""
    by_role: dict[str, BlockData] = {}
    for block in blocks:
        by_role.setdefault(block.role, block)
    features = definition.weighted_features
    summaries: list[dict[str, object]] = []
    units: dict[str, dict[str, _Units]] = {}
    excluded: list[dict[str, str]] = []
    for block in blocks:
        for feature in definition.features:
            got, _ = block_value(feature.name, block, definition, eeg_window_s, hop_s)
            summaries.append(
                {
                    "block": block.block_id,
                    "feature": feature.name,
                    "mean": got.value if got else None,
                    "sd": float(np.std(got.units)) if got and got.units.size > 1 else None,
                    "n_hops": got.n_total if got else 0,
                    "n_usable": got.n_usable if got else 0,
                }
            )
    no_baseline = 0
    for feature in features:
        per_role: dict[str, _Units] = {}
        for role in ("baseline", "neutral", "drug"):
            block = by_role.get(role)
            got, why = (
                (None, f"no {role} block")
                if block is None
                else block_value(feature.name, block, definition, eeg_window_s, hop_s)
            )
            if got is None:
                excluded.append({"feature": feature.name, "reason": why})
                no_baseline += role == "baseline"
                break
            per_role[role] = got
        else:
            units[feature.name] = per_role
    used = [f for f in features if f.name in units]
    status_kwargs = dict(
        model=definition.name,
        model_version=definition.version,
        validated=definition.validated,
        block_summaries=summaries,
    )
    if not used:
        status = "no_baseline" if no_baseline else "insufficient_data"
        reason = (
            "no usable baseline block: the resting baseline had no clean EEG and too few "
            "beats, so no score is given"
            if status == "no_baseline"
            else "the cue blocks had too little clean data to score"
        )
        return IndexResult(status, None, None, None, None, [], excluded, reason, **status_kwargs)
    rating = ratings.get(definition.self_report.rating) if definition.self_report else None
    all_features = list(features)
    est = _estimator(definition, all_features)
    row = [
        _change(f, units[f.name]["drug"].value, units[f.name]["neutral"].value)
        if f.name in units
        else math.nan
        for f in all_features
    ]
    if definition.self_report is not None:
        row.append(rating / 100.0 if rating is not None else math.nan)
    x = np.array([row])
    value = float(est.predict(x)[0])
    points = est.contributions(x)[0]
    rng = np.random.default_rng(seed)
    boot = np.empty((definition.quality.bootstrap_resamples, x.shape[1]))
    boot[:] = x
    for j, f in enumerate(all_features):
        if f.name not in units:
            continue
        for b in range(boot.shape[0]):
            drug = _resampled_value(f.name, units[f.name]["drug"].units, rng)
            neutral = _resampled_value(f.name, units[f.name]["neutral"].units, rng)
            boot[b, j] = _change(f, drug, neutral)
    lo, hi = np.nanpercentile(est.predict(boot), [5, 95])
    total_weight = sum(f.weight for f in all_features) + (
        definition.self_report.weight if definition.self_report else 0.0
    )
    present_weight = float(np.sum(~np.isnan(x[0]) * np.asarray(est.weights)))
    confidence = float(np.clip(1.0 - (hi - lo) / 100.0, 0.0, 1.0) * present_weight / total_weight)
    contributions = []
    for j, f in enumerate(all_features):
        if f.name in units:
            contributions.append(
                {
                    "feature": f.name,
                    "label": f.label,
                    "change": row[j],
                    "change_pct": _pct(f, row[j]),
                    "points": float(points[j]),
                    "weight": f.weight,
                    "cite": f.cite,
                }
            )
    if definition.self_report is not None and rating is not None:
        sr = definition.self_report
        contributions.append(
            {
                "feature": SELF_REPORT,
                "label": sr.label,
                "change": rating,
                "change_pct": None,
                "points": float(points[-1]),
                "weight": sr.weight,
                "cite": sr.cite,
            }
        )
    elif definition.self_report is not None:
        excluded.append({"feature": SELF_REPORT, "reason": "no post-cue rating recorded"})
    contributions.sort(key=lambda c: -abs(float(c["points"])))  # type: ignore[arg-type]
    return IndexResult(
        "ok",
        value,
        confidence,
        (float(lo), float(hi)),
        est.baseline_value(),
        contributions,
        excluded,
        "",
        **status_kwargs,
    )


def _pct(feature: ModelFeature, change: float) -> float | None:
    if feature.difference or not math.isfinite(change):
        return None
    return 100.0 * (math.exp(change) - 1.0)
