"""R peaks (and PPG peaks): numba kernels vs NeuroKit2 on the same input, whole and 1 s chunks.

Input: the Polar H10 ECG (10 min, 130 Hz) from the shared data folder; without it,
``neurokit2.ecg_simulate(duration=600, sampling_rate=130, heart_rate=70, random_state=0)`` (said
in the notes). PPG: ``bio_resting_5min_100hz.csv`` column PPG, or ``neurokit2.ppg_simulate``.
Streaming reference: every second, ``nk.ecg_clean`` + ``nk.ecg_peaks`` on a sliding buffer of
the last 10 s (the least a batch detector needs to see beats in context), vs ours
``EcgPeakStream.update`` on the new 1 s chunk. Run: ``python benchmarks/bench_rpeaks.py [--json]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Ratio, cli_main, median_s, shared_data

from addiction_index.features.ecg_peaks import EcgPeakStream, ecg_peaks
from addiction_index.features.ppg_peaks import PpgPeakStream, ppg_peaks

DATA = shared_data()
BUFFER_S = 10


def _ecg() -> tuple[np.ndarray, float, str]:
    path = DATA / "polar_h10_ecg_detectpvc" / "polar_h10_ecg_130hz.csv"
    if path.is_file():
        return pd.read_csv(path)["ecg_mV"].to_numpy(np.float64), 130.0, "Polar H10 ECG 130 Hz"
    x = nk.ecg_simulate(duration=600, sampling_rate=130, heart_rate=70, random_state=0)
    return np.asarray(x, np.float64), 130.0, "shared data absent: nk.ecg_simulate 600 s"


def _ppg() -> tuple[np.ndarray, float, str]:
    path = DATA / "neurokit_biosignals" / "bio_resting_5min_100hz.csv"
    if path.is_file():
        return pd.read_csv(path)["PPG"].to_numpy(np.float64), 100.0, "NeuroKit resting PPG 100 Hz"
    x = nk.ppg_simulate(duration=300, sampling_rate=100, heart_rate=70, random_state=0)
    return np.asarray(x, np.float64), 100.0, "shared data absent: nk.ppg_simulate 300 s"


def _stream_total(make, x: np.ndarray, step: int) -> None:
    s = make()
    for i in range(0, x.size, step):
        s.update(x[i : i + step])


def _ref_chunks(clean, peaks, x: np.ndarray, fs: float, step: int) -> None:
    buf = int(BUFFER_S * fs)
    for i in range(step, x.size + 1, step):
        seg = x[max(0, i - buf) : i]
        peaks(clean(seg, sampling_rate=fs), sampling_rate=fs)


def _pair(kind, x, fs, src, ours, clean, peaks, make, quick, target_w, target_s):
    minutes = x.size / fs / 60.0
    rep = 3 if quick else 7
    ours_s = median_s(lambda: ours(x, fs), repeat=rep)
    ref_s = median_s(lambda: peaks(clean(x, sampling_rate=fs), sampling_rate=fs), repeat=rep)
    step = round(fs)
    xs = x[: step * 60] if quick else x
    n_chunks = int(np.ceil(xs.size / step))
    ours_c = median_s(lambda: _stream_total(make, xs, step), repeat=rep) / n_chunks
    ref_c = median_s(lambda: _ref_chunks(clean, peaks, xs, fs, step), repeat=1 if quick else 3)
    ref_c /= xs.size // step
    return [
        Ratio(
            f"{kind} whole recording",
            ours_s,
            ref_s,
            f"nk.{kind}_peaks(nk.{kind}_clean(x))",
            target_w,
            "recording",
            f"{src}; cleaning + peaks on both sides",
            {
                "ours_s_per_min": ours_s / minutes,
                "reference_s_per_min": ref_s / minutes,
                "minutes": minutes,
            },
        ),
        Ratio(
            f"{kind} 1 s chunks",
            ours_c,
            ref_c,
            f"nk clean+peaks on last {BUFFER_S} s each second",
            target_s,
            "chunk",
            f"{src}; ours: stream.update(1 s); {n_chunks} chunks",
            {"ours_s_per_min": ours_c * 60, "reference_s_per_min": ref_c * 60},
        ),
    ]


def run(quick: bool = False) -> list[Ratio]:
    x, fs, src = _ecg()
    if quick:
        x = x[: int(120 * fs)]
    out = _pair(
        "ecg",
        x,
        fs,
        src,
        ecg_peaks,
        nk.ecg_clean,
        lambda c, sampling_rate: nk.ecg_peaks(c, sampling_rate=sampling_rate),
        lambda: EcgPeakStream(fs),
        quick,
        10.0,
        7.0,
    )
    p, pfs, psrc = _ppg()
    out += _pair(
        "ppg",
        p,
        pfs,
        psrc,
        ppg_peaks,
        nk.ppg_clean,
        lambda c, sampling_rate: nk.ppg_peaks(c, sampling_rate=sampling_rate),
        lambda: PpgPeakStream(pfs),
        quick,
        None,
        None,
    )
    return out


if __name__ == "__main__":
    cli_main(run, "R/PPG peaks: ours vs NeuroKit2")
