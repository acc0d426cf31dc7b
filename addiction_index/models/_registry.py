"""The model registry: a folder of artifacts and a ``registry.json`` of promotions.

Default folder: ``<data dir>/models`` with data dir = ``$ADDICTION_INDEX_DATA_DIR`` or
``platformdirs.user_data_dir("addiction-index")``; every function takes ``models_dir``.

Names are ``TASK-MODEL-vN`` (``craving-ridge-v1``), N counting up per task and model.
``registry.json`` holds the live artifact per task and the full promotion history (appended, never
rewritten), written atomically. :func:`live_model` gives the promoted artifact's path, or None:
then the transparent default model is used.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError
from addiction_index.models._artifact import SUFFIX, artifact_paths, is_artifact_name, load_meta
from addiction_index.resources import data_root

__all__ = [
    "REGISTRY_FILE",
    "list_models",
    "live_model",
    "models_root",
    "next_name",
    "promote",
    "read_registry",
    "show_model",
]

REGISTRY_FILE = "registry.json"


PathLike = str | os.PathLike[str] | None


def models_root(models_dir: PathLike = None) -> Path:
    """``models_dir``, else ``$ADDICTION_INDEX_DATA_DIR/models``, else the user data folder's."""
    if models_dir is not None:
        return Path(models_dir).expanduser()
    return data_root() / "models"


def next_name(task: str, model: str, models_dir: PathLike = None) -> str:
    """``TASK-MODEL-vN`` with N one more than the highest existing version."""
    root = models_root(models_dir)
    pattern = re.compile(rf"^{re.escape(task)}-{re.escape(model)}-v(\d+){re.escape(SUFFIX)}$")
    versions = [
        int(m.group(1))
        for p in (root.glob(f"*{SUFFIX}") if root.is_dir() else [])
        if (m := pattern.match(p.name))
    ]
    return f"{task}-{model}-v{max(versions, default=0) + 1}"


def read_registry(models_dir: PathLike = None) -> dict[str, Any]:
    """The registry document: ``{"live": {task: entry}, "history": [entry, ...]}``."""
    path = models_root(models_dir) / REGISTRY_FILE
    if not path.is_file():
        return {"live": {}, "history": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(path, exc.msg, line=exc.lineno) from None
    doc.setdefault("live", {})
    doc.setdefault("history", [])
    return doc


def _write_registry(doc: dict[str, Any], models_dir: PathLike) -> None:
    root = models_root(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / REGISTRY_FILE
    tmp = path.with_name(f".{REGISTRY_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _artifact_path(name: str, models_dir: PathLike) -> Path:
    if not is_artifact_name(name):
        raise InputError("name", name, "a model name of letters, digits, '.', '_' or '-'")
    path = models_root(models_dir) / f"{name}{SUFFIX}"
    if not path.is_file():
        known = ", ".join(m["name"] for m in list_models(models_dir)) or "none"
        raise ResourceNotFoundError(
            f"no model {name!r} in {models_root(models_dir)} (known: {known})"
        )
    return path


def _summary(meta: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    metrics = meta.get("metrics") or {}
    headline = {
        k: v.get("value") for k, v in (metrics.get("model") or {}).items() if isinstance(v, dict)
    }
    name = meta.get("name")
    return {
        "name": name,
        "task": meta.get("task"),
        "model": meta.get("model"),
        "label": meta.get("label"),
        "created": meta.get("created"),
        "trained_by": meta.get("trained_by"),
        "feature_spec_hash": meta.get("feature_spec_hash"),
        "n_subjects": (meta.get("data") or {}).get("n_subjects"),
        "validated": bool(meta.get("validation")),
        "metrics": headline,
        "live": (live.get(str(meta.get("task"))) or {}).get("name") == name,
    }


def list_models(models_dir: PathLike = None) -> list[dict[str, Any]]:
    """One summary per artifact in the folder (sorted by name), with its live flag."""
    root = models_root(models_dir)
    if not root.is_dir():
        return []
    live = read_registry(models_dir)["live"]
    out = []
    for path in sorted(root.glob(f"*{SUFFIX}")):
        try:
            meta = load_meta(path)
        except (ResourceNotFoundError, ConfigError):
            continue
        meta.setdefault("name", path.name[: -len(SUFFIX)])
        out.append(_summary(meta, live))
    return out


def show_model(name: str, models_dir: PathLike = None) -> dict[str, Any]:
    """Metadata, model card text, live status and promotion history of one artifact."""
    path = _artifact_path(name, models_dir)
    meta = load_meta(path)
    doc = read_registry(models_dir)
    card = artifact_paths(path)["card"]
    return {
        "path": str(path),
        "meta": meta,
        "summary": _summary(meta, doc["live"]),
        "card": card.read_text(encoding="utf-8") if card.is_file() else "",
        "history": [h for h in doc["history"] if h.get("name") == name],
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def promote(
    name: str, task: str | None = None, by: str | None = None, models_dir: PathLike = None
) -> dict[str, Any]:
    """Make ``name`` the live model of its task; record who and when (history appended).

    ``task`` defaults to the artifact's task and must match it when given; ``by`` defaults to the
    OS user name. Returns the registry entry.
    """
    path = _artifact_path(name, models_dir)
    meta = load_meta(path)
    own = str(meta.get("task"))
    if task is not None and task != own:
        raise InputError("task", task, f"{own} (the task model {name} was trained for)")
    doc = read_registry(models_dir)
    entry = {
        "action": "promote",
        "task": own,
        "name": name,
        "by": by or _user(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "previous": (doc["live"].get(own) or {}).get("name"),
        "feature_spec_hash": meta.get("feature_spec_hash"),
        "sha256": meta.get("sha256"),
    }
    doc["live"][own] = entry
    doc["history"].append(entry)
    _write_registry(doc, models_dir)
    return entry


def live_model(task: str, models_dir: PathLike = None) -> Path | None:
    """The promoted artifact's ``.skops`` path for ``task``; None: use the transparent default."""
    entry = read_registry(models_dir)["live"].get(task)
    if not entry:
        return None
    path = models_root(models_dir) / f"{entry['name']}{SUFFIX}"
    if not path.is_file():
        raise ResourceNotFoundError(
            f"the live {task} model {entry['name']!r} is missing from {models_root(models_dir)}"
        )
    return path
