"""Blink and motion detectors: synthetic blinks/movement, real Muse blinks, batch == live bits."""

from __future__ import annotations

import numpy as np
import pytest

from addiction_index.errors import InputError
from addiction_index.features.artifacts import (
    blink_counts,
    blink_flags,
    motion_flags,
    motion_level,
)

SEED = 20240613
FS = 256.0
WIN = 512  # 2 s, the feature spec's eeg.window_s
HOP = 64  # 0.25 s, the feature spec's hop_s
TP9, AF7, AF8, TP10 = 0, 1, 2, 3
FRONTAL, MASTOIDS = (AF7, AF8), (TP9, TP10)
MUSE = "muse_eeg_notebooks"
N170 = "muse2016_n170_subject1_session1_2017-09-13-15.30.01.csv"
SSVEP = "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv"

# Hand-verified blinks (s from the first row, row index / 256): the minimum of the deflection
# that is identical on TP9 and TP10 (the blink seen through the Fpz reference), and AF7/AF8 and
# AF7-mean(TP) at that moment, all in µV relative to the surrounding median:
#   N170:  55.23 (TP -399/-405, AF7 +25, AF8 +16; AF7-TP +427), 83.00 (-392/-398, +46, +7; +441),
#          119.16 (-342/-352, +58, -5; +407).
#   SSVEP: 53.20 (-395/-388, +70, +108; +461), 80.62 (-364/-360, +50, +82), 93.02 (-392/-391),
#          99.81 (-350/-352, +59, +162), 101.04 (-362/-362), 114.65 (-401/-419),
#          119.92 (-462/-441; cut by the end of the file at 120.05 s).
# Each is a sharp ~120 ms negative TP deflection then a ~300 ms positive rebound.
# Elsewhere, the 1-8 Hz frontal signal stays within about ±60 µV, except an AF8-only electrode pop
# in the SSVEP file (-400 µV step at 28.1 s, then AF8-only excursions of ±100-240 µV to ~57 s).
BLINKS_S = {N170: (55.23, 83.00, 119.16), SSVEP: (53.20, 80.62, 93.02, 99.81, 101.04, 114.65)}
CUT_BLINKS_S = {N170: (), SSVEP: (119.92,)}  # no 2 s window holds all of it


def raised_cosine(amplitude_uv: float, duration_s: float) -> np.ndarray:
    n = round(duration_s * FS)
    return amplitude_uv * 0.5 * (1.0 - np.cos(2.0 * np.pi * np.arange(n) / (n - 1)))


def synthetic(pink, seed: int, n_windows: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Pink 10 µV EEG; every other window gets a 300 ms, 150 µV blink on AF7 and AF8."""
    rng = np.random.default_rng(seed)
    windows = pink(rng, (n_windows, 4, WIN), 10.0)
    has_blink = np.arange(n_windows) % 2 == 1
    blink = raised_cosine(150.0, 0.3)
    for w in np.flatnonzero(has_blink):
        start = int(rng.integers(0, WIN - blink.size))
        windows[w, [AF7, AF8], start : start + blink.size] += blink
    return windows, has_blink


@pytest.mark.parametrize("seed", [SEED, SEED + 1, SEED + 2])
@pytest.mark.parametrize("reference", [None, MASTOIDS])
def test_fires_on_synthetic_blinks_only(seed: int, reference, pink) -> None:
    windows, has_blink = synthetic(pink, seed)
    flags = blink_flags(windows, FRONTAL, FS, reference=reference)
    assert flags.dtype == np.bool_
    assert np.array_equal(flags, has_blink), f"seed={seed}: {np.flatnonzero(flags != has_blink)}"


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_quiet_on_one_sided_artefacts(seed: int, pink) -> None:
    rng = np.random.default_rng(seed)
    windows = pink(rng, (20, 4, WIN), 10.0)
    windows[:10, AF7, 100:177] += raised_cosine(300.0, 0.3)  # AF7 only, even twice the size
    windows[10:, TP9, 200:277] -= raised_cosine(400.0, 0.3)  # a pop on one mastoid
    for reference in (None, MASTOIDS):
        flags = blink_flags(windows, FRONTAL, FS, reference=reference)
        assert not flags.any(), f"seed={seed} reference={reference}: {np.flatnonzero(flags)}"


def test_counts_separate_blinks_and_batch_of_one_gives_the_same_bits(pink) -> None:
    windows, _ = synthetic(pink, SEED, n_windows=6)
    blink = raised_cosine(150.0, 0.3)
    windows[0, [AF7, AF8], 20 : 20 + blink.size] += blink
    windows[0, [AF7, AF8], 300 : 300 + blink.size] += blink
    counts = blink_counts(windows, FRONTAL, FS, reference=MASTOIDS)
    assert counts.dtype == np.int64
    assert counts.tolist() == [2, 1, 0, 1, 0, 1], f"seed={SEED}"
    for w in range(windows.shape[0]):
        one = blink_counts(np.ascontiguousarray(windows[w : w + 1]), FRONTAL, FS, 100.0, MASTOIDS)
        assert one[0] == counts[w], f"seed={SEED} window {w}"


def sliding(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n_samples, 4) -> windows (n_windows, 4, WIN) every HOP samples, and their start times."""
    windows = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(x, WIN, axis=0)[::HOP])
    return windows, np.arange(windows.shape[0]) * HOP / FS


@pytest.mark.parametrize("name", [N170, SSVEP])
def test_real_muse_blinks(name: str, shared_file) -> None:
    x = np.loadtxt(shared_file(MUSE, name), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    windows, start = sliding(x)
    flags = blink_flags(windows, FRONTAL, FS, reference=MASTOIDS)
    end = start + WIN / FS
    for t in BLINKS_S[name]:
        holding = (start <= t - 0.2) & (end >= t + 0.2)  # windows that hold the whole blink
        assert holding.sum() >= 3 and flags[holding].all(), f"{name}: blink at {t} s missed"
    blinks = BLINKS_S[name] + CUT_BLINKS_S[name]
    near = np.zeros(start.size, dtype=bool)
    for t in blinks:
        near |= (start <= t + 0.5) & (end >= t - 0.5)
    quiet = ~near
    assert quiet.sum() > 300, name
    false = np.flatnonzero(flags & quiet)
    assert false.size == 0, f"{name}: flagged quiet windows starting at {start[false]} s"
    # Non-overlapping 2 s windows: one per blink (none of them straddles a window edge).
    n = x.shape[0] // WIN
    tiles = np.ascontiguousarray(x[: n * WIN].reshape(n, WIN, 4).transpose(0, 2, 1))
    found = np.flatnonzero(blink_flags(tiles, FRONTAL, FS, reference=MASTOIDS)) * 2.0
    expected = sorted({2.0 * (t // 2.0) for t in blinks})
    assert found.tolist() == expected, name


def test_real_muse_needs_the_mastoid_rereference(shared_file) -> None:
    """On the Fpz-referenced Muse, AF7/AF8 as recorded move only +25..+58 µV in the N170 blinks."""
    x = np.loadtxt(shared_file(MUSE, N170), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    windows, _ = sliding(x)
    assert not blink_flags(windows, FRONTAL, FS).any()
    assert blink_flags(windows, FRONTAL, FS, reference=MASTOIDS).sum() >= 18


def test_real_one_sided_af8_pop_is_not_a_blink(shared_file) -> None:
    x = np.loadtxt(shared_file(MUSE, SSVEP), delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    stretch = x[int(27.0 * FS) : int(52.5 * FS)]
    assert np.ptp(stretch[:, AF8]) > 400.0 and np.ptp(stretch[:, AF7]) < 100.0  # the pop is there
    windows, _ = sliding(np.ascontiguousarray(stretch))
    for reference in (None, MASTOIDS):
        assert not blink_flags(windows, FRONTAL, FS, reference=reference).any(), reference


ACC_FS = 52.0  # Muse accelerometer (Hz)
ACC_WIN = 104  # 2 s


def rest(rng: np.random.Generator, n_windows: int) -> np.ndarray:
    """Gravity (1 g) in a random fixed orientation per window + 0.005 g white noise per axis."""
    g = rng.normal(size=(n_windows, 3, 1))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return np.ascontiguousarray(g + rng.normal(0.0, 0.005, size=(n_windows, 3, ACC_WIN)))


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_motion_quiet_at_rest_fires_on_movement(seed: int) -> None:
    rng = np.random.default_rng(seed)
    still = rest(rng, 50)
    level = motion_level(still)
    assert not motion_flags(still).any(), f"seed={seed}: max level {level.max():.4f} g"
    assert level.max() < 0.012, f"seed={seed}"  # sqrt(3) × 0.005 g
    t = np.arange(ACC_WIN) / ACC_FS
    moving = still.copy()
    moving[:25, 2] += 0.3 * np.sin(2 * np.pi * 1.0 * t)  # 1 Hz, 0.3 g along gravity (z)
    moving[25:, 0] += 0.3 * np.sin(2 * np.pi * 1.0 * t)  # the same across it (x)
    assert motion_flags(moving).all(), f"seed={seed}: {motion_level(moving).min():.3f} g"


def test_motion_counts_a_head_nod_that_keeps_the_magnitude() -> None:
    t = np.arange(ACC_WIN) / ACC_FS
    tilt = np.deg2rad(10.0) * np.sin(2 * np.pi * 0.5 * t)  # ±10° nod, gravity only
    acc = np.ascontiguousarray(np.stack([np.sin(tilt), np.zeros_like(t), np.cos(tilt)])[None])
    assert np.std(np.linalg.norm(acc[0], axis=0)) < 1e-12  # |a| stays 1 g: ENMO/|a| SD miss it
    assert motion_level(acc)[0] > 0.1 and motion_flags(acc)[0]


def test_motion_batch_of_one_gives_the_same_bits() -> None:
    acc = rest(np.random.default_rng(SEED), 8)
    level = motion_level(acc)
    for w in range(8):
        assert motion_level(np.ascontiguousarray(acc[w : w + 1]))[0] == level[w], f"seed={SEED}"


def test_bad_inputs_are_rejected() -> None:
    eeg = np.zeros((2, 4, WIN))
    acc = np.zeros((2, 3, ACC_WIN))
    bad_calls = {
        "windows.dtype": lambda: blink_flags(eeg.astype(np.float32), FRONTAL, FS),
        "windows.shape": lambda: blink_flags(np.zeros((4, WIN)), FRONTAL, FS),
        "windows": lambda: blink_flags(np.zeros((2, 4, 2 * WIN))[:, :, ::2], FRONTAL, FS),
        "fs": lambda: blink_flags(eeg, FRONTAL, 0.0),
        "threshold_uv": lambda: blink_flags(eeg, FRONTAL, FS, threshold_uv=-1.0),
        "frontal": lambda: blink_flags(eeg, (1, 4), FS),
        "reference": lambda: blink_flags(eeg, FRONTAL, FS, reference=(1, 3)),
        "min_duration_ms": lambda: blink_flags(eeg, FRONTAL, FS, min_duration_ms=0.0),
        "acc_windows.shape": lambda: motion_flags(np.zeros((2, 2, ACC_WIN))),
        "acc_windows.dtype": lambda: motion_flags(acc.astype(np.float32)),
        "threshold_g": lambda: motion_flags(acc, threshold_g=0.0),
    }
    for argument, call in bad_calls.items():
        with pytest.raises(InputError) as info:
            call()
        assert info.value.argument == argument
    with pytest.raises(InputError):
        blink_flags(np.zeros((1, 4, 19)), FRONTAL, FS)  # shorter than smoothing + min duration
