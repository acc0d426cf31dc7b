"""Per-beat streaming HRV (numba) vs NeuroKit2 and our scipy batch modules, 300 RR intervals.

* time domain: ``HrvStream.push`` + ``time_array`` per beat vs ``neurokit2.hrv_time`` on the
  300-interval window (as peaks at 1000 Hz), target ratio 1,000;
* frequency domain: ``push`` + ``frequency_array`` per beat vs ``neurokit2.hrv_frequency``
  (``normalize=False``, 4 Hz), target 300;
* for information: the same against our batch ``hrv_time`` / ``hrv_frequency`` (scipy).

Input: the first 300 intervals of the public ``rest_rri.txt`` when present, else a seeded
synthetic series. Run: ``python benchmarks/bench_hrv.py [--quick] [--json]``.
"""

from __future__ import annotations

import sys
import warnings
from itertools import cycle
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Ratio, cli_main, median_s, shared_data

from addiction_index.features.hrv_frequency import hrv_frequency
from addiction_index.features.hrv_stream import HrvStream
from addiction_index.features.hrv_time import hrv_time

N_BEATS = 300
NK_FREQ = "; NeuroKit2 computes 10 (ULF, VLF, LF, HF, VHF, TP, LFHF, LFn, HFn, LnHF)"
SEED = 20240511
REST = shared_data() / "rr_intervals_hrv_sampledata" / "rest_rri.txt"


def _rr() -> tuple[np.ndarray, str]:
    if REST.is_file():
        rr = np.loadtxt(REST, dtype=np.float64)
        return rr, f"real RR: first {N_BEATS} of rest_rri.txt (910 intervals, streamed in a loop)"
    rng = np.random.default_rng(SEED)
    rr = 1000.0 + 50.0 * rng.standard_normal(910)
    return rr, f"synthetic RR (seed {SEED}, 1000 ± 50 ms); rest_rri.txt absent"


def run(quick: bool = False) -> list[Ratio]:
    import neurokit2 as nk

    warnings.simplefilter("ignore")
    rr, source = _rr()
    window = np.ascontiguousarray(rr[:N_BEATS])
    peaks = np.concatenate(([0.0], np.cumsum(window))).astype(np.int64)
    stream = HrvStream(N_BEATS)
    stream.update(rr[:N_BEATS])
    beats = cycle(rr.tolist())

    def ours_time() -> None:
        stream.push(next(beats))
        stream.time_array()

    def ours_freq() -> None:
        stream.push(next(beats))
        stream.frequency_array()

    n_fast, n_slow, rep = (200, 2, 3) if quick else (2000, 10, 7)
    t_time = median_s(ours_time, number=n_fast, repeat=rep)
    t_freq = median_s(ours_freq, number=n_fast // 4, repeat=rep)
    nk_time = median_s(lambda: nk.hrv_time(peaks, sampling_rate=1000), number=n_slow, repeat=rep)
    nk_freq = median_s(
        lambda: nk.hrv_frequency(
            peaks, sampling_rate=1000, interpolation_rate=4, psd_method="welch", normalize=False
        ),
        number=n_slow,
        repeat=rep,
    )
    b_time = median_s(lambda: hrv_time(window), number=n_fast // 4, repeat=rep)
    b_freq = median_s(lambda: hrv_frequency(window), number=n_slow * 5, repeat=rep)
    t_note = f"{source}; ours 5 indices (MeanNN, SDNN, RMSSD, pNN50, MeanHR), O(1) running sums"
    f_note = (
        f"{source}; ours 6 values (LF, HF, LF/HF, LFn, HFn, TP): spline + chirp-z Welch over "
        "the whole window every beat (exact, no incremental shortcut)"
    )
    return [
        Ratio("HRV time domain per beat", t_time, nk_time, "neurokit2.hrv_time", 1000.0,
              "beat", t_note + "; NeuroKit2 computes ~25 time-domain indices"),
        Ratio("HRV frequency domain per beat", t_freq, nk_freq, "neurokit2.hrv_frequency", 300.0,
              "beat", f_note + NK_FREQ),
        Ratio("HRV time domain per beat (info)", t_time, b_time, "addiction_index hrv_time",
              None, "beat", t_note + "; batch numpy on the 300-interval window"),
        Ratio("HRV frequency domain per beat (info)", t_freq, b_freq,
              "addiction_index hrv_frequency", None, "beat",
              f_note + "; batch scipy (make_interp_spline + welch) on the window"),
    ]  # fmt: skip


if __name__ == "__main__":
    cli_main(run, f"Streaming HRV per beat, window of {N_BEATS} RR intervals")
