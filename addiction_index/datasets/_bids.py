"""Pseudonymised BIDS export of a dataset (EEG-BIDS, written with mne-bids).

Layout (one recording = one subject/session/task[/run])::

    OUT/dataset_description.json, README, participants.tsv/.json   (mne-bids + session labels)
    OUT/sub-01/sub-01_sessions.tsv                                    session labels per session
    OUT/sub-01/ses-1/sub-01_ses-1_scans.tsv                           acq_time: shifted date
    OUT/sub-01/ses-1/eeg/sub-01_ses-1_task-demo_eeg.vhdr/.vmrk/.eeg/.json, _channels.tsv
    OUT/sub-01/ses-1/eeg/sub-01_ses-1_task-demo_events.tsv/.json

- EEG: BrainVision (``.vhdr``/``.vmrk``/``.eeg``), written by ``mne_bids.write_raw_bids``
  through pybv as 32-bit floats in µV: a relative rounding error of at most 6e-8 (2^-24).
- Events (``*_events.tsv``): every marker of the recording, ``onset`` in s from the first EEG
  sample (full float precision), ``trial_type`` = the marker label (``block_start``,
  ``rating``, ``cue`` …), and the extra columns ``block``, ``rating`` (the VAS value of rating
  markers), ``meta`` (the marker's structured metadata as JSON) and ``rr_ms``: every heartbeat
  is an event of type ``heartbeat`` at its beat time with its RR interval in ms, so the RR
  series (irregular, which BIDS ``physio`` files cannot hold) round-trips exactly. Block labels
  are columns of the ``block_start`` rows (``vas_craving``, ``latent_craving`` …).
- Session labels: ``sub-XX_sessions.tsv`` (one row per session); labels constant over a
  subject's sessions also in ``participants.tsv``.
- Pseudonymisation: subjects become study codes ``sub-01``… in the order of the dataset's
  subject codes; dates move back by a random whole number of days per export; the BrainVision
  header holds no patient data; no free text (descriptions, file names) is exported. The mapping
  (dataset, subject, study code, date shift, export folder) is kept only in the centre's
  database (table ``study_codes``, :meth:`SessionStore.study_codes`), never in the export.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from addiction_index.datasets._manifest import DatasetCatalog, SkippedFile
from addiction_index.errors import InputError
from addiction_index.store import open_store, resolve_database_url

__all__ = ["ExportReport", "export_bids"]

#: events.tsv columns written by the export (block labels come after them).
EVENT_COLUMNS = ("onset", "duration", "trial_type", "sample", "block", "rating", "rr_ms", "meta")
_EVENTS_JSON = {
    "trial_type": {"Description": "marker label (block_start, block_end, rating, cue, heartbeat)"},
    "block": {"Description": "protocol block id the marker belongs to"},
    "rating": {"Description": "VAS craving rating (0-100) of rating markers", "Units": "VAS"},
    "rr_ms": {"Description": "RR interval closing at this heartbeat", "Units": "ms"},
    "meta": {"Description": "marker metadata as a JSON object (role, moment, cue set/number)"},
}


@dataclass
class ExportReport:
    """What an export wrote: the BIDS root, one row per exported recording, what it left out."""

    out_dir: Path
    database: str  # where the study-code mapping was recorded (password masked)
    date_shift_days: int
    exported: list[dict[str, str]] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "bids_root": str(self.out_dir),
            "study_codes_database": self.database,
            "exported": self.exported,
            "skipped": [s.model_dump() for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text) or "1"


def _events_frame(recording, t0: float, fs: float, blocks: dict[str, dict[str, Any]]):
    import pandas as pd

    rows = []
    for m in recording.markers:
        onset = m.timestamp - t0
        row = {
            "onset": onset,
            "duration": float(m.meta.get("duration_s", 0.0)),
            "trial_type": m.label,
            "sample": round(onset * fs),
            "block": m.block,
            "rating": m.value if m.label == "rating" else None,
            "rr_ms": None,
            "meta": json.dumps(m.meta, sort_keys=True, default=str) if m.meta else None,
        }
        if m.label == "block_start" and m.block in blocks:
            row.update(blocks[m.block])
        rows.append(row)
    rr = next((t for t in recording.tracks if t.info.kind == "rr"), None)
    if rr is not None:
        for t, value in zip(rr.timestamps.tolist(), rr.samples[:, 0].tolist(), strict=True):
            onset = t - t0
            rows.append(
                {
                    "onset": onset,
                    "duration": 0.0,
                    "trial_type": "heartbeat",
                    "sample": round(onset * fs),
                    "rr_ms": value,
                }
            )
    frame = pd.DataFrame(rows)
    for column in EVENT_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    extra = [c for c in frame.columns if c not in EVENT_COLUMNS]
    frame = frame[[*EVENT_COLUMNS, *extra]]
    return frame.sort_values("onset", kind="stable").reset_index(drop=True)


def _export_one(entry, path: Path, bids_path, start: datetime) -> None:
    import mne
    from mne_bids import write_raw_bids

    from addiction_index.devices import load_recording

    recording = load_recording(path, fmt=entry.format, channel_map=entry.channel_map)
    eeg = next((t for t in recording.tracks if t.info.kind == "eeg"), None)
    if eeg is None:
        raise InputError("recording", entry.id, "an EEG stream (BIDS EEG export)")
    fs = float(eeg.info.nominal_rate)
    t0 = float(eeg.timestamps[0])
    info = mne.create_info(list(eeg.info.channels), fs, ch_types="eeg", verbose="error")
    raw = mne.io.RawArray(eeg.samples.T * 1e-6, info, verbose="error")  # µV -> V, MNE's unit
    raw.set_meas_date(start)
    raw.info["line_freq"] = 50.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mne-bids' notes on missing optional metadata
        write_raw_bids(raw, bids_path, format="BrainVision", allow_preload=True, overwrite=True,
                       verbose="error")  # fmt: skip
    events = _events_frame(recording, t0, fs, entry.block_labels)
    events_path = bids_path.copy().update(suffix="events", extension=".tsv").fpath
    events.to_csv(events_path, sep="\t", index=False, na_rep="n/a")
    sidecar = dict(_EVENTS_JSON)
    for column in events.columns[len(EVENT_COLUMNS) :]:
        sidecar[column] = {"Description": f"block label {column} (on block_start rows)"}
    events_path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2), encoding="utf-8")


def _write_label_tables(out: Path, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
    """participants.tsv (labels constant per subject) and sub-XX_sessions.tsv (all labels)."""
    import pandas as pd

    by_subject: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for sub, ses, labels in rows:
        by_subject.setdefault(sub, []).append((ses, labels))
    constant: dict[str, dict[str, Any]] = {}
    for sub, sessions in by_subject.items():
        frame = pd.DataFrame([{"session_id": f"ses-{s}", **labels} for s, labels in sessions])
        frame.to_csv(out / f"sub-{sub}" / f"sub-{sub}_sessions.tsv", sep="\t", index=False,
                     na_rep="n/a")  # fmt: skip
        first = sessions[0][1]
        constant[sub] = {
            k: v for k, v in first.items() if all(labels.get(k) == v for _, labels in sessions)
        }
    participants = out / "participants.tsv"
    table = pd.read_csv(participants, sep="\t", dtype=str, keep_default_na=False)
    names = sorted({k for labels in constant.values() for k in labels})
    for name in names:
        column = "label_" + name if name in table.columns else name
        table[column] = [
            _tsv(constant.get(pid[4:], {}).get(name)) for pid in table["participant_id"]
        ]
    table.to_csv(participants, sep="\t", index=False)
    sidecar_path = out / "participants.json"
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.is_file() else {}
    for name in names:
        sidecar.setdefault(name, {"Description": f"dataset label {name}"})
    sidecar_path.write_text(json.dumps(sidecar, indent=2), encoding="utf-8")


def _tsv(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    return repr(value) if isinstance(value, float) else str(value)


def export_bids(
    catalog: DatasetCatalog,
    dataset_name: str,
    out_dir: str | os.PathLike[str],
    study_prefix: str = "sub",
    date_shift_days: int | None = None,
    db: str | os.PathLike[str] | None = None,
    *,
    seed: int | None = None,
) -> ExportReport:
    """Export ``dataset_name`` as a pseudonymised BIDS root ``out_dir`` (see the module doc).

    ``study_prefix``: letters before the number of the BIDS subject label (the default "sub"
    is BIDS's own prefix, giving ``sub-01``; "P" gives ``sub-P01``). ``date_shift_days``: days
    to move dates back (default: drawn from 365-3650 with ``seed``). ``db``: the centre's database
    (URL or SQLite path; default ``$ADDICTION_INDEX_DB`` or the user data folder's) that keeps the
    study-code mapping, table ``study_codes``.
    """
    from mne_bids import BIDSPath, make_dataset_description

    started = time.perf_counter()
    dataset = catalog.load(dataset_name)
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise InputError("out_dir", str(out), "an empty or new folder for the BIDS export")
    if date_shift_days is None:
        date_shift_days = int(np.random.default_rng(seed).integers(365, 3651))
    prefix = "" if study_prefix == "sub" else _label(study_prefix)
    width = max(2, len(str(len(dataset.subjects()))))
    codes = {s: f"{prefix}{i:0{width}d}" for i, s in enumerate(dataset.subjects(), start=1)}
    start = (dataset.created.astimezone(UTC) - timedelta(days=date_shift_days)).replace(
        microsecond=0
    )
    task = _label(str(dataset.provenance.get("protocol", "recording")))
    url = make_url(resolve_database_url(db)).render_as_string(hide_password=True)
    report = ExportReport(out, url, date_shift_days)
    out.mkdir(parents=True, exist_ok=True)
    make_dataset_description(
        path=out, name="addiction-index pseudonymised export", overwrite=True, verbose=False
    )
    runs: dict[tuple[str, str], int] = {}
    label_rows: list[tuple[str, str, dict[str, Any]]] = []
    for entry in dataset.recordings:
        sub, ses = codes[entry.subject], _label(entry.session)
        runs[(sub, ses)] = runs.get((sub, ses), 0) + 1
        bids_path = BIDSPath(
            subject=sub, session=ses, task=task, datatype="eeg", root=out, suffix="eeg",
            extension=".vhdr", run=runs[(sub, ses)] if runs[(sub, ses)] > 1 else None,
        )  # fmt: skip
        try:
            _export_one(entry, catalog.recording_path(dataset, entry), bids_path, start)
        except Exception as exc:  # one unreadable recording does not stop the export
            report.skipped.append(SkippedFile(path=entry.id, reason=f"{exc}"))
            continue
        label_rows.append((sub, ses, entry.labels))
        report.exported.append({"id": entry.id, "bids": bids_path.basename})
    if label_rows:
        _write_label_tables(out, label_rows)
    with open_store(db) as store:  # the mapping stays in the centre's database only
        store.add_study_codes(
            [
                {
                    "dataset": dataset.name,
                    "subject": subject,
                    "study_code": f"sub-{code}",
                    "date_shift_days": date_shift_days,
                    "export_dir": str(out),
                }
                for subject, code in codes.items()
            ]
        )
    report.seconds = time.perf_counter() - started
    return report
