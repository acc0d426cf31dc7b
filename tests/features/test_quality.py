"""Quality flags that need a spectrum (line noise), and spectral features on known signals."""

from __future__ import annotations

import numpy as np
import pytest

from addiction_index.features import (
    HopFeatures,
    QualityFlag,
    eeg_features_batch,
    eeg_hop_ends,
    load_feature_spec,
)

SEED = 51017
SPEC = load_feature_spec()
N = SPEC.eeg_window_samples
T = np.arange(N) / SPEC.fs
SSVEP = ("muse_eeg_notebooks", "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv")
N170 = ("muse_eeg_notebooks", "muse2016_n170_subject1_session1_2017-09-13-15.30.01.csv")


def noisy_window(pink, rng) -> np.ndarray:
    return np.ascontiguousarray(pink(rng, (4, N), scale_uv=15.0).T)


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_line_noise_fires_on_mains_and_stays_quiet_on_clean_eeg(pink, mains_hz: float) -> None:
    rng = np.random.default_rng(SEED)
    window = noisy_window(pink, rng)
    clean = HopFeatures().eeg(window)
    assert all(clean[f"eeg_quality_{ch}"] == 0 for ch in SPEC.channels), f"seed={SEED}"
    window[:, 3] += 40.0 * np.sin(2 * np.pi * mains_hz * T)  # TP10 picks up mains
    hum = HopFeatures().eeg(window)
    assert hum["eeg_quality_TP10"] == QualityFlag.LINE_NOISE
    assert [hum[f"eeg_quality_{ch}"] for ch in ("TP9", "AF7", "AF8")] == [0, 0, 0]
    assert np.isnan(hum["eeg_rel_alpha_temporal"]) and hum["eeg_usable"] == 0.0
    assert hum["eeg_usable_frontal"] == 1.0 and np.isfinite(hum["eeg_faa"])


def test_line_noise_on_real_muse_recordings(shared_file) -> None:
    """US recordings (60 Hz mains): poor temporal contact in the SSVEP file, clean frontal pair."""
    flagged = {}
    for parts in (SSVEP, N170):
        signal = np.loadtxt(shared_file(*parts), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
        table = eeg_features_batch(np.ascontiguousarray(signal), eeg_hop_ends(signal.shape[0]))
        for ch in SPEC.channels:
            bits = table[f"eeg_quality_{ch}"].astype(int)
            flagged[parts[1][9:13], ch] = float(np.mean(bits & QualityFlag.LINE_NOISE > 0))
    print(f"fraction of hops with line noise: {flagged}")
    assert flagged["ssve", "TP9"] > 0.75 and flagged["ssve", "TP10"] > 0.75  # 0.85, 0.87
    assert all(flagged[f, ch] == 0.0 for f in ("ssve", "n170") for ch in ("AF7", "AF8"))
    assert flagged["n170", "TP9"] < 0.05 and flagged["n170", "TP10"] < 0.05


def test_peak_alpha_frequency_finds_an_off_bin_alpha(pink) -> None:
    rng = np.random.default_rng(SEED)
    window = noisy_window(pink, rng)
    window += 25.0 * np.sin(2 * np.pi * 10.3 * T)[:, None]
    row = HopFeatures().eeg(window)
    for ch in SPEC.channels:  # 1 Hz bins; the parabola lands within a fifth of a bin
        assert row[f"eeg_paf_{ch}"] == pytest.approx(10.3, abs=0.2), f"seed={SEED}"
    assert row["eeg_paf_frontal"] == pytest.approx(
        (row["eeg_paf_AF7"] + row["eeg_paf_AF8"]) / 2, rel=1e-15
    )


def test_peak_alpha_frequency_is_nan_without_a_peak_inside_the_range(pink) -> None:
    rng = np.random.default_rng(SEED)
    window = noisy_window(pink, rng) + 60.0 * np.sin(2 * np.pi * 7.0 * T)[:, None]
    row = HopFeatures().eeg(window)  # the highest 7-12 Hz bin is the range's edge (7 Hz)
    assert all(np.isnan(row[f"eeg_paf_{ch}"]) for ch in SPEC.channels)


def test_spectral_entropy_orders_white_noise_above_a_rhythm() -> None:
    rng = np.random.default_rng(SEED)
    white = np.ascontiguousarray(rng.normal(0.0, 10.0, (N, 4)))
    rhythm = white * 0.05 + 30.0 * np.sin(2 * np.pi * 10.0 * T)[:, None]
    h_white = HopFeatures().eeg(white)["eeg_entropy_AF7"]
    h_rhythm = HopFeatures().eeg(np.ascontiguousarray(rhythm))["eeg_entropy_AF7"]
    assert 0.95 < h_white <= 1.0, f"seed={SEED}"
    assert h_rhythm < 0.3


def test_band_ratios_follow_their_definition(pink) -> None:
    rng = np.random.default_rng(SEED)
    row = HopFeatures().eeg(noisy_window(pink, rng))
    for ch in SPEC.channels:
        theta, alpha, beta = (row[f"eeg_abs_{b}_{ch}"] for b in ("theta", "alpha", "beta"))
        assert row[f"eeg_ratio_theta_beta_{ch}"] == theta / beta
        assert row[f"eeg_ratio_alpha_theta_beta_{ch}"] == pytest.approx(
            (alpha + theta) / beta, rel=1e-15
        )


def test_blink_bit_on_real_muse_blinks(shared_file) -> None:
    """Blinks hand-verified in the N170 file (TP9/TP10 about -400 µV, reference at Fpz)."""
    signal = np.loadtxt(shared_file(*N170), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    ends = eeg_hop_ends(signal.shape[0])
    table = eeg_features_batch(np.ascontiguousarray(signal), ends)
    blink = (table["eeg_quality_AF7"].astype(int) & QualityFlag.BLINK) > 0
    start, stop = (ends - N) / SPEC.fs, ends / SPEC.fs
    blinks_s = (55.23, 83.00, 119.16)
    for t in blinks_s:  # every window holding the whole blink (0.1 s before to 0.4 s after)
        holds = (start <= t - 0.1) & (stop >= t + 0.4)
        assert holds.any() and blink[holds].all(), t
    near = np.zeros(ends.size, dtype=bool)
    for t in blinks_s:
        near |= (start <= t + 0.9) & (stop >= t - 0.6)
    quiet = ~near
    print(f"blink flags: {int(blink.sum())} hops; on quiet hops: {int(blink[quiet].sum())}")
    assert quiet.sum() > 300 and not blink[quiet].any()
    assert np.all(table["eeg_usable"][blink] == 0.0)  # a blink makes the hop unusable


def test_blink_bit_fires_on_a_synthetic_blink_in_the_reference(pink) -> None:
    rng = np.random.default_rng(SEED)
    window = noisy_window(pink, rng)
    assert HopFeatures().eeg(window)["eeg_quality_TP9"] == 0
    shape = 400.0 * np.sin(np.pi * np.clip((T - 1.0) / 0.3, 0, 1)) ** 2  # 300 ms, -400 µV
    window[:, 0] -= shape  # in the Fpz reference: TP9 and TP10 see it, AF7/AF8 barely
    window[:, 3] -= shape
    window[:, 1:3] += 0.1 * shape[:, None]  # frontal sites move slightly positive (real data)
    row = HopFeatures().eeg(window)
    assert all(int(row[f"eeg_quality_{ch}"]) & QualityFlag.BLINK for ch in SPEC.channels)
    one_sided = noisy_window(pink, rng)
    one_sided[:, 0] -= shape  # a pop on one mastoid only: not a blink
    assert int(HopFeatures().eeg(one_sided)["eeg_quality_AF7"]) & QualityFlag.BLINK == 0
