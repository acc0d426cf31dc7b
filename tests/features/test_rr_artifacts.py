"""Lipponen & Tarvainen 2019 artefact detection against NeuroKit2's "kubios", on real RR data."""

from __future__ import annotations

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features.hrv_time import hrv_time
from addiction_index.features.rr_artifacts import RRArtifacts, rr_artifacts, rr_correct

nk = pytest.importorskip("neurokit2")

TYPES = ("ectopic", "missed", "extra", "longshort")


def inject(rr: np.ndarray) -> np.ndarray:
    """An ectopic beat at 200 (premature: short then compensatory long), a missed beat at 400
    (intervals 400 and 401 merged), an extra beat at 600 (interval 600 split 30/70 %)."""
    rr = rr.copy()
    early = 0.4 * rr[200]
    rr[200] -= early
    rr[201] += early
    rr = np.concatenate([rr[:400], [rr[400] + rr[401]], rr[402:]])
    return np.concatenate([rr[:600], [0.3 * rr[600], 0.7 * rr[600]], rr[601:]])


def neurokit(rr: np.ndarray, iterative: bool):
    peaks = np.concatenate(([0.0], np.cumsum(rr))).astype(np.int64)  # exact at 1000 Hz
    return nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=iterative)


@pytest.fixture
def clean_rest(load_rr) -> np.ndarray:
    return load_rr("rest")


def test_injected_artefacts_found_at_their_indices(clean_rest):
    found = rr_artifacts(inject(clean_rest))
    assert isinstance(found, RRArtifacts)
    assert 400 in found.missed
    assert 600 in found.extra
    assert {200, 201} & set(found.ectopic.tolist())
    assert found.counts["missed"] == 1 and found.counts["extra"] == 1
    assert found.total == sum(found.counts.values())


def test_corrected_rmssd_within_5_percent_of_clean(clean_rest):
    dirty = inject(clean_rest)
    clean = hrv_time(clean_rest)["HRV_RMSSD"]
    assert abs(hrv_time(dirty)["HRV_RMSSD"] / clean - 1) > 0.2  # the artefacts do matter
    corrected = rr_correct(dirty)
    assert corrected.size == clean_rest.size
    assert hrv_time(corrected)["HRV_RMSSD"] == pytest.approx(clean, rel=0.05)


@pytest.mark.parametrize(("which", "injected"), [("rest", True), ("rest", False), ("polar", False)])
def test_matches_neurokit_kubios(load_rr, which, injected):
    rr = load_rr(which)
    if injected:
        rr = inject(rr)
    ours = rr_artifacts(rr)
    info, _ = neurokit(rr, iterative=False)
    for kind in TYPES:  # NeuroKit2 numbers peaks: its index is ours + 1
        np.testing.assert_array_equal(getattr(ours, kind), np.asarray(info[kind]) - 1, kind)
    _, peaks_clean = neurokit(rr, iterative=True)
    corrected = rr_correct(rr)
    assert corrected.size == peaks_clean.size - 1
    # NeuroKit2 truncates moved beats to whole samples (1 ms here); we keep fractions
    np.testing.assert_allclose(corrected, np.diff(peaks_clean), atol=1.0)


def test_clean_synthetic_series_untouched():
    rng = np.random.default_rng(4711)
    rr = 900.0 + 20.0 * np.sin(np.arange(300) / 5.0) + rng.normal(0.0, 2.0, 300)
    assert rr_artifacts(rr).total == 0
    np.testing.assert_allclose(rr_correct(rr), rr, atol=1e-9)


def test_rejects_list():
    with pytest.raises(InputError, match="rr_ms"):
        rr_artifacts([900.0] * 50)
