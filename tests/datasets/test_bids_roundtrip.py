"""Simulate -> BIDS export -> BIDS import: same features, same labels, nothing identifying."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from addiction_index.datasets import DatasetCatalog, export_bids, import_recordings, simulate_study
from addiction_index.features.recording_table import recording_features
from addiction_index.store import open_store

# BrainVision (pybv) stores 32-bit floats in µV: a relative rounding error of 2^-24 per sample
# (the +50 µV offset sets its size). Features agree to rtol 1e-5 (band powers in µV²), atol 1e-3
# for values near 0 such as the frontal asymmetry, a log-ratio difference.
EEG_RTOL, EEG_ATOL = 1e-5, 1e-3


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("rt")
    database = root / "centre.sqlite"
    catalog = DatasetCatalog(root / "catalog")
    original = simulate_study(catalog, "orig", residents=2, controls=1, seed=11, progress=False)
    report = export_bids(catalog, "orig", root / "bids", seed=3, db=database)
    back = import_recordings(catalog, "back", root / "bids", "bids")
    with open_store(database) as store:
        codes = {r["subject"]: r["study_code"] for r in store.study_codes("orig")}
    return catalog, original, report, back, codes


def test_features_and_labels_survive(round_trip):
    catalog, original, report, back, codes = round_trip
    assert len(report.exported) == 3 and not report.skipped
    assert len(back.imported) == 3 and not back.skipped
    by_subject = {f"sub-{e.subject}": e for e in back.dataset.recordings}
    for entry in original.recordings:
        twin = by_subject[codes[entry.subject]]
        assert twin.labels == entry.labels
        assert twin.block_labels == entry.block_labels
        a = recording_features(catalog.recording_path(original, entry)).to_frame()
        b = recording_features(catalog.recording_path(back.dataset, twin)).to_frame()
        assert a.shape == b.shape and (a["block"] == b["block"]).all()
        heart = [c for c in a.columns if c.startswith(("hr", "rr"))]
        eeg = [c for c in a.columns if c.startswith("eeg")]
        assert heart and eeg
        pd.testing.assert_frame_equal(a[["t_s", *heart]], b[["t_s", *heart]])
        np.testing.assert_allclose(b[eeg], a[eeg], rtol=EEG_RTOL, atol=EEG_ATOL)


def test_export_holds_no_subject_code_or_date(round_trip):
    _, original, report, _, codes = round_trip
    assert set(codes) == set(original.subjects())  # the mapping is in the database only
    date = original.created.date()
    forbidden = [*original.subjects(), date.isoformat(), date.strftime("%d.%m.%y"),
                 date.strftime("%d-%b-%Y").upper(), original.name]  # fmt: skip
    files = [p for p in report.out_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        text = path.read_bytes().decode("latin-1")
        for word in forbidden:
            assert word not in text and word not in path.name, (word, path)
    scans = pd.read_csv(next(report.out_dir.rglob("*_scans.tsv")), sep="\t")
    shifted = pd.Timestamp(scans["acq_time"][0]).date()
    assert (date - shifted).days == report.date_shift_days >= 365
