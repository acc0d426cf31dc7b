"""import_recordings on real files: imported and skipped files with reasons; mapping files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from addiction_index.datasets import DatasetCatalog, import_recordings
from addiction_index.errors import ConfigError


def _folder(tmp_path: Path, shared_file) -> Path:
    edf = shared_file("edf_eegmmidb", "S001R04.edf")
    muse = shared_file(
        "muse_eeg_notebooks", "muse2016_n170_subject1_session1_2017-09-13-15.30.01.csv"
    )
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    shutil.copy(edf, src / "S001R04.edf")
    shutil.copy(muse, src / "nested" / "muse_n170.csv")
    shutil.copy(edf, src / "nested" / "copy_of_S001R04.edf")  # duplicate content
    (src / "notes.docx").write_bytes(b"junk")
    (src / "broken.xdf").write_bytes(b"XDF:garbage")  # pyxdf reads it: no stream at all
    (src / "broken.edf").write_bytes(b"0       not an EDF header")
    return src


def test_folder_import_lists_imported_and_skipped(tmp_path, shared_file):
    src = _folder(tmp_path, shared_file)
    catalog = DatasetCatalog(tmp_path / "catalog")
    report = import_recordings(catalog, "mixed", src, "folder")
    assert report.found == 6
    imported = {Path(e.path).name: e for e in report.imported}
    assert set(imported) == {"S001R04.edf", "muse_n170.csv"}
    assert imported["S001R04.edf"].format == "edf" and imported["muse_n170.csv"].format == "csv"
    assert Path(imported["S001R04.edf"].path).is_absolute()
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["notes.docx"] == "unknown suffix '.docx'"
    assert reasons["broken.xdf"] == "no EEG or heart stream (streams found: none)"
    assert reasons["broken.edf"].startswith("unreadable as edf: ")
    assert "duplicate content" in reasons["copy_of_S001R04.edf"]
    saved = catalog.load("mixed")
    assert len(saved.recordings) == 2 and len(saved.skipped) == 4
    again = import_recordings(catalog, "mixed", src, "edf")  # extends: same content is skipped
    assert not again.imported and len(catalog.load("mixed").recordings) == 2


def test_mapping_renames_events_and_reads_labels(tmp_path, shared_file):
    src = tmp_path / "edf"
    src.mkdir()
    shutil.copy(shared_file("edf_eegmmidb", "S001R04.edf"), src / "S001R04.edf")
    shutil.copy(shared_file("edf_eegmmidb", "S001R04.edf"), src / "S002R04.edf")
    (src / "S002R04.edf").write_bytes((src / "S002R04.edf").read_bytes() + b"")
    (tmp_path / "labels.csv").write_text("subject,group,T2:vas_craving\n001,resident,55\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "pattern: 'S(?P<subject>\\d{3})R(?P<session>\\d{2})'\n"
        "labels: labels.csv\n"
        "events: {T0: baseline, T1: neutral, T2: drug}\n"
        "channels: {'Fc5.': AF7, 'Fc6.': AF8, 'T9..': TP9, 'T10.': TP10}\n"
    )
    catalog = DatasetCatalog(tmp_path / "catalog")
    report = import_recordings(catalog, "mmi", src, "edf", mapping)
    (entry,) = report.imported
    assert (entry.subject, entry.session, entry.labels) == ("001", "04", {"group": "resident"})
    assert entry.block_labels == {"drug": {"vas_craving": 55}}
    assert entry.channel_map == {"Fc5.": "AF7", "Fc6.": "AF8", "T9..": "TP9", "T10.": "TP10"}
    assert report.dataset.provenance["events"] == {"T0": "baseline", "T1": "neutral", "T2": "drug"}
    # S002R04.edf has the same bytes: a duplicate, reported as such
    assert [s.reason for s in report.skipped] == [
        "duplicate content (same sha256 as sub-001_ses-04)"
    ]


def test_subject_missing_from_the_labels_table_is_skipped(tmp_path, shared_file):
    src = tmp_path / "edf"
    src.mkdir()
    shutil.copy(shared_file("edf_eegmmidb", "S001R04.edf"), src / "S001R04.edf")
    (tmp_path / "labels.csv").write_text("subject,group\n007,control\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("pattern: 'S(?P<subject>\\d{3})'\nlabels: labels.csv\n")
    report = import_recordings(DatasetCatalog(tmp_path / "c"), "m", src, "folder", mapping)
    assert not report.imported
    assert "subject 001 session 1 not found in" in report.skipped[0].reason


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("events: {T0: baseline}\npatern: 'x'\n", 2, "patern"),
        ("events: {T0: baseline}\npattern: 'S(?P<sub>\\d+)'\n", 2, "pattern"),
        ("pattern: 'S(?P<subject>\\d+)'\nlabels: nowhere.csv\n", 2, "labels"),
    ],
)
def test_mapping_errors_name_file_line_and_key(tmp_path, text, line, key):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text)
    (tmp_path / "src").mkdir()
    with pytest.raises(ConfigError) as info:
        import_recordings(DatasetCatalog(tmp_path / "c"), "m", tmp_path / "src", "folder", mapping)
    assert info.value.file == str(mapping) and info.value.line == line and info.value.key == key
    assert str(mapping) in str(info.value)
