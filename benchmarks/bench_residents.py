"""How many simultaneous residents one core keeps up with in real time, end to end.

One resident-second of work, with the Python orchestration the live runner does:

* 256 EEG samples (4 channels) written to the resident's ring buffer in 12-sample packets, and
  4 hops: the window copied out of the ring, ``HopFeatures.eeg`` (81 features, a dict);
* 130 ECG samples (Polar H10 rate) through ``EcgPeakStream.update`` (R-peaks), the new beats
  turned into RR intervals;
* 4 × ``HopFeatures.heart`` (time-window HR/RMSSD, the per-beat HRV stream over 300 RR updated
  with each new beat: time and frequency domain, contact flag).

The reference does the same work with SciPy and NeuroKit2 in the same run: 4 ×
``scipy.signal.welch`` + band sums per second, ``neurokit2.ecg_peaks(ecg_clean(...))`` on the
last 10 s once per second, and ``neurokit2.hrv_time`` + ``hrv_frequency`` on the last 300 RR at
each new beat. Residents in real time = 1 s / (time per resident-second) on one core (the
benchmark runs in one thread). Inputs: the real Polar H10 ECG when present (else NeuroKit2's
simulated ECG) and seeded 1/f EEG. Targets: >= 5,000 residents, >= 100 times the reference.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Ratio, cli_main, shared_data
from bench_eeg_features import pink

from addiction_index.features import HopFeatures, load_feature_spec
from addiction_index.features.ecg_peaks import EcgPeakStream
from addiction_index.features.reference import scipy_bandpower
from addiction_index.signals import RingBuffer

ECG_FS = 130
TITLE = "Residents in real time on one core (EEG per hop + HRV per beat + ECG R-peaks)"


def _ecg(seconds: int) -> tuple[np.ndarray, str]:
    path = shared_data() / "polar_h10_ecg_detectpvc" / "polar_h10_ecg_130hz.csv"
    if path.is_file():
        ecg = np.loadtxt(path, delimiter=",", skiprows=1, usecols=1)
        source = "real Polar H10 ECG (looped)"
    else:
        import neurokit2 as nk

        ecg = nk.ecg_simulate(duration=600, sampling_rate=ECG_FS, heart_rate=70, random_state=0)
        source = "NeuroKit2 simulated ECG (shared data absent)"
    reps = int(np.ceil(seconds * ECG_FS / ecg.size)) + 1
    return np.ascontiguousarray(np.tile(ecg, reps)[: seconds * ECG_FS], dtype=np.float64), source


class _Resident:
    """One resident's live state, as the session runner holds it."""

    def __init__(self, eeg: np.ndarray, ecg: np.ndarray) -> None:
        spec = load_feature_spec()
        self.eeg, self.ecg, self.n = eeg, ecg, spec.eeg_window_samples
        self.eeg_t = np.arange(eeg.shape[0]) / 256.0  # the readers' dejittered timestamps
        self.ring = RingBuffer(capacity=4 * self.n, n_channels=4)
        self.rr_ring = RingBuffer(capacity=1024, n_channels=1)
        self.window = np.empty((self.n, 4))
        self.hop = HopFeatures(spec)
        self.heart_s = spec.heart_window_s
        self.peaks = EcgPeakStream(ECG_FS)
        self.last_beat: float | None = None

    def second(self, s: int) -> None:
        for start in range(256 * s, 256 * (s + 1), 12):  # one Muse notification per 12 samples
            stop = min(start + 12, 256 * (s + 1))
            self.ring.write(self.eeg_t[start:stop], self.eeg[start:stop])
        peaks = self.peaks.update(self.ecg[ECG_FS * s : ECG_FS * (s + 1)])
        if peaks.size:  # beats into the RR ring, as the runner does
            t = peaks / ECG_FS
            prev = np.concatenate(
                ([self.last_beat if self.last_beat is not None else np.nan], t[:-1])
            )
            keep = np.isfinite(prev)
            self.rr_ring.write(t[keep], (1000.0 * (t - prev))[keep, None])
            self.last_beat = float(t[-1])
        for k in range(4):
            t = s + (k + 1) / 4
            if 256 * t >= self.n:
                self.ring.window_until(t - 1e-9, self.n, out=self.window)
                self.hop.eeg(self.window, self.ring.index_until(t - 1e-9))
            times, rr = self.rr_ring.since(t - self.heart_s)
            self.hop.heart(times, rr[:, 0], t)


def ours(n_residents: int, seconds: int, ecg: np.ndarray) -> float:
    """Seconds of CPU per resident-second (after a 150 s warm-up that fills the HRV window)."""
    warm = 150
    rng = np.random.default_rng(7)
    residents = []
    for r in range(n_residents):
        shift = r * 997 % (ecg.size - (warm + seconds) * ECG_FS)
        residents.append(
            _Resident(
                pink(rng, 256 * (warm + seconds)), ecg[shift : shift + (warm + seconds) * ECG_FS]
            )
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(warm):
            for resident in residents:
                resident.second(s)
        start = time.perf_counter()
        for s in range(warm, warm + seconds):
            for resident in residents:
                resident.second(s)
        return (time.perf_counter() - start) / (n_residents * seconds)


def reference(seconds: int, ecg: np.ndarray) -> float:
    """SciPy + NeuroKit2 doing one resident's work, seconds of CPU per resident-second."""
    import neurokit2 as nk

    spec = load_feature_spec()
    eeg = pink(np.random.default_rng(8), 256 * (seconds + 2))
    clean = nk.ecg_clean(ecg, sampling_rate=ECG_FS)
    peaks = np.asarray(nk.ecg_peaks(clean, sampling_rate=ECG_FS)[1]["ECG_R_Peaks"])
    beat_s = peaks / ECG_FS
    ms = (beat_s * 1000).astype(np.int64)
    offset = 300  # seconds in: the 300-RR window is full
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for s in range(seconds):
            for k in range(4):
                end = 512 + 256 * s + 64 * k
                scipy_bandpower(np.ascontiguousarray(eeg[end - 512 : end].T), spec)
            chunk = ecg[(offset + s - 9) * ECG_FS : (offset + s + 1) * ECG_FS]
            nk.ecg_peaks(nk.ecg_clean(chunk, sampling_rate=ECG_FS), sampling_rate=ECG_FS)
            for i in np.flatnonzero(np.floor(beat_s) == offset + s).tolist():
                window = ms[i - 300 : i + 1] - ms[i - 300]  # each new beat: the last 300 RR
                nk.hrv_time(window, sampling_rate=1000)
                nk.hrv_frequency(window, sampling_rate=1000, normalize=False)
        return (time.perf_counter() - start) / seconds


def run(quick: bool = False) -> list[Ratio]:
    n_residents, seconds, ref_seconds = (5, 5, 3) if quick else (20, 20, 10)
    ecg, source = _ecg(600)
    ours_s = ours(n_residents, seconds, ecg)
    ref_s = reference(ref_seconds, ecg)
    return [
        Ratio(
            "resident-second, end to end", ours_s, ref_s, "SciPy + NeuroKit2", 100.0,
            "resident-second",
            notes=f"{n_residents} residents × {seconds} s measured; {source}; residents in "
            "real time = 1 / time per resident-second; target >= 5,000",
            extra={"residents_ours": 1.0 / ours_s, "residents_reference": 1.0 / ref_s,
                   "met_5000": float(1.0 / ours_s >= 5000)},
        )
    ]  # fmt: skip


if __name__ == "__main__":
    cli_main(run, TITLE)
