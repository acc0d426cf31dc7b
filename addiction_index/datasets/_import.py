"""Importing labelled recordings into a dataset: one file, a folder, or a BIDS root.

Every file looked at is either imported (a :class:`RecordingEntry` with its SHA-256, subject,
session, format and labels) or listed as skipped with the reason: an unknown suffix, a file
that cannot be read (the reader's message), no EEG or heart stream, the same content as a file
already imported, a name the mapping's pattern does not match, a subject the labels table lacks.
Imported files are referenced by absolute path, not copied; the hash lets later steps notice a
changed file. BIDS roots are converted (see :mod:`._bids_import`).

Recordings made by this project (XDF with a ``markers`` stream) carry their labels: each
``rating`` marker becomes the block label ``vas_craving`` of its block.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addiction_index.datasets._manifest import (
    Dataset,
    DatasetCatalog,
    RecordingEntry,
    SkippedFile,
    file_sha256,
)
from addiction_index.datasets._mapping import LoadedMapping, load_mapping
from addiction_index.errors import AddictionIndexError, InputError

__all__ = ["IMPORT_FORMATS", "ImportReport", "import_recordings"]

#: What ``--format`` accepts: a BIDS root, files of one format, or a folder of mixed files.
IMPORT_FORMATS = ("bids", "edf", "xdf", "muse-csv", "rr", "folder")
# File suffix -> RecordingEntry.format.
SUFFIX_FORMAT = {
    ".xdf": "xdf",
    ".xdfz": "xdf",
    ".edf": "edf",
    ".csv": "csv",
    ".txt": "rr",
    ".rr": "rr",
    ".hrm": "rr",
}
_ENTRY_FORMAT = {"edf": "edf", "xdf": "xdf", "muse-csv": "csv", "rr": "rr"}
_SIGNAL_KINDS = {"eeg", "rr", "ecg"}


@dataclass
class ImportReport:
    """What an import found, imported and skipped (and why), and the dataset it produced."""

    dataset: Dataset
    source: Path
    fmt: str
    found: int
    imported: list[RecordingEntry] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.name,
            "source": str(self.source),
            "format": self.fmt,
            "found": self.found,
            "imported": [
                {"id": e.id, "subject": e.subject, "session": e.session, "path": e.path}
                for e in self.imported
            ],
            "skipped": [s.model_dump() for s in self.skipped],
            "recordings_in_dataset": len(self.dataset.recordings),
            "seconds": round(self.seconds, 3),
        }


def _files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    return sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )


def _inspect(path: Path, fmt: str, channel_map: dict[str, str] | None) -> list | str:
    """The markers of a readable recording, or the reason it cannot be imported."""
    if fmt == "rr":
        from addiction_index.features.recording_table import read_rr_file

        try:
            read_rr_file(path)
        except AddictionIndexError as exc:
            return f"unreadable as an RR file: {exc}"
        return []
    from addiction_index.devices import load_recording

    try:
        recording = load_recording(path, fmt=fmt, channel_map=channel_map)
    except AddictionIndexError as exc:
        return f"unreadable as {fmt}: {exc}"
    except Exception as exc:  # a reader's own error on a damaged file
        return f"unreadable as {fmt}: {type(exc).__name__}: {exc}"
    kinds = {str(t.info.kind) for t in recording.tracks}
    if not kinds & _SIGNAL_KINDS:
        found = ", ".join(sorted(kinds)) or "none"
        return f"no EEG or heart stream (streams found: {found})"
    return list(recording.markers)


def _entry_id(subject: str, session: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "", f"sub-{subject}_ses-{session}")[:60] or "recording"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _ratings(markers: list) -> dict[str, dict[str, Any]]:
    """Block labels from a project recording's rating markers: ``{block: {"vas_craving": v}}``."""
    out: dict[str, dict[str, Any]] = {}
    for m in markers:
        if getattr(m, "label", None) == "rating" and m.block and m.value is not None:
            out.setdefault(str(m.block), {})["vas_craving"] = float(m.value)
    return out


def import_recordings(
    catalog: DatasetCatalog,
    name: str,
    source_path: str | os.PathLike[str],
    fmt: str,
    mapping: str | os.PathLike[str] | None = None,
) -> ImportReport:
    """Import ``source_path`` (a file or a folder, walked recursively) as ``fmt`` into ``name``.

    ``fmt`` is one of :data:`IMPORT_FORMATS`: ``folder`` takes every file by its suffix, the
    others only files of that format, ``bids`` reads a BIDS root with mne-bids. ``mapping`` is a
    mapping file (:mod:`._mapping`). An existing dataset of that name is extended: recordings
    whose content it already holds are skipped. The manifest is saved before returning.
    """
    started = time.perf_counter()
    if fmt not in IMPORT_FORMATS:
        raise InputError("format", fmt, f"one of {', '.join(IMPORT_FORMATS)}")
    source = Path(source_path).expanduser().resolve()
    if not source.exists():
        raise InputError("path", str(source), "an existing file or folder")
    rules = load_mapping(mapping)
    dataset = (
        catalog.load(name)
        if catalog.exists(name)
        else Dataset(name=name, source=fmt, description=f"Imported from {source.name}")
    )
    provenance = dict(dataset.provenance)
    imports = list(provenance.get("imports", []))  # type: ignore[arg-type]
    imports.append(
        {"source": str(source), "format": fmt, "mapping": str(rules.source or "") or None}
    )
    provenance["imports"] = imports
    if rules.events:
        provenance["events"] = {**dict(provenance.get("events", {})), **rules.events}  # type: ignore[arg-type]
    dataset.provenance = provenance
    if fmt == "bids":
        from addiction_index.datasets._bids_import import import_bids

        found, imported, skipped = import_bids(catalog, dataset, source, rules)
    else:
        found, imported, skipped = _import_files(dataset, source, fmt, rules)
    dataset.recordings.extend(imported)
    dataset.skipped.extend(skipped)
    catalog.save(dataset)
    return ImportReport(
        dataset, source, fmt, found, imported, skipped, time.perf_counter() - started
    )


def _import_files(
    dataset: Dataset, source: Path, fmt: str, rules: LoadedMapping
) -> tuple[int, list[RecordingEntry], list[SkippedFile]]:
    files = _files(source)
    hashes = {e.sha256: e.id for e in dataset.recordings}
    taken = {e.id for e in dataset.recordings}
    imported: list[RecordingEntry] = []
    skipped: list[SkippedFile] = []

    def skip(path: Path, reason: str) -> None:
        skipped.append(SkippedFile(path=str(path), reason=reason))

    for path in files:
        file_fmt = SUFFIX_FORMAT.get(path.suffix.lower())
        if file_fmt is None:
            skip(path, f"unknown suffix {path.suffix or '(none)'!r}")
            continue
        if fmt != "folder" and file_fmt != _ENTRY_FORMAT[fmt]:
            skip(path, f"not a {fmt} file (suffix {path.suffix})")
            continue
        found = rules.subject_session(path.name)
        if isinstance(found, str):
            skip(path, found)
            continue
        subject, session = found
        sha = file_sha256(path)
        if sha in hashes:
            skip(path, f"duplicate content (same sha256 as {hashes[sha]})")
            continue
        labels = rules.labels_for(subject, session)
        if labels is None:
            skip(path, f"subject {subject} session {session} not found in {rules.labels_file}")
            continue
        markers = _inspect(path, file_fmt, rules.channels)
        if isinstance(markers, str):
            skip(path, markers)
            continue
        session_labels, blocks = labels
        for block, values in _ratings(markers).items():
            blocks.setdefault(block, {}).update(values)
        entry = RecordingEntry(
            id=_entry_id(subject, session, taken),
            subject=subject,
            session=session,
            path=str(path),
            format=file_fmt,  # type: ignore[arg-type]
            sha256=sha,
            channel_map=rules.channels if file_fmt != "rr" else None,
            labels=session_labels,
            block_labels=rules.rename_blocks(blocks),
        )
        hashes[sha] = entry.id
        imported.append(entry)
    return len(files), imported, skipped
