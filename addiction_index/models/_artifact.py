"""Trained-model artifacts: skops files (never pickle), metadata and a model card beside them.

An artifact ``NAME`` is three files in one folder::

    NAME.skops     the fitted estimator, written by ``skops.io.dump``
    NAME.json      metadata: task, label, feature spec hash, feature names, data summary, metrics
                   with CIs, validation scheme, versions, who trained it, sha256 of NAME.skops
    NAME.card.md   the model card (intended use, "not a diagnosis", data, validation, limits)

Loading is refused, before any object is built, when

* the ``.skops`` file contains a type that skops does not trust by default and that is not in
  :data:`ALLOWED_TYPES` (the few scikit-learn/numpy internals our pipelines need): the error names
  the unexpected types (:class:`UntrustedArtifactError`);
* the feature spec hash it was trained with differs from the running code's: the error names both
  hashes and says to re-extract the features and retrain (:class:`StaleArtifactError`);
* the ``.skops`` file's sha256 differs from the one recorded in the metadata.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.errors import ConfigError, ResourceNotFoundError

if TYPE_CHECKING:  # scikit-learn, skops and pandas load on first save or load (seconds)
    import pandas as pd

    from addiction_index.models._training import TrainedModel

__all__ = [
    "ALLOWED_TYPES",
    "Artifact",
    "StaleArtifactError",
    "UntrustedArtifactError",
    "artifact_meta",
    "artifact_paths",
    "load_artifact",
    "load_meta",
    "save_artifact",
    "save_trained",
]

#: Types our pipelines contain that ``skops.io`` does not trust by default. Anything else
#: reported by ``skops.io.get_untrusted_types`` makes :func:`load_artifact` refuse the file.
ALLOWED_TYPES = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    }
)

SUFFIX = ".skops"


class UntrustedArtifactError(ConfigError):
    """The artifact holds types outside the allow-list; nothing was loaded."""

    def __init__(self, file: str | Path, types: list[str]) -> None:
        self.types = types
        super().__init__(
            file,
            f"refusing to load: unexpected types {', '.join(types)} (not in the allow-list of "
            "scikit-learn/numpy types that addiction-index pipelines use); only load artifacts "
            "you trained, or inspect them with skops.io.get_untrusted_types",
        )


class StaleArtifactError(ConfigError):
    """The artifact was trained on features from a different feature spec."""

    def __init__(self, file: str | Path, trained: str, running: str) -> None:
        self.trained = trained
        self.running = running
        super().__init__(
            file,
            f"trained on feature spec {trained}, but this code computes feature spec {running}: "
            "re-extract the dataset's features and retrain the model",
        )


def artifact_paths(path: str | os.PathLike[str]) -> dict[str, Path]:
    """The ``skops``, ``json`` and ``card`` paths of an artifact given any of them (or NAME)."""
    path = Path(path)
    name = path.name
    for suffix in (".card.md", ".json", SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    folder = path.parent
    return {
        "skops": folder / f"{name}{SUFFIX}",
        "json": folder / f"{name}.json",
        "card": folder / f"{name}.card.md",
        "name": Path(name),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_artifact(
    path: str | os.PathLike[str], fitted_pipeline: Any, meta: dict[str, Any]
) -> dict[str, Path]:
    """Write ``NAME.skops``, ``NAME.json`` (``meta`` + hashes and versions) and ``NAME.card.md``.

    ``meta`` needs at least ``task`` and ``feature_spec_hash``; see :func:`artifact_meta`.
    Returns the three paths.
    """
    paths = artifact_paths(path)
    for key in ("task", "feature_spec_hash"):
        if key not in meta:
            raise ConfigError(paths["json"], f"metadata lacks '{key}'", key=key)
    paths["skops"].parent.mkdir(parents=True, exist_ok=True)
    tmp = paths["skops"].with_name(paths["skops"].name + ".tmp")
    import skops.io as sio

    sio.dump(fitted_pipeline, tmp)
    os.replace(tmp, paths["skops"])
    full = dict(meta)
    full.setdefault("name", str(paths["name"]))
    full["format"] = "skops"
    full["sha256"] = _sha256(paths["skops"])
    full.setdefault("versions", _versions())
    full.setdefault("statement", NOT_A_DIAGNOSIS)
    _write_atomic(paths["json"], json.dumps(_json_ready(full), indent=2, ensure_ascii=False))
    from addiction_index.models._model_card import render_model_card

    _write_atomic(paths["card"], render_model_card(full))
    return paths


def _versions() -> dict[str, str]:
    return {
        "addiction_index": __version__,
        "scikit_learn": importlib.metadata.version("scikit-learn"),
        "skops": importlib.metadata.version("skops"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def artifact_meta(
    trained: TrainedModel,
    validation: Any | None = None,
    *,
    name: str | None = None,
) -> dict[str, Any]:
    """The metadata of a trained model, with the validation's metrics and scheme if given."""
    meta: dict[str, Any] = {
        "name": name,
        "task": trained.task,
        "model": trained.model,
        "label": trained.label,
        "feature_spec_hash": trained.spec_hash,
        "feature_names": trained.feature_names,
        "best_params": trained.best_params,
        "output": (
            "craving 0-100: regression prediction clipped to 0-100"
            if trained.task == "craving"
            else "index 0-100: 100 × calibrated probability of label:diagnosis = 1"
        ),
        "data": trained.data,
        "created": trained.created,
        "trained_by": trained.trained_by,
        "seed": trained.seed,
        "versions": _versions(),
        "metrics": None,
        "latent_metrics": None,
        "comparison": None,
        "validation": None,
    }
    if validation is not None:
        meta["metrics"] = validation.metrics
        meta["latent_metrics"] = validation.latent_metrics
        meta["comparison"] = validation.comparison
        meta["validation"] = validation.scheme
        meta["validation_folds"] = [
            {k: f[k] for k in ("fold", "n_train_rows", "n_test_rows", "best_params")}
            for f in validation.folds
        ]
    return _json_ready(meta)


def save_trained(
    path: str | os.PathLike[str], trained: TrainedModel, validation: Any | None = None
) -> dict[str, Path]:
    """:func:`save_artifact` of a :class:`TrainedModel` with its :func:`artifact_meta`."""
    name = str(artifact_paths(path)["name"])
    return save_artifact(path, trained.estimator, artifact_meta(trained, validation, name=name))


def load_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of an artifact (no model is loaded)."""
    paths = artifact_paths(path)
    if not paths["json"].is_file():
        raise ResourceNotFoundError(f"no model artifact metadata {paths['json']}")
    try:
        return json.loads(paths["json"].read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(paths["json"], exc.msg, line=exc.lineno) from None


@dataclass
class Artifact:
    """A loaded artifact: the fitted estimator and its metadata."""

    estimator: Any
    meta: dict[str, Any]
    path: Path

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or artifact_paths(self.path)["name"])

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    @property
    def feature_names(self) -> list[str]:
        return list(self.meta["feature_names"])

    def features(self, table: pd.DataFrame) -> pd.DataFrame:
        """The model's feature columns of ``table`` (absent ones NaN, imputed by the pipeline)."""
        import pandas as pd

        return table.reindex(columns=self.feature_names).apply(pd.to_numeric, errors="coerce")

    def score(self, table: pd.DataFrame) -> np.ndarray:
        """Scores 0-100 for every row of a block (craving) or session (index) table."""
        from addiction_index.models._training import predict_score

        return predict_score(self.estimator, self.task, self.features(table))


def load_artifact(path: str | os.PathLike[str], spec_hash: str | None = None) -> Artifact:
    """Load an artifact after the allow-list, integrity and feature-spec checks (module doc).

    ``spec_hash`` defaults to the running code's feature spec hash.
    """
    paths = artifact_paths(path)
    if not paths["skops"].is_file():
        raise ResourceNotFoundError(f"no model artifact {paths['skops']}")
    meta = load_meta(path)
    if spec_hash is None:
        from addiction_index.features.spec import load_feature_spec

        spec_hash = load_feature_spec().version_hash()
    trained = str(meta.get("feature_spec_hash"))
    if trained != spec_hash:
        raise StaleArtifactError(paths["skops"], trained, spec_hash)
    recorded = meta.get("sha256")
    if recorded and recorded != _sha256(paths["skops"]):
        raise ConfigError(
            paths["skops"],
            "file content differs from the sha256 recorded in its metadata; retrain or restore it",
        )
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=paths["skops"])
    unexpected = sorted(t for t in untrusted if t not in ALLOWED_TYPES)
    if unexpected:
        raise UntrustedArtifactError(paths["skops"], unexpected)
    estimator = sio.load(paths["skops"], trusted=untrusted)  # every one is in ALLOWED_TYPES
    return Artifact(estimator, meta, paths["skops"])


def is_artifact_name(name: str) -> bool:
    """A registry name: letters, digits, '.', '_' or '-'."""
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", name) is not None
