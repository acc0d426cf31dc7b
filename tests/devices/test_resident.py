"""The simulated resident is deterministic and its latent craving moves the signals as evidenced."""

import numpy as np
import pytest
from scipy import signal

from addiction_index.devices import ResidentParams, SimulatedResident

FS = 256.0
SCHEDULE = [(0.0, 60.0, "baseline"), (60.0, 120.0, "neutral"), (120.0, 180.0, "drug")]


def _record(params: ResidentParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    resident = SimulatedResident(params)
    resident.timeline.set(SCHEDULE)
    eeg = np.concatenate([resident.eeg(k * 12 / FS, 12) for k in range(int(180 * FS / 12))])
    t, beats, rrs = 0.0, [], []
    while t < 180.0:
        rr = resident.next_rr_ms(t)
        t += rr / 1000.0
        beats.append(t)
        rrs.append(rr)
    return eeg, np.array(beats), np.array(rrs)


def _alpha_frontal(eeg: np.ndarray, start: float, end: float) -> float:
    seg = eeg[int(start * FS) : int(end * FS), 1:3].T
    f, p = signal.welch(seg, fs=FS, nperseg=256)
    return float(p[:, (f >= 8) & (f < 13)].sum())


def _rmssd(beats: np.ndarray, rrs: np.ndarray, start: float, end: float) -> float:
    rr = rrs[(beats > start) & (beats <= end)]
    return float(np.sqrt(np.mean(np.diff(rr) ** 2)))


def test_same_seed_same_signals() -> None:
    a = _record(ResidentParams.draw(4, 50))
    b = _record(ResidentParams.draw(4, 50))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = _record(ResidentParams.draw(5, 50))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("seed", [11, 12])
def test_drug_cues_lower_frontal_alpha_and_rmssd_in_proportion_to_craving(seed: int) -> None:
    changes = {}
    for craving in (0, 90):
        eeg, beats, rrs = _record(ResidentParams.draw(seed, craving))
        # Skip the first 20 s of the drug block: the response builds up with an 8 s time constant.
        alpha = _alpha_frontal(eeg, 140, 180) / _alpha_frontal(eeg, 80, 120)
        rmssd = _rmssd(beats, rrs, 140, 180) / _rmssd(beats, rrs, 80, 120)
        hr = (
            60000 / rrs[(beats > 140) & (beats <= 180)].mean()
            - 60000 / rrs[(beats > 80) & (beats <= 120)].mean()
        )
        changes[craving] = (alpha, rmssd, hr)
    alpha0, rmssd0, hr0 = changes[0]
    alpha90, rmssd90, hr90 = changes[90]
    # Craving 90: amplitude × (1 − 0.35 × 0.9 × reactivity) → power about half of neutral.
    assert alpha90 < 0.75 and alpha0 > 0.75
    assert alpha90 < alpha0 - 0.2
    assert rmssd90 < 0.85 and rmssd90 < rmssd0 - 0.15  # vagal −40 % at full craving (8.1)
    assert hr90 > hr0 + 1.5  # about +4 bpm × 0.9


def test_non_reporters_rate_zero_but_still_react() -> None:
    params = ResidentParams.draw(3, 90, reports_craving=False)
    resident = SimulatedResident(params)
    assert resident.rate_craving("post_cue") == 0.0
    eeg, _, _ = _record(params)
    assert _alpha_frontal(eeg, 140, 180) / _alpha_frontal(eeg, 80, 120) < 0.75


def test_pre_cue_rating_lower_than_post_cue() -> None:
    resident = SimulatedResident(ResidentParams.draw(8, 80))
    pre, post = resident.rate_craving("pre_cue"), resident.rate_craving("post_cue")
    assert 0 <= pre < post <= 100


def test_detached_headband_is_flat_and_strap_silent() -> None:
    params = ResidentParams.draw(2, 40, detached_roles=("baseline",))
    resident = SimulatedResident(params)
    resident.timeline.set(SCHEDULE)
    eeg = resident.eeg(10.0, 256)
    assert eeg.std(axis=0).max() < 0.5
    assert not resident.skin_contact(30.0) and resident.skin_contact(90.0)
