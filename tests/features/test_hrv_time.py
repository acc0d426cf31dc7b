"""hrv_time against NeuroKit2's hrv_time on real RR recordings, and its too-little-data rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features.hrv import InsufficientDataWarning
from addiction_index.features.hrv_time import HRV_TIME_KEYS, hrv_time

nk = pytest.importorskip("neurokit2")

RTOL = 1e-9  # relative agreement with NeuroKit2 (measured: 0 on both recordings)


def as_peaks(rr_ms: np.ndarray) -> np.ndarray:
    """Peak indices at 1000 Hz giving exactly these RR intervals (beat 0 at sample 0)."""
    return np.concatenate(([0.0], np.cumsum(rr_ms))).astype(np.int64)


@pytest.mark.parametrize("which", ["rest", "polar"])
def test_matches_neurokit(load_rr, which):
    rr = load_rr(which)
    ours = hrv_time(rr)
    ref = nk.hrv_time(as_peaks(rr), sampling_rate=1000).iloc[0]
    for key in ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD"):
        assert ours[key] == pytest.approx(ref[key], rel=RTOL), key
    assert ours["HRV_MeanHR"] == pytest.approx(60000.0 / ref["HRV_MeanNN"], rel=RTOL)
    # NeuroKit2 turns peaks into RR by /1000*1000, so a difference of exactly 50 ms can become
    # 50.000...01 ms and count; fed the intervals themselves it counts as we do, exactly.
    ref_rri = nk.hrv_time({"RRI": rr}, sampling_rate=1000).iloc[0]
    assert ours["HRV_pNN50"] == pytest.approx(ref_rri["HRV_pNN50"], rel=RTOL)
    assert abs(ours["HRV_pNN50"] - ref["HRV_pNN50"]) <= 100.0 * 2 / rr.size


def test_known_values_by_hand():
    rr = np.tile([800.0, 900.0], 30)  # 51 s
    out = hrv_time(rr)
    assert out["HRV_MeanNN"] == pytest.approx(850.0)
    assert out["HRV_RMSSD"] == pytest.approx(100.0)
    assert out["HRV_pNN50"] == pytest.approx(59 / 60 * 100)
    assert out["HRV_MeanHR"] == pytest.approx(60000.0 / 850.0)
    assert out["HRV_SDNN"] == pytest.approx(np.std(rr, ddof=1))


def test_under_30_s_is_nan_with_warning():
    rr = np.full(30, 900.0)  # 27 s
    with pytest.warns(InsufficientDataWarning, match="30 s"):
        out = hrv_time(rr)
    assert set(out) == set(HRV_TIME_KEYS)
    assert all(np.isnan(v) for v in out.values())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(hrv_time(np.full(34, 900.0))["HRV_SDNN"])  # 30.6 s


@pytest.mark.parametrize(
    "bad", [[900.0] * 40, np.full(40, 900, dtype=np.int64), np.full((2, 40), 900.0)]
)
def test_rejects_wrong_type(bad):
    with pytest.raises(InputError, match="rr_ms"):
        hrv_time(bad)


def test_rejects_non_positive():
    rr = np.full(40, 900.0)
    rr[3] = 0.0
    with pytest.raises(InputError, match="rr_ms"):
        hrv_time(rr)
