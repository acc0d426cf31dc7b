"""simulate_study: files, labels, ratings as block labels, determinism."""

from __future__ import annotations

import pytest

from addiction_index.datasets import DatasetCatalog, block_latent_craving, simulate_study
from addiction_index.devices import load_recording


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """4 residents + 2 controls, protocol demo, seed 5, in a tmp catalog."""
    catalog = DatasetCatalog(tmp_path_factory.mktemp("catalog"))
    dataset = simulate_study(catalog, "small", residents=4, controls=2, seed=5, progress=False)
    return catalog, dataset


def test_manifest_lists_readable_recordings(small_study):
    catalog, dataset = small_study
    assert catalog.load("small").recordings == dataset.recordings
    assert dataset.subjects() == ["S001", "S002", "S003", "S004", "S005", "S006"]
    groups = [r.labels["group"] for r in dataset.recordings]
    assert groups == ["resident"] * 4 + ["control"] * 2
    for entry in dataset.recordings:
        path = catalog.recording_path(dataset, entry)
        assert path.name == f"sub-{entry.subject}_ses-1.xdf" and path.parent.name == "recordings"
        rec = load_recording(path)
        kinds = {str(t.info.kind): t for t in rec.tracks}
        assert kinds["eeg"].info.channels == ("TP9", "AF7", "AF8", "TP10")
        assert kinds["eeg"].info.nominal_rate == 256.0
        assert kinds["eeg"].samples.shape == (480 * 256, 4)
        assert kinds["rr"].samples.shape[0] > 300
        ratings = {m.block: m.value for m in rec.markers if m.label == "rating"}
        assert ratings == {b: v["vas_craving"] for b, v in entry.block_labels.items()
                           if "vas_craving" in v}  # fmt: skip
        assert set(ratings) == {"neutral", "drug"}
        starts = [(m.block, m.meta["role"]) for m in rec.markers if m.label == "block_start"]
        assert starts == [(b, b) for b in ("baseline", "neutral", "drug", "recovery")]
        assert sum(m.label == "cue" for m in rec.markers) == 24


def test_labels_follow_the_latent_craving(small_study):
    _, dataset = small_study
    for entry in dataset.recordings:
        c = entry.labels["latent_craving"]
        if entry.labels["group"] == "control":
            assert c == 0 and entry.labels["diagnosis"] == 0
            assert entry.labels["days_abstinent"] is None
        else:
            assert 10 <= c <= 90 and entry.labels["diagnosis"] == 1
            assert isinstance(entry.labels["days_abstinent"], int)
        blocks = entry.block_labels
        assert blocks["drug"]["latent_craving"] == c
        assert blocks["neutral"]["latent_craving"] == block_latent_craving("neutral", c) == c / 2
        assert blocks["baseline"]["latent_craving"] == 0.0
        if not entry.labels["reports_craving"]:
            assert blocks["drug"]["vas_craving"] == 0.0


def test_same_seed_same_files(small_study, tmp_path):
    _, dataset = small_study
    again = simulate_study(
        DatasetCatalog(tmp_path), "again", residents=4, controls=2, seed=5, progress=False,
        workers=1,
    )  # fmt: skip
    assert [r.sha256 for r in again.recordings] == [r.sha256 for r in dataset.recordings]
    other = simulate_study(
        DatasetCatalog(tmp_path), "other", residents=1, controls=0, seed=6, progress=False
    )
    assert other.recordings[0].sha256 != dataset.recordings[0].sha256
