"""One EEG feature row per window, from its Welch PSD and quality flags (numba, no allocation).

Per channel: absolute band power (Σ PSD over the band's bins × df, µV²), relative power
(÷ total power over ``total_hz``), band-power ratios (Σ numerator bands ÷ Σ denominator bands:
theta/beta, (alpha + theta)/beta; Angelidis et al. 2016, doi:10.1016/j.biopsycho.2016.09.008 for
theta/beta), normalised spectral entropy (Shannon entropy of the PSD over ``total_hz`` divided by
the log of its bin count, 0..1; Inouye et al. 1991, doi:10.1016/0013-4694(91)90044-5) and peak
alpha frequency (the highest PSD bin inside ``peak_alpha_hz``, refined by a parabola through it
and its neighbours; NaN when the highest bin is at the edge of the range: no peak; Klimesch 1999,
doi:10.1016/S0165-0173(98)00056-3). Per region (the spec's frontal and temporal pairs): the mean
of the channels' values, NaN when any of them is flagged. Frontal alpha asymmetry ln(right) -
ln(left) of the absolute alpha powers, NaN when either is flagged or not positive.

The row itself holds the per-channel values the regions are averaged from, so the kernel needs no
scratch memory. Column order is :attr:`EegLayout.names`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from addiction_index.features._jit import jit
from addiction_index.features.eeg import WelchPlan
from addiction_index.features.spec import EEG_TEMPLATES, FeatureSpec

__all__ = ["EegLayout", "psd_row"]


@dataclass(frozen=True, eq=False)
class EegLayout:
    """Column names and the index arrays :func:`psd_row` reads, derived from a spec and plan.

    ``ratio_weights`` (2, n_ratios, n_bands): 1.0 where a band is in a ratio's numerator (row 0)
    or denominator (row 1); ``regions`` (n_regions, k) channel indices padded with -1;
    ``peak_bins`` (2,) the bin range searched for the alpha peak; ``line_bins`` (n_mains, 2) the
    bins of each mains frequency below Nyquist; ``asymmetry`` (band, left, right) indices.
    """

    names: tuple[str, ...]
    ratio_weights: np.ndarray
    regions: np.ndarray
    frontal: np.ndarray
    peak_bins: np.ndarray
    line_bins: np.ndarray
    line_max_ratio: float
    asymmetry: np.ndarray

    @classmethod
    def build(cls, spec: FeatureSpec, plan: WelchPlan) -> EegLayout:
        eeg = spec.content.eeg
        channel = {name: i for i, name in enumerate(eeg.channels)}
        band = {b.name: i for i, b in enumerate(eeg.bands)}
        weights = np.zeros((2, len(eeg.ratios), len(eeg.bands)))
        for q, ratio in enumerate(eeg.ratios):
            weights[0, q, [band[b] for b in ratio.numerator]] = 1.0
            weights[1, q, [band[b] for b in ratio.denominator]] = 1.0
        width = max(len(chans) for chans in eeg.regions.values())
        regions = np.full((len(eeg.regions), width), -1, dtype=np.int64)
        for r, chans in enumerate(eeg.regions.values()):
            regions[r, : len(chans)] = [channel[c] for c in chans]
        freqs, line = plan.freqs, eeg.quality.line_noise
        lo, hi = eeg.peak_alpha_hz
        peak = np.flatnonzero((freqs >= lo) & (freqs < hi))
        mains = []
        for f0 in line.mains_hz:
            near = np.flatnonzero(np.abs(freqs - f0) <= line.half_width_hz)
            if f0 < plan.fs / 2 and near.size:
                mains.append((near[0], near[-1] + 1))
        return cls(
            names=tuple(name for t in EEG_TEMPLATES for name in spec.names_for(t)),
            ratio_weights=weights,
            regions=regions,
            frontal=np.array([channel[c] for c in eeg.regions["frontal"]], dtype=np.int64),
            peak_bins=np.array([peak[0], peak[-1] + 1], dtype=np.int64),
            line_bins=np.array(mains, dtype=np.int64).reshape(-1, 2),
            line_max_ratio=float(line.max_ratio),
            asymmetry=np.array(
                [
                    band[eeg.asymmetry.band],
                    channel[eeg.asymmetry.left],
                    channel[eeg.asymmetry.right],
                ],
                dtype=np.int64,
            ),
        )


@jit
def _channel_values(psd, c, df, band_bins, total_bins, row):
    """Absolute and relative band columns of channel ``c``; returns (total µV², entropy)."""
    n_ch = psd.shape[0]
    n_bands = band_bins.shape[0]
    total = 0.0
    for k in range(total_bins[0], total_bins[1]):
        total += psd[c, k]
    entropy = 0.0
    if total > 0.0:
        for k in range(total_bins[0], total_bins[1]):
            p = psd[c, k] / total
            if p > 0.0:
                entropy -= p * np.log(p)
        entropy /= np.log(total_bins[1] - total_bins[0])
    else:
        entropy = np.nan
    total *= df
    for b in range(n_bands):
        power = 0.0
        for k in range(band_bins[b, 0], band_bins[b, 1]):
            power += psd[c, k]
        row[b * n_ch + c] = power * df
        row[(n_bands + b) * n_ch + c] = power * df / total
    return total, entropy


@jit
def _peak_frequency(psd, c, peak_bins, df):
    """Parabola-refined frequency (Hz) of the highest bin in ``peak_bins``; NaN at an edge."""
    best = peak_bins[0]
    for k in range(peak_bins[0], peak_bins[1]):
        if psd[c, k] > psd[c, best]:
            best = k
    if best == peak_bins[0] or best == peak_bins[1] - 1:
        return np.nan
    a, b, d = psd[c, best - 1], psd[c, best], psd[c, best + 1]
    curvature = a - 2.0 * b + d
    shift = 0.5 * (a - d) / curvature if curvature != 0.0 else 0.0
    return (best + shift) * df


@jit
def _region_mean(row, first_col, stride, region, flags):
    """Mean of ``row[first_col + c * stride]`` over the region's channels; NaN if any flagged."""
    acc, count = 0.0, 0
    for c in region:
        if c >= 0:
            if flags[c] != 0:
                return np.nan
            acc += row[first_col + c * stride]
            count += 1
    return acc / count


@jit
def psd_row(psd, df, band_bins, total_bins, ratio_w, peak_bins, line_bins, line_max, regions,
            frontal, asym, flags, row):  # fmt: skip
    """Fill ``row`` from ``psd`` (n_ch, n_bins) µV²/Hz and ``flags`` (n_ch,) int64 (time-domain
    bits in; LINE_NOISE bits added in place). Column order: the spec's ``EEG_TEMPLATES``."""
    n_ch = psd.shape[0]
    n_bands = band_bins.shape[0]
    n_ratios = ratio_w.shape[1]
    n_reg = regions.shape[0]
    rel_reg = 2 * n_bands * n_ch
    ratio_ch = rel_reg + n_bands * n_reg
    ratio_reg = ratio_ch + n_ratios * n_ch
    ent_ch = ratio_reg + n_ratios * n_reg
    ent_reg = ent_ch + n_ch
    paf_ch = ent_reg + n_reg
    paf_reg = paf_ch + n_ch
    faa = paf_reg + n_reg
    quality = faa + 1
    for c in range(n_ch):
        total, entropy = _channel_values(psd, c, df, band_bins, total_bins, row)
        for q in range(n_ratios):
            num, den = 0.0, 0.0
            for b in range(n_bands):
                num += ratio_w[0, q, b] * row[b * n_ch + c]
                den += ratio_w[1, q, b] * row[b * n_ch + c]
            row[ratio_ch + q * n_ch + c] = num / den
        row[ent_ch + c] = entropy
        row[paf_ch + c] = _peak_frequency(psd, c, peak_bins, df)
        for m in range(line_bins.shape[0]):
            mains = 0.0
            for k in range(line_bins[m, 0], line_bins[m, 1]):
                mains += psd[c, k]
            if not mains * df <= line_max * total:
                flags[c] |= 8
    for r in range(n_reg):
        for b in range(n_bands):
            row[rel_reg + b * n_reg + r] = _region_mean(
                row, (n_bands + b) * n_ch, 1, regions[r], flags
            )
        for q in range(n_ratios):
            row[ratio_reg + q * n_reg + r] = _region_mean(
                row, ratio_ch + q * n_ch, 1, regions[r], flags
            )
        row[ent_reg + r] = _region_mean(row, ent_ch, 1, regions[r], flags)
        row[paf_reg + r] = _region_mean(row, paf_ch, 1, regions[r], flags)
    band, left, right = asym[0], asym[1], asym[2]
    a_left, a_right = row[band * n_ch + left], row[band * n_ch + right]
    clean = flags[left] == 0 and flags[right] == 0
    row[faa] = np.log(a_right) - np.log(a_left) if clean and a_left > 0 and a_right > 0 else np.nan
    all_clean = True
    for c in range(n_ch):
        row[quality + c] = flags[c]
        all_clean = all_clean and flags[c] == 0
    frontal_clean = True
    for c in frontal:
        frontal_clean = frontal_clean and flags[c] == 0
    row[quality + n_ch] = 1.0 if frontal_clean else 0.0
    row[quality + n_ch + 1] = 1.0 if all_clean else 0.0
