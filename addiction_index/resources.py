"""Where the content folders live: ``devices/``, ``models/``, ``prescriptions/``, ``instruments/``.

The folders a domain expert edits sit at the top of the source tree and ship inside the
wheel as ``addiction_index/_content/<kind>``. :func:`content_dir` is the one lookup used by all
code, so the same call works from an editable install, from a built wheel, and from a user's own
folder given on the command line or in the environment.

Order of lookup for a kind ``k``:

1. an explicit override passed by the caller (the CLI's ``--devices-dir`` etc.);
2. the environment variable ``ADDICTION_INDEX_<K>_DIR``;
3. the copy shipped inside the installed package (``addiction_index/_content/k``);
4. the source tree next to the package (editable install or a checkout).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from addiction_index.errors import ResourceNotFoundError

__all__ = [
    "CONTENT_KINDS",
    "DATA_DIR_ENV",
    "ContentKind",
    "content_dir",
    "content_file",
    "data_root",
]

ContentKind = Literal["devices", "models", "prescriptions", "instruments"]
CONTENT_KINDS: tuple[ContentKind, ...] = ("devices", "models", "prescriptions", "instruments")

_PACKAGE_DIR = Path(__file__).resolve().parent

#: The centre's data folder (datasets, models, cue pictures): this variable, else the user's.
DATA_DIR_ENV = "ADDICTION_INDEX_DATA_DIR"


def data_root() -> Path:
    """The centre's data folder: ``$ADDICTION_INDEX_DATA_DIR``, else the user data folder
    (``datasets/``, ``models/`` and ``cues/`` live under it)."""
    import platformdirs

    base = os.environ.get(DATA_DIR_ENV)
    return Path(base).expanduser() if base else Path(platformdirs.user_data_dir("addiction-index"))


def _env_var(kind: str) -> str:
    return f"ADDICTION_INDEX_{kind.upper()}_DIR"


def content_dir(kind: ContentKind, override: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder holding content of ``kind`` (see the module docstring for the order).

    Raises :class:`ResourceNotFoundError` naming every place that was tried.
    """
    if kind not in CONTENT_KINDS:
        raise ValueError(f"kind={kind!r} is invalid: expected one of {', '.join(CONTENT_KINDS)}")
    explicit = override if override is not None else os.environ.get(_env_var(kind))
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            source = "argument" if override is not None else f"${_env_var(kind)}"
            raise ResourceNotFoundError(f"{kind} folder from {source} does not exist: {path}")
        return path
    candidates = [_PACKAGE_DIR / "_content" / kind, _PACKAGE_DIR.parent / kind]
    for path in candidates:
        if path.is_dir():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise ResourceNotFoundError(f"no {kind} folder found (tried {tried})")


def content_file(
    kind: ContentKind, name: str, override: str | os.PathLike[str] | None = None
) -> Path:
    """Return the file ``name`` inside the ``kind`` folder, or raise naming what exists there."""
    folder = content_dir(kind, override)
    path = folder / name
    if not path.is_file():
        available = sorted(p.name for p in folder.iterdir() if p.is_file())
        raise ResourceNotFoundError(
            f"{name} not found in {folder} (available: {', '.join(available) or 'none'})"
        )
    return path
