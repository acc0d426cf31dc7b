"""The Markdown model card of a trained artifact, and the metric rows shared with the report."""

from __future__ import annotations

import math
from typing import Any

from addiction_index import NOT_A_DIAGNOSIS

__all__ = ["METRIC_LABELS", "metric_rows", "render_model_card"]

METRIC_LABELS = {
    "mae": "MAE (points, lower is better)",
    "spearman": "Spearman ρ",
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy (threshold 50)",
    "ece": "ECE, 10 equal-width bins (lower is better)",
    "brier": "Brier score (lower is better)",
}

INTENDED_USE = {
    "craving": (
        "Estimates the craving a person would rate (0-100) during a protocol block from the change "
        "of their EEG and heart features relative to their own resting baseline block."
    ),
    "index": (
        "Gives a per-session index 0-100 (100 × calibrated probability of the study's diagnosis "
        "label) from the drug-cue versus neutral-cue change of EEG and heart features."
    ),
}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):.{digits}g}"


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "—"
    return f"{_fmt(entry.get('value'))} [{_fmt(entry.get('ci_low'))}, {_fmt(entry.get('ci_high'))}]"


def metric_rows(
    metrics: dict[str, Any] | None, comparison: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """One row per metric: label, trained [CI], default [CI], difference [CI], verdict."""
    if not metrics:
        return []
    rows = []
    for key, entry in metrics.get("model", {}).items():
        rows.append(
            {
                "metric": METRIC_LABELS.get(key, key),
                "model": _cell(entry),
                "default": _cell(metrics.get("default", {}).get(key)),
                "difference": _cell(metrics.get("difference", {}).get(key)),
                "verdict": (comparison or {}).get(key, "—"),
            }
        )
    return rows


def _table(rows: list[dict[str, str]]) -> list[str]:
    out = [
        "| metric | trained model [95% CI] | transparent default [95% CI] "
        "| difference [95% CI] | trained vs default |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {r['metric']} | {r['model']} | {r['default']} | {r['difference']} | {r['verdict']} |"
        for r in rows
    ]
    return out


def render_model_card(meta: dict[str, Any]) -> str:
    """Markdown card from an artifact's metadata (see ``models/default-index.card.md``)."""
    task = str(meta.get("task"))
    data = meta.get("data") or {}
    scheme = meta.get("validation")
    lines = [
        f"# Model card: {meta.get('name')}",
        "",
        f"**{NOT_A_DIAGNOSIS} This trained model is not a diagnosis and not clinically "
        "validated; its numbers describe one dataset.**",
        "",
        "## What it is",
        f"A {meta.get('model')} model for the **{task}** score, trained on "
        f"`label:{meta.get('label')}`. " + INTENDED_USE.get(task, ""),
        f"Output: {meta.get('output', '')}.",
        "",
        f"- feature spec hash: `{meta.get('feature_spec_hash')}` (the model refuses to load with "
        "features from any other spec)",
        f"- features ({len(meta.get('feature_names') or [])}): "
        + ", ".join(f"`{f}`" for f in meta.get("feature_names") or []),
        f"- tuned parameters (grouped grid search on all data): `{meta.get('best_params')}`",
        f"- trained by {meta.get('trained_by') or 'unknown'} on {meta.get('created')}",
        "",
        "## Intended use",
        "Research, and decision support by trained staff who also see the signals, the protocol "
        "and the person. Not for diagnosis, sentencing, release decisions or any decision made on "
        "the score alone.",
        "",
        "## Data",
        f"- dataset: {data.get('dataset') or 'unnamed table'}"
        + (f" (manifest sha256 `{data['manifest_hash']}`)" if data.get("manifest_hash") else ""),
        f"- {data.get('n_subjects')} subjects, {data.get('n_rows')} rows"
        + (f", {data['n_recordings']} recordings" if data.get("n_recordings") else ""),
        f"- label distribution: {data.get('label_distribution')}",
        "",
        "## Validation",
    ]
    if scheme:
        lines += [
            f"- outer: {scheme.get('outer')}",
            f"- inner: {scheme.get('inner')}",
            f"- tuning: {scheme.get('tuning')}",
        ]
        if scheme.get("calibration"):
            lines.append(f"- calibration: {scheme['calibration']}")
        lines += [
            f"- confidence intervals: {scheme.get('bootstrap')}",
            "- the transparent default model (`default-index`) was scored on the same rows",
            "",
            "## Metrics (out of fold)",
            *_table(metric_rows(meta.get("metrics"), meta.get("comparison"))),
        ]
        if meta.get("latent_metrics"):
            lines += [
                "",
                "Against the simulated latent craving (`label:latent_craving`):",
                "",
                *_table(metric_rows(meta.get("latent_metrics"))),
            ]
        if scheme.get("leaky"):
            lines += [
                "",
                "**WARNING: leaky validation (rows, not subjects): numbers are inflated.**",
            ]
    else:
        lines.append("Not validated: run `addiction-index evaluate` before using it.")
    lines += [
        "",
        "## Limits",
        "- Numbers hold for people like those in the training data, recorded with the same "
        "devices, protocol and feature spec; they are not evidence for any other population.",
        "- Self-reported craving is a noisy label: many residents rate zero while reacting.",
        "- Confidence intervals resample subjects of this dataset; they do not cover a change of "
        "site, device or protocol. Small datasets give wide intervals: read them before the point "
        "estimate.",
        "- When its confidence interval of the difference spans 0, the trained model is not shown "
        "to beat the transparent default; prefer the default then.",
        "",
        "## Reproducibility",
        f"- versions: {meta.get('versions')}",
        f"- skops file sha256: `{meta.get('sha256', '')}`",
        f"- seed: {meta.get('seed')}",
        "",
    ]
    return "\n".join(lines)
