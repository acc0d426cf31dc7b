"""Importing a BIDS root (EEG datatype) with mne-bids.

Each EEG recording (``mne_bids.find_matching_paths``; subject and session from the BIDS
entities) is read with ``mne_bids.read_raw_bids`` and converted to an XDF file the dataset owns
(``<dataset>/recordings/bids/<basename>.xdf``, float64 samples, so nothing is lost after
reading): no single file format of a :class:`RecordingEntry` holds EEG, heartbeats and events
together, and the feature pipeline reads XDF. The source file and its SHA-256 stay in the
dataset's ``provenance["sources"]``.

- Events: an ``events.tsv`` written by :func:`export_bids` (columns ``block``, ``rating``,
  ``meta``, ``rr_ms``) gives back the original markers, the heartbeats (RR stream) and the
  block labels of its ``block_start`` rows. Other BIDS datasets give their annotations as
  markers (label = ``trial_type``), as an EDF file would.
- Labels: ``participants.tsv`` columns (``n/a`` left out), overridden by the subject's
  ``sessions.tsv`` row, overridden by the mapping's labels table if one is given.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from addiction_index.datasets._bids import EVENT_COLUMNS
from addiction_index.datasets._manifest import (
    Dataset,
    DatasetCatalog,
    RecordingEntry,
    SkippedFile,
    file_sha256,
)
from addiction_index.datasets._mapping import LoadedMapping
from addiction_index.datasets._xdf_write import write_xdf
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["import_bids"]

_EEG_EXTENSIONS = [".bdf", ".edf", ".vhdr", ".set", ".fif", ".EDF", ".BDF"]
_MNE_BIDS_COLUMNS = {"age", "sex", "hand", "weight", "height"}


def _value(cell: Any) -> Any:
    """A TSV cell as a label: numbers as numbers, ``n/a``/empty as None."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    if hasattr(cell, "item"):
        cell = cell.item()
    if isinstance(cell, str):
        text = cell.strip()
        if text in ("", "n/a"):
            return None
        if text in ("True", "False"):
            return text == "True"
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return text
    return cell


def _tsv_rows(path: Path, key: str) -> dict[str, dict[str, Any]]:
    import pandas as pd

    if not path.is_file():
        return {}
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if key not in frame.columns:
        return {}
    return {
        str(row[key]): {c: _value(row[c]) for c in frame.columns if c != key}
        for row in frame.to_dict("records")
    }


def _events(path: Path, raw) -> tuple[list[Marker], np.ndarray | None, np.ndarray | None, dict]:
    """Markers, beat times (s), RR (ms) and block labels of one recording."""
    import pandas as pd

    if path.is_file():
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        if {"block", "meta", "rr_ms"} <= set(frame.columns):
            return _project_events(frame)
    ann = raw.annotations
    t_first = raw.first_samp / raw.info["sfreq"]
    shift = t_first if ann.orig_time is None else 0.0
    markers = [
        Marker(float(o) + shift - t_first, str(d), meta={"duration_s": float(u)})
        for o, u, d in zip(ann.onset, ann.duration, ann.description, strict=True)
    ]
    return markers, None, None, {}


def _project_events(frame) -> tuple[list[Marker], np.ndarray | None, np.ndarray | None, dict]:
    markers: list[Marker] = []
    beats, rrs = [], []
    blocks: dict[str, dict[str, Any]] = {}
    extra = [c for c in frame.columns if c not in EVENT_COLUMNS]
    for row in frame.to_dict("records"):
        onset = float(row["onset"])
        label = row["trial_type"]
        if label == "heartbeat":
            beats.append(onset)
            rrs.append(float(row["rr_ms"]))
            continue
        block = _value(row["block"])
        rating = _value(row["rating"])
        meta = json.loads(row["meta"]) if _value(row["meta"]) is not None else {}
        block = None if block is None else str(block)
        markers.append(Marker(onset, label, block, None if rating is None else float(rating), meta))
        if label == "block_start" and block is not None:
            values = {c: _value(row[c]) for c in extra}
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                blocks.setdefault(block, {}).update(values)
    if not beats:
        return markers, None, None, blocks
    return markers, np.array(beats), np.array(rrs), blocks


def _convert(bids_path, target: Path) -> tuple[list[Marker], dict, int] | str:
    """Write the recording at ``bids_path`` to ``target`` (XDF); markers, block labels, beats."""
    from mne_bids import read_raw_bids

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = read_raw_bids(bids_path, verbose="error")
    except Exception as exc:  # mne-bids raises many kinds for broken roots
        return f"unreadable with mne-bids: {type(exc).__name__}: {exc}"
    picks = [i for i, t in enumerate(raw.get_channel_types()) if t == "eeg"]
    if not picks:
        return "no EEG channel"
    fs = float(raw.info["sfreq"])
    data = np.ascontiguousarray(raw.get_data(picks=picks).T * 1e6)
    names = tuple(raw.ch_names[i] for i in picks)
    events_path = bids_path.copy().update(suffix="events", extension=".tsv").fpath
    markers, beat_times, rr, blocks = _events(Path(events_path), raw)
    eeg = StreamInfo("bids/eeg", StreamKind.EEG, names, ("uV",) * len(names), fs, "bids")
    chunks = [Chunk(eeg, np.arange(data.shape[0], dtype=np.float64) / fs, data)]
    if beat_times is not None and rr is not None:
        rr_info = StreamInfo("bids/rr", StreamKind.RR, ("rr",), ("ms",), 0.0, "bids")
        chunks.append(Chunk(rr_info, beat_times, rr[:, None]))
    target.unlink(missing_ok=True)
    write_xdf(target, chunks, markers)
    return markers, blocks, 0 if rr is None else int(rr.size)


def import_bids(
    catalog: DatasetCatalog, dataset: Dataset, root: Path, rules: LoadedMapping
) -> tuple[int, list[RecordingEntry], list[SkippedFile]]:
    """Import every EEG recording of the BIDS root ``root`` into ``dataset`` (module doc)."""
    from mne_bids import find_matching_paths

    if not (root / "dataset_description.json").is_file():
        return (
            1,
            [],
            [SkippedFile(path=str(root), reason="not a BIDS root (no dataset_description.json)")],
        )
    paths = find_matching_paths(root, datatypes="eeg", suffixes="eeg", extensions=_EEG_EXTENSIONS)
    participants = _tsv_rows(root / "participants.tsv", "participant_id")
    hashes = {e.sha256: e.id for e in dataset.recordings}
    taken = {e.id for e in dataset.recordings}
    out_dir = catalog.folder(dataset.name) / "recordings" / "bids"
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = dict(dataset.provenance)
    sources = dict(provenance.get("sources", {}))  # type: ignore[arg-type]
    imported: list[RecordingEntry] = []
    skipped: list[SkippedFile] = []
    for bp in sorted(paths, key=lambda p: str(p.fpath)):
        source = Path(bp.fpath)
        subject, session = bp.subject, bp.session or "1"
        labels = dict(participants.get(f"sub-{subject}", {}))
        sessions = _tsv_rows(root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv", "session_id")
        labels.update(sessions.get(f"ses-{session}", {}))
        # mne-bids' default participant columns are left out when empty; dataset labels keep
        # their None values (e.g. days_abstinent of controls).
        labels = {k: v for k, v in labels.items() if v is not None or k not in _MNE_BIDS_COLUMNS}
        table = rules.labels_for(subject, session)
        if table is None:
            skipped.append(SkippedFile(
                path=str(source),
                reason=f"subject {subject} session {session} not found in {rules.labels_file}",
            ))  # fmt: skip
            continue
        labels.update(table[0])
        target = out_dir / f"{bp.basename}.xdf"
        result = _convert(bp, target)
        if isinstance(result, str):
            skipped.append(SkippedFile(path=str(source), reason=result))
            continue
        _, blocks, _ = result
        for block, values in table[1].items():
            blocks.setdefault(block, {}).update(values)
        sha = file_sha256(target)
        if sha in hashes:
            skipped.append(SkippedFile(
                path=str(source), reason=f"duplicate content (same sha256 as {hashes[sha]})"
            ))  # fmt: skip
            continue
        from addiction_index.datasets._import import _entry_id

        entry = RecordingEntry(
            id=_entry_id(subject, session if not bp.run else f"{session}_run-{bp.run}", taken),
            subject=subject,
            session=session,
            path=str(target.relative_to(catalog.folder(dataset.name)).as_posix()),
            format="xdf",
            sha256=sha,
            channel_map=rules.channels,
            labels=labels,
            block_labels=rules.rename_blocks(blocks),
        )
        hashes[sha] = entry.id
        sources[entry.id] = {"path": str(source), "sha256": file_sha256(source)}
        imported.append(entry)
    provenance["sources"] = sources
    dataset.provenance = provenance
    return len(paths), imported, skipped
