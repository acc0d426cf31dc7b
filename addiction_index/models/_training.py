"""Trainable scores: pipelines, the rows and columns each task uses, and tuned fitting.

Two tasks:

``craving``
    a regressor on the *block table*: one row per (recording, block) with a finite
    ``label:<label>`` (``vas_craving`` by default), features = the ``delta:`` columns (change from
    the recording's baseline block, as the live score sees it). Predictions are clipped to 0-100.
``index``
    a classifier on the *session table*: one row per recording, features = the ``cue:`` columns
    (drug block relative to the neutral block), target ``label:diagnosis`` (0/1). The index is
    100 × the calibrated probability.

Every pipeline is ``SimpleImputer(median) → StandardScaler → estimator`` with pandas output, so
feature names travel with the model. Hyper-parameters are tuned by ``GridSearchCV`` whose folds
are grouped by subject (``groups`` passed to ``fit``), so tuning never sees one person on both
sides. Index probabilities are calibrated by ``CalibratedClassifierCV(method="sigmoid",
ensemble=False)`` over subject-grouped folds: Platt scaling of cross-fitted decision values, one
final pipeline fitted on all rows (so a linear model stays linear in log-odds and can be explained
exactly). Calibration error is measured out of fold by :func:`~._validation.validate` either way.
"""

from __future__ import annotations

import getpass
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from addiction_index.errors import InputError

__all__ = [
    "DEFAULT_LABELS",
    "FEATURE_PREFIX",
    "MODELS",
    "TASKS",
    "TaskData",
    "TrainedModel",
    "build_pipeline",
    "data_summary",
    "fit_tuned",
    "grouped_splitter",
    "predict_score",
    "task_data",
    "train_model",
]

TASKS = ("craving", "index")
MODELS: dict[str, tuple[str, ...]] = {
    "craving": ("ridge", "random-forest", "gbm"),
    "index": ("logistic", "gbm"),
}
DEFAULT_LABELS = {"craving": "vas_craving", "index": "diagnosis"}
FEATURE_PREFIX = {"craving": "delta:", "index": "cue:"}
ID_COLUMNS = ("subject", "session", "recording", "block")
LATENT = "label:latent_craving"


def _check_task(task: str, model: str | None = None) -> None:
    if task not in TASKS:
        raise InputError("task", task, " or ".join(TASKS))
    if model is not None and model not in MODELS[task]:
        raise InputError("model", model, f"one of {', '.join(MODELS[task])} for task {task}")


@dataclass
class TaskData:
    """The rows and columns one task trains and validates on."""

    task: str
    label: str
    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    ids: pd.DataFrame
    latent: np.ndarray | None = None
    #: Positions (``iloc``) of the kept rows in the source table.
    positions: np.ndarray | None = None

    @property
    def feature_names(self) -> list[str]:
        return list(self.X.columns)


def task_data(table: pd.DataFrame, task: str, label: str | None = None) -> TaskData:
    """Select a task's rows (finite label, at least one finite feature) and columns."""
    _check_task(task)
    label = label or DEFAULT_LABELS[task]
    column = f"label:{label}"
    if "subject" not in table.columns:
        raise InputError("table", "no 'subject' column", "a block or session table")
    if column not in table.columns:
        known = sorted(c[6:] for c in table.columns if c.startswith("label:"))
        raise InputError("label", label, f"one of the table's labels: {', '.join(known) or 'none'}")
    prefix = FEATURE_PREFIX[task]
    features = [c for c in table.columns if c.startswith(prefix)]
    if not features:
        raise InputError("table", f"no '{prefix}' columns", f"a {task} table with {prefix}FEATURE")
    y = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    X = table[features].apply(pd.to_numeric, errors="coerce").astype(float)
    keep = np.isfinite(y) & X.notna().any(axis=1).to_numpy()
    if task == "index":
        bad = set(np.unique(y[keep])) - {0.0, 1.0}
        if bad:
            raise InputError("label", label, f"0/1 values for the index task (found {sorted(bad)})")
    sub = table.loc[keep]
    if sub["subject"].nunique() < 2:
        raise InputError("table", f"{sub['subject'].nunique()} labelled subjects", "at least 2")
    ids = sub[[c for c in ID_COLUMNS if c in sub.columns]].reset_index(drop=True)
    latent = (
        pd.to_numeric(sub[LATENT], errors="coerce").to_numpy(float)
        if task == "craving" and LATENT in sub.columns and column != LATENT
        else None
    )
    return TaskData(
        task=task,
        label=label,
        X=X.loc[keep].reset_index(drop=True),
        y=y[keep],
        groups=sub["subject"].astype(str).to_numpy(),
        ids=ids,
        latent=latent,
        positions=np.flatnonzero(keep),
    )


def build_pipeline(task: str, model: str, seed: int = 0) -> tuple[Pipeline, dict[str, list[Any]]]:
    """The unfitted pipeline of ``model`` for ``task`` and its tuning grid."""
    _check_task(task, model)
    estimator: BaseEstimator
    if model == "ridge":
        estimator = Ridge()
        grid: dict[str, list[Any]] = {"estimator__alpha": [0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4]}
    elif model == "random-forest":
        estimator = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)
        grid = {"estimator__min_samples_leaf": [2, 10], "estimator__max_features": ["sqrt", 1.0]}
    elif model == "logistic":
        estimator = LogisticRegression(max_iter=2000)
        grid = {"estimator__C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]}
    elif task == "craving":  # gbm
        estimator = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
        grid = {"estimator__learning_rate": [0.05, 0.1], "estimator__max_leaf_nodes": [7, 15]}
    else:
        estimator = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
        grid = {"estimator__learning_rate": [0.05, 0.1], "estimator__max_depth": [2, 3]}
    pipe = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("estimator", estimator),
        ]
    )
    return pipe.set_output(transform="pandas"), grid


def grouped_splitter(task: str, n_splits: int, groups: np.ndarray, seed: int = 0):  # type: ignore[no-untyped-def]
    """A subject-grouped K-fold (stratified by class for the index), K ≤ number of subjects."""
    k = max(2, min(n_splits, np.unique(groups).size))
    if task == "index":
        return StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return GroupKFold(n_splits=k, shuffle=True, random_state=seed)


def check_disjoint(groups: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
    """Raise AssertionError when a subject is on both sides of a split."""
    both = set(groups[train]) & set(groups[test])
    assert not both, f"subjects in both train and test: {sorted(both)[:5]}"


def fit_tuned(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    task: str,
    model: str,
    *,
    inner_folds: int = 3,
    seed: int = 0,
) -> tuple[BaseEstimator, dict[str, Any], GridSearchCV]:
    """Tune by a subject-grouped grid search, refit on all rows, calibrate index probabilities.

    Returns the fitted estimator (a pipeline, or a ``CalibratedClassifierCV`` around one), the
    chosen parameters and the fitted search.
    """
    pipe, grid = build_pipeline(task, model, seed)
    splitter = grouped_splitter(task, inner_folds, groups, seed)
    for train, test in splitter.split(X, y, groups):
        check_disjoint(groups, train, test)
    scoring = "neg_mean_absolute_error" if task == "craving" else "neg_log_loss"
    search = GridSearchCV(pipe, grid, cv=splitter, scoring=scoring, n_jobs=1, refit=True)
    # Study tables are small: one OpenMP thread per fit is faster than many, and keeps
    # gradient boosting from spinning threads on a busy machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        search.fit(X, y, groups=groups)
        best = dict(search.best_params_)
        if task == "craving":
            return search.best_estimator_, best, search
        tuned = clone(pipe).set_params(**best)
        splits = list(grouped_splitter(task, inner_folds, groups, seed + 1).split(X, y, groups))
        calibrated = CalibratedClassifierCV(tuned, method="sigmoid", cv=splits, ensemble=False)
        calibrated.fit(X, y)
    return calibrated, best, search


def predict_score(estimator: BaseEstimator, task: str, X: pd.DataFrame) -> np.ndarray:
    """Scores 0-100: clipped craving predictions, or 100 × calibrated probability of class 1."""
    if task == "craving":
        return np.clip(np.asarray(estimator.predict(X), dtype=float), 0.0, 100.0)
    return 100.0 * np.asarray(estimator.predict_proba(X), dtype=float)[:, 1]


def data_summary(
    data: TaskData, dataset: str | None = None, manifest_hash: str | None = None
) -> dict[str, Any]:
    """Subjects, rows, sessions and the label distribution of a task's data."""
    y = data.y
    if data.task == "index":
        values, counts = np.unique(y.astype(int), return_counts=True)
        distribution: dict[str, Any] = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    else:
        distribution = {
            "mean": float(np.mean(y)),
            "sd": float(np.std(y, ddof=1)) if y.size > 1 else math.nan,
            "min": float(np.min(y)),
            "median": float(np.median(y)),
            "max": float(np.max(y)),
        }
    summary: dict[str, Any] = {
        "dataset": dataset,
        "manifest_hash": manifest_hash,
        "n_subjects": int(np.unique(data.groups).size),
        "n_rows": len(y),
        "label": data.label,
        "label_distribution": distribution,
        "missing_fraction": {c: float(data.X[c].isna().mean()) for c in data.X.columns},
    }
    if "recording" in data.ids.columns:
        summary["n_recordings"] = int(data.ids["recording"].nunique())
    if "block" in data.ids.columns:
        summary["blocks"] = sorted(map(str, data.ids["block"].unique()))
    return summary


@dataclass
class TrainedModel:
    """A fitted score and everything an artifact records about it."""

    estimator: BaseEstimator
    task: str
    model: str
    label: str
    feature_names: list[str]
    best_params: dict[str, Any]
    spec_hash: str
    data: dict[str, Any]
    seed: int = 0
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    trained_by: str = ""

    def score(self, table: pd.DataFrame) -> np.ndarray:
        """Scores 0-100 for a table with this model's feature columns (missing ones are NaN)."""
        X = table.reindex(columns=self.feature_names).astype(float)
        return predict_score(self.estimator, self.task, X)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def train_model(
    table: pd.DataFrame,
    task: str,
    model: str,
    label: str | None = None,
    spec_hash: str | None = None,
    *,
    inner_folds: int = 3,
    seed: int = 0,
    dataset: str | None = None,
    manifest_hash: str | None = None,
    trained_by: str | None = None,
) -> TrainedModel:
    """Tune (subject-grouped grid search) and fit ``model`` for ``task`` on all labelled rows.

    ``spec_hash`` defaults to the running code's feature spec hash. Validate with
    :func:`~addiction_index.models._validation.validate` to know how well it generalises.
    """
    _check_task(task, model)
    if spec_hash is None:
        from addiction_index.features.spec import load_feature_spec

        spec_hash = load_feature_spec().version_hash()
    data = task_data(table, task, label)
    estimator, best, _ = fit_tuned(
        data.X, data.y, data.groups, task, model, inner_folds=inner_folds, seed=seed
    )
    return TrainedModel(
        estimator=estimator,
        task=task,
        model=model,
        label=data.label,
        feature_names=data.feature_names,
        best_params=best,
        spec_hash=spec_hash,
        data=data_summary(data, dataset, manifest_hash),
        seed=seed,
        trained_by=trained_by or _user(),
    )
