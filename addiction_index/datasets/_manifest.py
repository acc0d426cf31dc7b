"""What a dataset is: labelled recordings of one study, kept as a ``dataset.json`` manifest.

A dataset lives in its own folder under the datasets root (``$ADDICTION_INDEX_DATA_DIR/datasets``
or the user data folder's ``datasets``)::

    <root>/<name>/dataset.json         this manifest (pydantic, JSON)
    <root>/<name>/recordings/...        recordings the dataset owns (simulated ones, copies)
    <root>/<name>/features/<spec>/...   cached feature tables, one per recording and spec version

Each :class:`RecordingEntry` names one recording file (absolute, or relative to the dataset
folder), its format as :func:`~addiction_index.devices.load_recording` or
:func:`~addiction_index.features.recording_table.recording_features` reads it, its content hash
(the feature cache key), the pseudonymous subject code, and its labels: session-level labels
(``group``, ``diagnosis``, ``days_abstinent``, ...) and block-level labels (``{"drug":
{"vas_craving": 61}}``). Subject codes in a dataset are study codes; no names, birth dates or
free text are kept here.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError
from addiction_index.resources import DATA_DIR_ENV, data_root

__all__ = [
    "DATA_DIR_ENV",
    "MANIFEST",
    "Dataset",
    "DatasetCatalog",
    "LabelValue",
    "RecordingEntry",
    "RecordingFormat",
    "SkippedFile",
    "datasets_root",
    "file_sha256",
]

MANIFEST = "dataset.json"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

# The formats a recording entry can have: recording_features reads each of them.
RecordingFormat = Literal["xdf", "edf", "csv", "rr", "ecg-csv"]
LabelValue = float | int | str | bool | None


class RecordingEntry(BaseModel):
    """One labelled recording of a dataset."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NAME_PATTERN, description="unique in the dataset, e.g. sub-S001_ses-1")
    subject: str = Field(min_length=1, description="pseudonymous study code")
    session: str = "1"
    path: str = Field(description="absolute, or relative to the dataset folder")
    format: RecordingFormat
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    fs: float | None = Field(default=None, gt=0, description="ECG rate for ecg-csv")
    channel_map: dict[str, str] | None = None
    labels: dict[str, LabelValue] = Field(default_factory=dict)
    block_labels: dict[str, dict[str, LabelValue]] = Field(default_factory=dict)


class SkippedFile(BaseModel):
    """A file an import looked at and left out, and why."""

    model_config = ConfigDict(extra="forbid")

    path: str
    reason: str


class Dataset(BaseModel):
    """A named collection of labelled recordings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = Field(description="simulated, bids, edf, xdf, muse-csv, folder, ...")
    description: str = ""
    recordings: list[RecordingEntry] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    # Free-form facts about how the dataset was made (simulation seed, mapping file used, ...).
    provenance: dict[str, object] = Field(default_factory=dict)

    def subjects(self) -> list[str]:
        return sorted({r.subject for r in self.recordings})

    def label_names(self) -> list[str]:
        names = {k for r in self.recordings for k in r.labels}
        names |= {k for r in self.recordings for b in r.block_labels.values() for k in b}
        return sorted(names)


def datasets_root(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding every dataset: ``override``, ``$ADDICTION_INDEX_DATA_DIR/datasets``,
    or the user data folder's ``datasets``."""
    if override is not None:
        return Path(override).expanduser()
    return data_root() / "datasets"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (the feature cache key of a recording)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DatasetCatalog:
    """The datasets under one root folder: list, load, save, locate."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = datasets_root(root)

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str] | None) -> DatasetCatalog:
        """The catalog of a data folder (the CLI's ``--data-dir``, as
        ``$ADDICTION_INDEX_DATA_DIR``): ``DIR/datasets``; None: the default data folder's."""
        return cls(None if data_dir is None else Path(data_dir).expanduser() / "datasets")

    def folder(self, name: str) -> Path:
        if not re.match(NAME_PATTERN, name):
            raise InputError("dataset", name, "a name of letters, digits, '.', '_' or '-'")
        return self.root / name

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / MANIFEST).is_file())

    def exists(self, name: str) -> bool:
        return (self.folder(name) / MANIFEST).is_file()

    def load(self, name: str) -> Dataset:
        path = self.folder(name) / MANIFEST
        if not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise ResourceNotFoundError(f"no dataset {name!r} in {self.root} (known: {known})")
        try:
            return Dataset.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                path, f"{where}: {first['msg']}", expected="a dataset manifest"
            ) from exc

    def save(self, dataset: Dataset) -> Path:
        """Write the manifest atomically (a crash leaves the old one or the new one)."""
        folder = self.folder(dataset.name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(dataset.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def recording_path(self, dataset: Dataset, entry: RecordingEntry) -> Path:
        """The absolute path of ``entry``'s file."""
        path = Path(entry.path)
        return path if path.is_absolute() else self.folder(dataset.name) / path
