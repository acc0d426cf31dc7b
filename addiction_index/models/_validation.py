"""Honest validation: subject-grouped nested cross-validation with bootstrap CIs over subjects.

Outer loop: ``GroupKFold`` (craving) or ``StratifiedGroupKFold`` (index) on ``subject``; no person
is in both the training and the test fold (asserted for every split). Inside each outer training
fold, :func:`~._training.fit_tuned` tunes the hyper-parameters by a grid search whose own folds
are again grouped by subject, and (index) calibrates probabilities on grouped folds of the
training fold only. Every row gets one out-of-fold score.

The transparent default model scores the same rows (it learns nothing, so it needs no folds) and
both are bootstrapped with the same resampled subjects, so the report can say whether the trained
model beats the default and by how much (paired difference CI).

``leaky=True`` replaces subjects by rows (plain K-fold over rows, inner folds over rows too). It
exists only to show, in tests and reports, how much a row-level split flatters a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from addiction_index.errors import InputError
from addiction_index.models._baseline import default_scores
from addiction_index.models._metrics import (
    HIGHER_IS_BETTER,
    bootstrap_ci,
    fast_metric_functions,
    metric_functions,
)
from addiction_index.models._training import (
    TaskData,
    _check_task,
    check_disjoint,
    data_summary,
    fit_tuned,
    grouped_splitter,
    predict_score,
    task_data,
)

__all__ = ["ValidationResult", "evaluate_artifact", "validate"]


@dataclass
class ValidationResult:
    """Out-of-fold predictions, per-fold choices and metrics with CIs of one validation run."""

    task: str
    model: str
    label: str
    leaky: bool
    scheme: dict[str, Any]
    data: dict[str, Any]
    predictions: pd.DataFrame
    folds: list[dict[str, Any]]
    metrics: dict[str, dict[str, Any]]
    latent_metrics: dict[str, dict[str, Any]] | None = None
    comparison: dict[str, str] = field(default_factory=dict)

    def value(self, metric: str, which: str = "model") -> float:
        """The point estimate of ``metric`` for ``"model"``, ``"default"`` or ``"difference"``."""
        return float(self.metrics[which][metric]["value"])

    def to_dict(self, predictions: bool = False) -> dict[str, Any]:
        """JSON-ready dict (out-of-fold predictions only when asked)."""
        out = {
            "task": self.task,
            "model": self.model,
            "label": self.label,
            "leaky": self.leaky,
            "scheme": self.scheme,
            "data": self.data,
            "folds": self.folds,
            "metrics": self.metrics,
            "latent_metrics": self.latent_metrics,
            "comparison": self.comparison,
        }
        if predictions:
            out["predictions"] = self.predictions.to_dict(orient="records")
        return _finite(out)


def _finite(value: Any) -> Any:
    """NaN/inf → None, numpy scalars → Python, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _compare(metrics: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Per metric: "better", "worse" or "not distinguishable" (difference CI spans 0)."""
    out = {}
    for name, diff in metrics.get("difference", {}).items():
        lo, hi = diff["ci_low"], diff["ci_high"]
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 <= hi:
            out[name] = "not distinguishable"
            continue
        up = lo > 0
        out[name] = "better" if up == HIGHER_IS_BETTER[name] else "worse"
    return out


def _scheme(
    data: TaskData, outer: int, inner: int, leaky: bool, n_boot: int, seed: int
) -> dict[str, Any]:
    n_subjects = int(np.unique(data.groups).size)
    if leaky:
        outer_text = f"{outer}-fold KFold over rows, ignoring subjects (LEAKY, for demonstration)"
        inner_text = f"{inner}-fold over rows"
    else:
        kind = "StratifiedGroupKFold" if data.task == "index" else "GroupKFold"
        outer_text = f"{outer}-fold {kind} grouped by subject (no person in train and test)"
        inner_text = f"{inner}-fold {kind} grouped by subject inside each outer training fold"
    return {
        "outer": outer_text,
        "inner": inner_text,
        "outer_folds": outer,
        "inner_folds": inner,
        "grouped_by": None if leaky else "subject",
        "leaky": leaky,
        "n_subjects": n_subjects,
        "n_rows": len(data.y),
        "tuning": "GridSearchCV, nested (tuned inside every outer training fold)",
        "calibration": (
            "CalibratedClassifierCV(method='sigmoid', ensemble=False) on grouped folds "
            "of the training fold"
            if data.task == "index"
            else None
        ),
        "bootstrap": f"{n_boot} resamples of subjects with replacement, percentile 95% CI",
        "seed": seed,
    }


def validate(
    table: pd.DataFrame,
    task: str,
    model: str,
    label: str | None = None,
    *,
    outer_folds: int = 5,
    inner_folds: int = 3,
    n_bootstrap: int = 1000,
    seed: int = 0,
    leaky: bool = False,
    dataset: str | None = None,
    manifest_hash: str | None = None,
) -> ValidationResult:
    """Nested subject-grouped cross-validation of ``model`` for ``task`` (module docstring)."""
    _check_task(task, model)
    if outer_folds < 2 or inner_folds < 2:
        raise InputError("folds", (outer_folds, inner_folds), "at least 2 outer and inner folds")
    data = task_data(table, task, label)
    subjects = data.groups
    cv_groups = np.array([f"row{i}" for i in range(len(data.y))]) if leaky else subjects
    outer = grouped_splitter(task, outer_folds, cv_groups, seed)
    oof = np.full(len(data.y), np.nan)
    fold_of = np.full(len(data.y), -1)
    folds: list[dict[str, Any]] = []
    for k, (train, test) in enumerate(outer.split(data.X, data.y, cv_groups)):
        check_disjoint(cv_groups, train, test)
        estimator, best, search = fit_tuned(
            data.X.iloc[train],
            data.y[train],
            cv_groups[train],
            task,
            model,
            inner_folds=inner_folds,
            seed=seed,
        )
        oof[test] = predict_score(estimator, task, data.X.iloc[test])
        fold_of[test] = k
        folds.append(
            {
                "fold": k,
                "n_train_rows": len(train),
                "n_test_rows": len(test),
                "train_subjects": sorted(set(subjects[train])),
                "test_subjects": sorted(set(subjects[test])),
                "best_params": best,
                "inner_best_score": float(search.best_score_),
                "inner_splits": int(search.n_splits_),
            }
        )
    assert np.all(fold_of >= 0), "every row has an out-of-fold prediction"
    default = default_scores(table.iloc[data.positions], task)
    predictions = data.ids.copy()
    predictions["y"] = data.y
    predictions["score"] = oof
    predictions["default"] = default
    predictions["fold"] = fold_of
    if data.latent is not None:
        predictions["latent"] = data.latent
    scale = 1.0 if task == "craving" else 100.0
    fns = metric_functions(task)
    preds = {"model": oof / scale, "default": default / scale}
    fast = fast_metric_functions(task)
    metrics = bootstrap_ci(
        subjects, data.y, preds, fns, fast_metrics=fast, n_resamples=n_bootstrap, seed=seed
    )
    latent_metrics = None
    if data.latent is not None and np.isfinite(data.latent).any():
        ok = np.isfinite(data.latent)
        latent_metrics = bootstrap_ci(
            subjects[ok],
            data.latent[ok],
            {k: v[ok] for k, v in preds.items()},
            fns,
            fast_metrics=fast,
            n_resamples=n_bootstrap,
            seed=seed,
        )
    return ValidationResult(
        task=task,
        model=model,
        label=data.label,
        leaky=leaky,
        scheme=_scheme(data, outer.get_n_splits(), inner_folds, leaky, n_bootstrap, seed),
        data=data_summary(data, dataset, manifest_hash),
        predictions=predictions,
        folds=folds,
        metrics=metrics,
        latent_metrics=latent_metrics,
        comparison=_compare(metrics),
    )


def evaluate_artifact(
    artifact: Any,
    table: pd.DataFrame,
    *,
    external: bool | None = None,
    outer_folds: int = 5,
    inner_folds: int = 3,
    n_bootstrap: int = 1000,
    seed: int | None = None,
    dataset: str | None = None,
    manifest_hash: str | None = None,
) -> tuple[ValidationResult, dict[str, dict[str, Any]] | None]:
    """Validate a saved model's recipe on ``table``; score the saved model itself when external.

    The nested subject-grouped cross-validation refits the artifact's task, model and label
    (its seed unless ``seed`` is given) on this table: an honest estimate for the recipe. When the
    table comes from another dataset than the artifact's training data (``external=None`` decides
    by dataset name and manifest hash), the fitted artifact also scores every row without
    refitting, with the same bootstrap (``external`` metrics, trained vs default).
    """
    meta = artifact.meta
    seed = int(meta.get("seed") or 0) if seed is None else seed
    result = validate(
        table,
        meta["task"],
        meta["model"],
        meta["label"],
        outer_folds=outer_folds,
        inner_folds=inner_folds,
        n_bootstrap=n_bootstrap,
        seed=seed,
        dataset=dataset,
        manifest_hash=manifest_hash,
    )
    trained_on = meta.get("data") or {}
    if external is None:
        same_name = dataset is not None and dataset == trained_on.get("dataset")
        same_hash = manifest_hash is not None and manifest_hash == trained_on.get("manifest_hash")
        external = dataset is not None and not (same_name or same_hash)
    if not external:
        return result, None
    data = task_data(table, meta["task"], meta["label"])
    scale = 1.0 if data.task == "craving" else 100.0
    scores = artifact.score(table.iloc[data.positions]) / scale
    metrics = bootstrap_ci(
        data.groups,
        data.y,
        {"model": scores, "default": result.predictions["default"].to_numpy(float) / scale},
        metric_functions(data.task),
        fast_metrics=fast_metric_functions(data.task),
        n_resamples=n_bootstrap,
        seed=seed,
    )
    return result, metrics
