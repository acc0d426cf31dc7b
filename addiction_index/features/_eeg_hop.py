"""The EEG hop kernel: quality, Welch PSD and feature row of one window in one numba call.

A call from Python into numba costs about 0.15 µs per array argument (measured here: 3.3 µs for
the 23 arrays the pieces need), which is half the budget of a hop. So the constant tables are
packed into one float array (``ftab``) and one integer array (``itab``) whose first entries
are offsets (the ``I_*``/``F_*`` constants below), and the per-stream state into ``cache``/
``keys``/``work``; inside the kernel the pieces are sliced back out as views (no copy).

Incremental work per hop (a 0.25 s hop, 2 s window, 1 s segments at 50 % overlap):

* one new Welch segment per channel (:mod:`.eeg`: periodograms cached by absolute end index);
* one new hop-sized block of quality statistics per channel (sum, sum of squares, min, max,
  out-of-range) cached the same way, so flat/railing/amplitude checks combine 8 cached blocks
  instead of rescanning 512 samples. Variance = mean of squares - square of mean (the µV values
  of EEG keep the cancellation error below 1e-7 µV², far under the 0.25 µV² flat threshold).

Windows whose end is off the hop grid simply miss the caches and are computed from their
samples; a cached value depends only on its samples, so every path gives the same bits.
"""

from __future__ import annotations

import numpy as np

from addiction_index.features._eeg_rows import EegLayout, psd_row
from addiction_index.features._jit import jit
from addiction_index.features.artifacts import blink_steps, window_blinks
from addiction_index.features.eeg import WelchPlan
from addiction_index.features.eeg import _window_psd as window_psd_kernel
from addiction_index.features.quality import window_flags
from addiction_index.features.spec import FeatureSpec

__all__ = ["HopTables", "batch_rows", "hop_row"]

# itab header: sizes, then offsets of the integer and float tables.
I_N, I_NSEG, I_STEP, I_WIN, I_NCH, I_NBINS, I_BLOCK, I_NBANDS, I_NRATIOS = range(9)
I_NREG, I_REGW, I_NMAINS, I_NFRONT, I_SLOTS, I_QSLOTS = range(9, 15)
I_BITREV, I_BANDS, I_TOTAL, I_PEAK, I_LINE, I_REGIONS, I_FRONTAL, I_ASYM = range(15, 23)
I_HANN, I_TW, I_POST, I_DFT, I_SCALE, I_RATIO = range(23, 29)
I_BLINK_FRONT, I_BLINK_REF, I_BLINK_NFRONT, I_BLINK_SMOOTH, I_BLINK_MIN, I_BLINK_FLAGS = range(
    29, 35
)
I_BLINK_NREF, I_BLINK_STEP = 35, 36
I_HEADER = 37
# ftab header: scalars.
F_DF, F_FLAT, F_RAIL, F_PTP, F_LINE_MAX, F_BLINK = range(6)
F_HEADER = 6
N_STATS = 5  # per block and channel: sum, sum of squares, min, max, out-of-range (0/1)


class HopTables:
    """The packed tables and per-stream state of :func:`hop_row` for one spec."""

    def __init__(self, spec: FeatureSpec, plan: WelchPlan, layout: EegLayout) -> None:
        q, t = spec.quality, plan.tables
        n_ch, n_win, block = len(spec.channels), spec.eeg_window_samples, spec.eeg_hop_samples
        if n_win % block:
            block = 0  # windows not made of whole hops: quality from the samples every time
        ints: list[np.ndarray] = []
        blink, channel = q.blink, {name: i for i, name in enumerate(spec.channels)}
        scalars = [plan.df, q.flat_std_uv, q.rail_abs_uv, q.peak_to_peak_uv,
                   layout.line_max_ratio, blink.threshold_uv]  # fmt: skip
        front = np.array([channel[c] for c in blink.frontal], dtype=np.int64)
        refs = np.array([channel[c] for c in blink.reference], dtype=np.int64)
        blink_mask = np.zeros(n_ch, dtype=np.int64)
        blink_mask[[channel[c] for c in blink.channels]] = 1
        floats: list[np.ndarray] = [np.array(scalars)]
        offsets = np.zeros(I_HEADER, dtype=np.int64)

        def put(table: list[np.ndarray], start: int, index: int, values: np.ndarray) -> None:
            offsets[index] = start + sum(a.size for a in table)
            table.append(np.ascontiguousarray(values).ravel())

        for index, values in [
            (I_BITREV, t.bitrev), (I_BANDS, plan.band_bins), (I_TOTAL, plan.total_bins),
            (I_PEAK, layout.peak_bins), (I_LINE, layout.line_bins), (I_REGIONS, layout.regions),
            (I_FRONTAL, layout.frontal), (I_ASYM, layout.asymmetry), (I_BLINK_FRONT, front),
            (I_BLINK_REF, refs), (I_BLINK_FLAGS, blink_mask),
        ]:  # fmt: skip
            put(ints, I_HEADER, index, values.astype(np.int64))
        for index, values in [
            (I_HANN, t.hann), (I_TW, t.tw), (I_POST, t.post), (I_DFT, t.dft),
            (I_SCALE, plan.bin_scale), (I_RATIO, layout.ratio_weights),
        ]:  # fmt: skip
            put(floats, 0, index, values.astype(np.float64))
        slots = 2 * plan.n_seg + 3
        while _composite(slots) or (block and block % slots == 0):
            slots += 1
        qslots = 2 * (n_win // block) + 3 if block else 1
        while _composite(qslots) or (block and block % qslots == 0):
            qslots += 1
        sizes = [t.n, plan.n_seg, plan.step, n_win, n_ch, plan.freqs.size, block,
                 plan.n_bands, layout.ratio_weights.shape[1], layout.regions.shape[0],
                 layout.regions.shape[1], layout.line_bins.shape[0], layout.frontal.size,
                 slots, qslots]  # fmt: skip
        offsets[: len(sizes)] = sizes
        fs = spec.fs
        offsets[I_BLINK_NFRONT], offsets[I_BLINK_NREF] = front.size, refs.size
        smooth, step, min_len = blink_steps(fs, blink.smooth_ms, blink.min_duration_ms)
        offsets[I_BLINK_SMOOTH], offsets[I_BLINK_STEP], offsets[I_BLINK_MIN] = smooth, step, min_len
        self.itab = np.concatenate([offsets, *ints])
        self.ftab = np.concatenate(floats)
        n_bins = plan.freqs.size
        self.cache = np.zeros(slots * n_ch * n_bins + qslots * n_ch * N_STATS)
        self.keys = np.full(slots + qslots, -1, dtype=np.int64)
        blink_scratch = 4 * n_win
        self.work = np.zeros(t.n + n_ch * n_bins + blink_scratch)  # zr, zi, psd, blink scratch

    def clear(self) -> None:
        """Forget every cached segment and block (a new stream)."""
        self.keys[:] = -1


def _composite(n: int) -> bool:
    return any(n % d == 0 for d in range(2, int(n**0.5) + 1))


@jit
def _block_stats(x, start, n, rail, out):
    """Sum, sum of squares, min, max and out-of-range of ``n`` rows per channel into ``out``."""
    for c in range(x.shape[1]):
        s, s2, low, high, bad = 0.0, 0.0, np.inf, -np.inf, 0.0
        for i in range(start, start + n):
            v = x[i, c]
            s += v
            s2 += v * v
            low = min(low, v)
            high = max(high, v)
            if not abs(v) < rail:
                bad = 1.0
        out[c, 0], out[c, 1], out[c, 2], out[c, 3], out[c, 4] = s, s2, low, high, bad


@jit
def _blocked_flags(x, x_offset, end, itab, ftab, qcache, qkeys, flags):
    """FLAT/RAILING/AMPLITUDE bits of the window from cached per-block statistics."""
    n, block, n_ch = itab[I_WIN], itab[I_BLOCK], itab[I_NCH]
    n_slots = qkeys.shape[0]
    for c in range(n_ch):
        flags[c] &= ~7
    for j in range(n // block):
        b_end = end - n + (j + 1) * block
        slot = b_end % n_slots
        if qkeys[slot] != b_end:
            _block_stats(x, b_end - block - x_offset, block, ftab[F_RAIL], qcache[slot])
            qkeys[slot] = b_end
    for c in range(n_ch):
        total, squares, low, high, bad = 0.0, 0.0, np.inf, -np.inf, 0.0
        for j in range(n // block):
            st = qcache[(end - n + (j + 1) * block) % n_slots, c]
            total += st[0]
            squares += st[1]
            low = min(low, st[2])
            high = max(high, st[3])
            bad = max(bad, st[4])
        mean = total / n
        var = max(squares / n - mean * mean, 0.0)
        if np.sqrt(var) < ftab[F_FLAT]:
            flags[c] |= 1
        if bad > 0.0 or not np.isfinite(total):
            flags[c] |= 2
        if high - low > ftab[F_PTP]:
            flags[c] |= 4


@jit
def _blink_bits(x, start, n, ftab, itab, scratch, flags):
    """Set BLINK (16) on the spec's blink channels when the window holds an eye blink."""
    frontal = itab[itab[I_BLINK_FRONT] : itab[I_BLINK_FRONT] + itab[I_BLINK_NFRONT]]
    reference = itab[itab[I_BLINK_REF] : itab[I_BLINK_REF] + itab[I_BLINK_NREF]]
    smooth, step, min_len = itab[I_BLINK_SMOOTH], itab[I_BLINK_STEP], itab[I_BLINK_MIN]
    if n < smooth + (min_len - 1) * step:
        return
    blinks = window_blinks(x, start, n, frontal, reference, smooth, step, ftab[F_BLINK], min_len,
                           scratch)  # fmt: skip
    if blinks > 0:
        mask = itab[itab[I_BLINK_FLAGS] : itab[I_BLINK_FLAGS] + flags.shape[0]]
        for c in range(flags.shape[0]):
            if mask[c]:
                flags[c] |= 16


@jit
def hop_row(x, x_offset, end, ftab, itab, cache, keys, work, flags, row):
    """Quality flags, Welch PSD and the feature row of the window ending at absolute index
    ``end`` of ``x`` (``x[0]`` is absolute row ``x_offset``). Bits already set in ``flags``
    above 7 (blink, motion) are kept; line noise is added. Tables: :class:`HopTables`."""
    nn, n_seg, step, n_win = itab[I_N], itab[I_NSEG], itab[I_STEP], itab[I_WIN]
    n_ch, n_bins = itab[I_NCH], itab[I_NBINS]
    slots, qslots = itab[I_SLOTS], itab[I_QSLOTS]
    spec_cache = cache[: slots * n_ch * n_bins].reshape((slots, n_ch, n_bins))
    qcache = cache[slots * n_ch * n_bins :].reshape((qslots, n_ch, N_STATS))
    if itab[I_BLOCK] > 0:
        _blocked_flags(x, x_offset, end, itab, ftab, qcache, keys[slots:], flags)
    else:
        window_flags(
            x, end - n_win - x_offset, n_win, ftab[F_FLAT], ftab[F_RAIL], ftab[F_PTP], flags
        )
    _blink_bits(x, end - n_win - x_offset, n_win, ftab, itab, work[nn + n_ch * n_bins :], flags)
    half = nn // 2
    nb = half + 1
    hann = ftab[itab[I_HANN] : itab[I_HANN] + nn]
    bitrev = itab[itab[I_BITREV] : itab[I_BITREV] + (half if itab[I_TW] != itab[I_POST] else 0)]
    tw = ftab[itab[I_TW] : itab[I_POST]].reshape((-1, 2))
    post = ftab[itab[I_POST] : itab[I_DFT]].reshape((-1, 2))
    cols = (itab[I_SCALE] - itab[I_DFT]) // nn  # 0 unless the DFT fallback is planned
    dft = ftab[itab[I_DFT] : itab[I_SCALE]].reshape((nn if cols else 0, cols))
    scale = ftab[itab[I_SCALE] : itab[I_SCALE] + nb]
    psd = work[nn : nn + n_ch * n_bins].reshape((n_ch, n_bins))
    window_psd_kernel(x, x_offset, end, n_seg, step, hann, bitrev, tw, post, dft, scale,
                      spec_cache, keys[:slots], work[:half], work[half:nn], psd)  # fmt: skip
    n_bands, n_ratios = itab[I_NBANDS], itab[I_NRATIOS]
    n_reg, reg_w, n_mains = itab[I_NREG], itab[I_REGW], itab[I_NMAINS]
    o = itab[I_RATIO]
    ratio_w = ftab[o : o + 2 * n_ratios * n_bands].reshape((2, n_ratios, n_bands))
    band_bins = itab[itab[I_BANDS] : itab[I_BANDS] + 2 * n_bands].reshape((n_bands, 2))
    total_bins = itab[itab[I_TOTAL] : itab[I_TOTAL] + 2]
    peak_bins = itab[itab[I_PEAK] : itab[I_PEAK] + 2]
    line_bins = itab[itab[I_LINE] : itab[I_LINE] + 2 * n_mains].reshape((n_mains, 2))
    regions = itab[itab[I_REGIONS] : itab[I_REGIONS] + n_reg * reg_w].reshape((n_reg, reg_w))
    frontal = itab[itab[I_FRONTAL] : itab[I_FRONTAL] + itab[I_NFRONT]]
    asym = itab[itab[I_ASYM] : itab[I_ASYM] + 3]
    psd_row(psd, ftab[F_DF], band_bins, total_bins, ratio_w, peak_bins, line_bins,
            ftab[F_LINE_MAX], regions, frontal, asym, flags, row)  # fmt: skip


@jit
def batch_rows(x, ends, ftab, itab, cache, keys, work, extra_flags, flags, rows):
    """:func:`hop_row` for every window end in ``ends`` of a whole recording ``x``;
    ``extra_flags`` (n_windows, n_ch) are the blink/motion bits of each window."""
    for w in range(ends.shape[0]):
        for c in range(flags.shape[0]):
            flags[c] = extra_flags[w, c]
        hop_row(x, 0, ends[w], ftab, itab, cache, keys, work, flags, rows[w])
