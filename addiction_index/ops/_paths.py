"""Where operations keep their files, all under the centre's data folder (``data_root()``).

``backups/``    encrypted backup files (``$ADDICTION_INDEX_BACKUPS`` overrides; copy them
                off the machine)
``recordings/`` XDF recordings of sessions (``$ADDICTION_INDEX_RECORDINGS`` overrides): record
                with ``--record recordings/<CODE>/<name>.xdf`` (or a file name starting with
                ``<CODE>_``) so that backups include them and erasure finds them
``ops/``        ``backup.key`` (0600), ``backups.json`` (the backups index: last backup, which
                backups hold erased residents), ``erasures.json`` (salted hashes of erased
                codes, re-applied after every restore). Kept outside the database on purpose:
                restoring an older database must not bring an erasure back.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addiction_index.errors import StorageError
from addiction_index.resources import data_root

__all__ = ["OpsPaths", "read_json", "write_json"]


@dataclass(frozen=True)
class OpsPaths:
    """The folders and files of operations (see the module doc)."""

    backups: Path
    recordings: Path
    state: Path

    @classmethod
    def default(cls, backups: Path | None = None, recordings: Path | None = None) -> OpsPaths:
        """The folders under ``data_root()``, each overridable by argument or variable."""
        root = data_root()
        env_backups = os.environ.get("ADDICTION_INDEX_BACKUPS")
        env_recordings = os.environ.get("ADDICTION_INDEX_RECORDINGS")
        return cls(
            backups=(backups or Path(env_backups or root / "backups")).expanduser().absolute(),
            recordings=(recordings or Path(env_recordings or root / "recordings"))
            .expanduser()
            .absolute(),
            state=(root / "ops").expanduser().absolute(),
        )

    @property
    def key_file(self) -> Path:
        """The backup key file (used when ``$ADDICTION_INDEX_BACKUP_KEY`` is not set)."""
        return self.state / "backup.key"

    @property
    def backups_index(self) -> Path:
        """The backups index (JSON)."""
        return self.state / "backups.json"

    @property
    def erasures(self) -> Path:
        """The erasure ledger (JSON)."""
        return self.state / "erasures.json"


def read_json(path: Path, default: Any) -> Any:
    """The JSON document in ``path``, or ``default`` when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: cannot read ({exc})") from exc


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
