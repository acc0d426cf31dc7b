"""RR artefact detection and correction (Lipponen & Tarvainen 2019), as NeuroKit2's "kubios".

Lipponen JA, Tarvainen MP 2019, *J Med Eng Technol* 43(3):173-181,
doi:10.1080/03091902.2019.1640306. Kept step for step with NeuroKit2's
``signal_fixpeaks(method="kubios")`` (its ``_find_artifacts`` / ``_correct_artifacts``), with its
defaults: ``c1 = 0.13``, ``c2 = 0.17``, ``alpha = 5.2``, threshold window 91 beats, median filter
11 beats.

1. ``dRR`` (successive differences) and ``mRR`` (difference from the 11-beat median, negative
   values doubled) are divided by the thresholds ``Th = alpha * (Q3 - Q1) / 2`` of their absolute
   values over a centred 91-beat window.
2. Beats are classified along Figure 1 of the paper: *ectopic* (a short-long or long-short pair in
   subspace ``(dRR, S12)``), *missed* (one interval about twice the median: a beat not detected),
   *extra* (two intervals that add up to about the median: a spurious beat), otherwise
   *long/short*.
3. Correction: an extra beat is removed, a missed beat is added half-way, an ectopic or long/short
   beat is moved half-way between its neighbours; detection and correction repeat while the number
   of artefacts found decreases (NeuroKit2's ``iterative=True``).

Indices refer to ``rr_ms``: index ``k`` flags the interval ``rr_ms[k]`` (ending at beat ``k + 1``
when beat 0 opens the series); NeuroKit2 numbers peaks instead, so its index is ``k + 1``. Beat
times are kept in ms as floats (NeuroKit2 truncates moved peaks to whole samples, so corrected
intervals can differ from its own by less than one sample). Units: ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from addiction_index.features.hrv_time import _check_rr

__all__ = ["RRArtifacts", "rr_artifacts", "rr_correct"]

C1 = 0.13
C2 = 0.17
ALPHA = 5.2
THRESHOLD_WINDOW = 91
MEDIAN_WINDOW = 11


@dataclass(frozen=True)
class RRArtifacts:
    """Indices into ``rr_ms`` (int64 arrays, sorted) of each artefact type found in one pass."""

    ectopic: np.ndarray
    missed: np.ndarray
    extra: np.ndarray
    longshort: np.ndarray

    @property
    def counts(self) -> dict[str, int]:
        """Number of artefacts of each type."""
        return {
            "ectopic": int(self.ectopic.size),
            "missed": int(self.missed.size),
            "extra": int(self.extra.size),
            "longshort": int(self.longshort.size),
        }

    @property
    def total(self) -> int:
        """Number of artefacts of all types."""
        return sum(self.counts.values())


def _centered(x: np.ndarray, width: int) -> np.ndarray:
    """Centred windows of odd ``width`` (NaN outside the series), one row per sample."""
    half = width // 2
    padded = np.pad(x, half, constant_values=np.nan)
    return np.lib.stride_tricks.sliding_window_view(padded, width)


def _threshold(x: np.ndarray) -> np.ndarray:
    """``alpha * (Q3 - Q1) / 2`` of ``|x|`` over a centred window (pandas linear quantiles)."""
    windows = _centered(np.abs(x), THRESHOLD_WINDOW)
    q1, q3 = np.nanquantile(windows, [0.25, 0.75], axis=1)
    return ALPHA * ((q3 - q1) / 2.0)


def _normalise(x: np.ndarray, th: np.ndarray) -> np.ndarray:
    out = np.full_like(x, np.nan)
    np.divide(x, th, out=out, where=th != 0)
    return out


def _subspaces(drrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S12 and S22 of the paper (eqs. 4-5), over ``drrs`` padded by reflection."""
    n = drrs.size
    pad = np.pad(drrs, 2, "reflect")
    s12 = np.zeros(n)
    s22 = np.zeros(n)
    for i in range(n):
        d = i + 2
        if pad[d] > 0:
            s12[i] = np.max(pad[[d - 1, d + 1]])
        elif pad[d] < 0:
            s12[i] = np.min(pad[[d - 1, d + 1]])
        if pad[d] >= 0:
            s22[i] = np.min(pad[[d + 1, d + 2]])
        elif pad[d] < 0:
            s22[i] = np.max(pad[[d + 1, d + 2]])
    return s12, s22


def _find(peaks_ms: np.ndarray) -> dict[str, list[int]]:
    """One detection pass over beat times (ms); indices are peak indices (NeuroKit2's)."""
    rr = np.diff(peaks_ms, prepend=peaks_ms[0]) / 1000.0
    if rr.size > 1:
        rr[0] = np.mean(rr[1:])
    drrs = np.diff(rr, prepend=rr[0])
    if drrs.size > 1:
        drrs[0] = np.mean(drrs[1:])
    drrs = _normalise(drrs, _threshold(drrs))
    s12, s22 = _subspaces(drrs)
    medrr = np.nanmedian(_centered(rr, MEDIAN_WINDOW), axis=1)
    mrrs = rr - medrr
    mrrs[mrrs < 0] *= 2.0
    th2 = _threshold(mrrs)
    mrrs = _normalise(mrrs, th2)

    found: dict[str, list[int]] = {"ectopic": [], "missed": [], "extra": [], "longshort": []}
    i = 0
    while i < rr.size - 2:  # the flow of Figure 1, as NeuroKit2 (including its index steps)
        if np.abs(drrs[i]) <= 1:
            i += 1
            continue
        eq1 = drrs[i] > 1 and s12[i] < (-C1 * drrs[i] - C2)
        eq2 = drrs[i] < -1 and s12[i] > (-C1 * drrs[i] + C2)
        if eq1 or eq2:
            found["ectopic"].append(i)
            i += 1
            continue
        if not (np.abs(drrs[i]) > 1 or np.abs(mrrs[i]) > 3):
            i += 1
            continue
        candidates = [i]
        if np.abs(drrs[i + 1]) < np.abs(drrs[i + 2]):
            candidates.append(i + 1)
        for j in candidates:
            eq3 = drrs[j] > 1 and s22[j] < -1
            eq4 = np.abs(mrrs[j]) > 3
            eq5 = drrs[j] < -1 and s22[j] > 1
            if not (eq3 or eq4 or eq5):
                i += 1
                continue
            eq6 = np.abs(rr[j] / 2 - medrr[j]) < th2[j]
            eq7 = np.abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j]
            if eq5 and eq7:
                found["extra"].append(j)
            elif eq3 and eq6:
                found["missed"].append(j)
            else:
                found["longshort"].append(j)
            i += 1
    return found


def _shift(source: list[int], targets: list[int], step: int) -> list[int]:
    """Move each target index past each source index by ``step`` (NeuroKit2's _update_indices)."""
    if not targets:
        return targets
    for s in source:
        targets = [u + step if u > s else u for u in targets]
    return [int(u) for u in np.unique(targets)]


def _move_halfway(idx: list[int], peaks: np.ndarray) -> np.ndarray:
    idx_a = np.asarray(idx, dtype=np.int64)
    idx_a = idx_a[(idx_a > 1) & (idx_a < peaks.size - 1)]
    moved = peaks[idx_a - 1] + (peaks[idx_a + 1] - peaks[idx_a - 1]) / 2.0
    return np.sort(np.concatenate((np.delete(peaks, idx_a), moved)), kind="mergesort")


def _correct(found: dict[str, list[int]], peaks: np.ndarray) -> np.ndarray:
    extra, missed = found["extra"], found["missed"]
    ectopic, longshort = found["ectopic"], found["longshort"]
    if extra:
        peaks = np.delete(peaks, extra)
        missed = _shift(extra, missed, -1)
        ectopic = _shift(extra, ectopic, -1)
        longshort = _shift(extra, longshort, -1)
    if missed:
        idx = np.asarray(missed, dtype=np.int64)
        idx = idx[(idx > 1) & (idx < peaks.size)]
        added = peaks[idx - 1] + (peaks[idx] - peaks[idx - 1]) / 2.0
        peaks = np.insert(peaks, idx, added)
        ectopic = _shift(missed, ectopic, 1)
        longshort = _shift(missed, longshort, 1)
    if ectopic:
        peaks = _move_halfway(ectopic, peaks)
    if longshort:
        peaks = _move_halfway(longshort, peaks)
    return peaks


def _peaks(rr_ms: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(rr_ms)))


def _as_result(found: dict[str, list[int]]) -> RRArtifacts:
    return RRArtifacts(**{k: np.asarray(v, dtype=np.int64) - 1 for k, v in found.items()})


def rr_artifacts(rr_ms: np.ndarray) -> RRArtifacts:
    """Ectopic, missed, extra and long/short beats in one RR series (one detection pass).

    ``rr_ms``: RR intervals in ms (1-D float64, finite, > 0). Returns the indices into ``rr_ms``
    of each type (see the module docstring). Equals the artefacts of
    ``neurokit2.signal_fixpeaks(..., method="kubios", iterative=False)`` minus one.
    Lipponen & Tarvainen 2019, doi:10.1080/03091902.2019.1640306.
    """
    rr_ms = _check_rr(rr_ms)
    return _as_result(_find(_peaks(rr_ms)))


def rr_correct(rr_ms: np.ndarray) -> np.ndarray:
    """The RR series (ms) with artefacts corrected, repeated while fewer artefacts are found.

    ``rr_ms``: RR intervals in ms (1-D float64, finite, > 0). Extra beats are removed, missed
    beats inserted and ectopic or long/short beats moved half-way, so the length can change.
    Lipponen & Tarvainen 2019, doi:10.1080/03091902.2019.1640306 (NeuroKit2 "kubios",
    ``iterative=True``).
    """
    rr_ms = _check_rr(rr_ms)
    peaks = _peaks(rr_ms)
    found = _find(peaks)
    peaks = _correct(found, peaks)
    n_current = sum(len(v) for v in found.values())
    while True:
        found = _find(peaks)
        n_previous, n_current = n_current, sum(len(v) for v in found.values())
        if n_current >= n_previous:
            break
        peaks = _correct(found, peaks)
    return np.diff(peaks)
