"""Causal SOS filters (numba) against scipy.signal.sosfilt; chunking gives the same bits."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from addiction_index.errors import InputError
from addiction_index.features.filters import (
    StreamingFilter,
    design_eeg_filters,
    filter_recording,
    sos_filter,
)

SEED = 20240612
FS = 256.0
SOS = design_eeg_filters(FS)
MUSE_SSVEP = ("muse_eeg_notebooks", "muse2016_ssvep_subject1_session1_2017-09-14-21.20.04.csv")


def rel_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Worst absolute difference relative to the reference's largest magnitude."""
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def scipy_first_sample(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """scipy with the start state StreamingFilter uses by default (sosfilt_zi × first sample)."""
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]  # scipy: (n_sec, 2, n_ch)
    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)[0]


def stream(filt: StreamingFilter, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feed ``x`` in random chunks of 0..max_chunk rows; concatenate copies of the outputs."""
    pieces, start = [], 0
    while start < x.shape[0]:
        n = int(rng.integers(0, min(filt.max_chunk, 300) + 1))
        pieces.append(filt.process(np.ascontiguousarray(x[start : start + n])).copy())
        start += n
    return np.concatenate(pieces)


def gain_db(sos: np.ndarray, freq_hz: float, seconds: float = 8.0, settle_s: float = 3.0) -> float:
    """Output/input RMS (dB) of a sinusoid after ``settle_s`` seconds of settling."""
    t = np.arange(int(seconds * FS)) / FS
    x = np.ascontiguousarray(np.sin(2 * np.pi * freq_hz * t + 0.2)[:, None] * 20.0)
    y = filter_recording(sos, x)
    keep = t >= settle_s
    return float(20 * np.log10(np.sqrt(np.mean(y[keep] ** 2)) / np.sqrt(np.mean(x[keep] ** 2))))


def test_design_is_bandpass_then_notches() -> None:
    assert SOS.dtype == np.float64 and SOS.flags.c_contiguous
    assert SOS.shape == (4 + 1, 6)  # 4 Butterworth sections + one 50 Hz notch
    assert np.all(SOS[:, 3] == 1.0)
    both = design_eeg_filters(FS, notch_hz=(50.0, 100.0, 150.0))  # 150 Hz >= Nyquist: dropped
    assert both.shape == (6, 6)
    us = design_eeg_filters(FS, notch_hz=(60.0,))
    assert gain_db(us, 60.0) < -30.0
    assert gain_db(us, 50.0) > -15.0  # a 60 Hz notch leaves 50 Hz to the band-pass edge only
    none = design_eeg_filters(FS, notch_hz=())
    assert none.shape == (4, 6)


def test_notch_and_bandpass_frequency_response() -> None:
    gains = {f: gain_db(SOS, f) for f in (0.2, 10.0, 50.0, 70.0)}
    print("gain (dB) after 3 s of settling:", {f: round(g, 1) for f, g in gains.items()})
    assert gains[50.0] <= -30.0, gains
    assert abs(gains[10.0]) <= 0.5, gains
    assert gains[0.2] <= -40.0, gains  # 4th-order high-pass at 1 Hz: ~-56 dB
    assert gains[70.0] <= -20.0, gains  # 4th-order low-pass at 45 Hz (bilinear): -22.5 dB


def test_notch_alone_removes_50_hz_and_passes_10_hz() -> None:
    b, a = scipy.signal.iirnotch(50.0, 30.0, fs=FS)
    notch = np.ascontiguousarray(scipy.signal.tf2sos(b, a))
    assert gain_db(notch, 50.0, settle_s=1.0) <= -30.0
    assert abs(gain_db(notch, 10.0, settle_s=1.0)) <= 0.5


def test_sos_filter_equals_scipy_sosfilt_with_its_zi_layout() -> None:
    rng = np.random.default_rng(SEED)
    x = rng.normal(0.0, 20.0, size=(5000, 4)) + rng.normal(0, 100, size=4)
    zi = np.ascontiguousarray(rng.normal(0.0, 10.0, size=(SOS.shape[0], 4, 2)))
    zi_scipy = zi.transpose(0, 2, 1).copy()  # scipy, axis=0: (n_sections, 2, n_channels)
    y_ref, zf_ref = scipy.signal.sosfilt(SOS, x, axis=0, zi=zi_scipy)
    y = sos_filter(SOS, x, zi)
    err_y = rel_error(y, y_ref)
    err_z = rel_error(zi, zf_ref.transpose(0, 2, 1))
    print(f"seed={SEED} sos_filter vs scipy.sosfilt: output {err_y:.1e}, final state {err_z:.1e}")
    assert err_y <= 1e-12, f"seed={SEED}: {err_y:.2e}"
    assert err_z <= 1e-12, f"seed={SEED}: {err_z:.2e}"


@pytest.mark.parametrize("seed", [SEED, SEED + 1, SEED + 2])
@pytest.mark.parametrize("initial", ["first_sample", "zero"])
def test_random_chunking_equals_one_pass_bit_for_bit(seed: int, initial: str, pink) -> None:
    rng = np.random.default_rng(seed)
    x = np.ascontiguousarray(pink(rng, (3, 4000)).T)  # (n_samples, n_channels) with DC offsets
    whole = filter_recording(SOS, x, initial=initial)
    filt = StreamingFilter(SOS, 3, max_chunk=512, initial=initial)
    chunked = stream(filt, x, rng)
    assert np.array_equal(chunked, whole), f"seed={seed} initial={initial}"
    filt.reset()
    again = stream(filt, x, np.random.default_rng(seed + 100))
    assert np.array_equal(again, whole), f"seed={seed} initial={initial}: after reset()"
    if initial == "first_sample":
        ref = scipy_first_sample(SOS, x)
    else:
        ref = scipy.signal.sosfilt(SOS, x, axis=0)
    err = rel_error(whole, ref)
    assert err <= 1e-12, f"seed={seed} initial={initial}: {err:.2e} vs scipy"


def test_first_sample_start_has_no_step_transient() -> None:
    x = np.full((512, 2), 300.0)  # a channel sitting 300 µV off zero
    assert np.max(np.abs(filter_recording(SOS, x))) < 1e-9
    assert np.max(np.abs(filter_recording(SOS, x, initial="zero"))) > 50.0


def test_process_returns_a_view_of_the_preallocated_buffer() -> None:
    filt = StreamingFilter(SOS, 2, max_chunk=64)
    first = filt.process(np.ones((10, 2)))
    second = filt.process(np.zeros((64, 2)))
    assert first.base is second.base  # the same buffer: copy outputs that must be kept
    assert filt.process(np.zeros((0, 2))).shape == (0, 2)


def test_real_muse_recording_streamed_equals_scipy(shared_file) -> None:
    path = shared_file(*MUSE_SSVEP)
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))  # µV at 256 Hz
    assert x.shape == (30732, 4)
    rng = np.random.default_rng(SEED)
    filt = StreamingFilter(SOS, 4)
    chunked = stream(filt, x, rng)
    ref = scipy_first_sample(SOS, x)
    err = rel_error(chunked, ref)
    print(f"seed={SEED} Muse SSVEP, 4 channels streamed vs scipy.sosfilt: {err:.1e}")
    assert err <= 1e-12, f"seed={SEED}: {err:.2e}"
    assert np.array_equal(chunked, filter_recording(SOS, x)), f"seed={SEED}"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"fs": 0.0}, "fs"),
        ({"fs": 256.0, "band_hz": (1.0, 128.0)}, "band_hz"),
        ({"fs": 256.0, "band_hz": (10.0, 5.0)}, "band_hz"),
        ({"fs": 256.0, "order": 0}, "order"),
        ({"fs": 256.0, "notch_q": 0.0}, "notch_q"),
        ({"fs": 256.0, "notch_hz": (-50.0,)}, "notch_hz"),
    ],
)
def test_design_rejects_bad_parameters(kwargs: dict, argument: str) -> None:
    with pytest.raises(InputError) as info:
        design_eeg_filters(**kwargs)
    assert info.value.argument == argument


def test_bad_arrays_are_rejected() -> None:
    x = np.zeros((100, 4))
    zi = np.zeros((SOS.shape[0], 4, 2))
    bad_calls = {
        "x.dtype": lambda: sos_filter(SOS, x.astype(np.float32), zi),
        "x": lambda: sos_filter(SOS, np.asfortranarray(np.zeros((100, 4)))[:, ::2], zi[:, :2]),
        "x.shape": lambda: sos_filter(SOS, np.zeros(100), zi),
        "zi.shape": lambda: sos_filter(SOS, x, np.zeros((SOS.shape[0], 2, 4))),
        "sos.shape": lambda: sos_filter(np.zeros((2, 5)), x, zi),
        "sos[:, 3]": lambda: sos_filter(SOS * 2.0, x, zi),
        "n_channels": lambda: StreamingFilter(SOS, 0),
        "initial": lambda: StreamingFilter(SOS, 4, initial="odd"),
    }
    for argument, call in bad_calls.items():
        with pytest.raises(InputError) as info:
            call()
        assert info.value.argument == argument
    filt = StreamingFilter(SOS, 4, max_chunk=16)
    for chunk in (np.zeros((17, 4)), np.zeros((8, 3)), np.zeros((8, 4), dtype=np.float32)):
        with pytest.raises(InputError):
            filt.process(chunk)
