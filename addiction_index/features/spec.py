"""The feature specification: bands, windows, hops, quality thresholds and the feature registry.

Everything lives in ``spec.yaml`` (package data beside this module) and is validated on load;
a typo gives a :class:`~addiction_index.errors.ConfigError` naming the file, the line and the key.
Feature names are expanded from the templates in the file, so each feature is registered once
with its unit, definition, minimum window and reference. :meth:`FeatureSpec.version_hash` ties
a trained model to the exact spec and kernel numerics that produced its features.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.errors import ConfigError

__all__ = [
    "KERNEL_VERSION",
    "SPEC_PATH",
    "FeatureDef",
    "FeatureSpec",
    "load_feature_spec",
]

#: Bump whenever a kernel changes its numbers (same spec, different output): part of the hash.
KERNEL_VERSION = "3"

#: The packaged specification file.
SPEC_PATH = Path(__file__).parent / "spec.yaml"

#: The EEG row's templates, in column order (``features._eeg_rows``).
EEG_TEMPLATES = (
    "eeg_abs_{band}_{channel}",
    "eeg_rel_{band}_{channel}",
    "eeg_rel_{band}_{region}",
    "eeg_ratio_{ratio}_{channel}",
    "eeg_ratio_{ratio}_{region}",
    "eeg_entropy_{channel}",
    "eeg_entropy_{region}",
    "eeg_paf_{channel}",
    "eeg_paf_{region}",
    "eeg_faa",
    "eeg_quality_{channel}",
    "eeg_usable_frontal",
    "eeg_usable",
)

#: The heart row's templates, in column order (``features.extract``).
HEART_TEMPLATES = (
    "hr_mean_bpm",
    "hrv_rmssd_ms",
    "hrv_n_beats",
    "hrv_sdnn_ms",
    "hrv_pnn50_pct",
    "hrv_lf_ms2",
    "hrv_hf_ms2",
    "hrv_lfhf",
    "heart_quality",
)

#: The templates the extraction code computes; the spec file must register exactly these.
COMPUTED_TEMPLATES = EEG_TEMPLATES + HEART_TEMPLATES


def _whole(value: float, what: str) -> int:
    """``value`` as an int, or ValueError when it is not a whole number of samples."""
    if abs(value - round(value)) > 1e-9:
        raise ValueError(f"{what} must be a whole number of samples, got {value:g}")
    return round(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WelchParams(_Strict):
    """Welch PSD settings (Welch 1967, doi:10.1109/TAU.1967.1161901)."""

    segment_s: float = Field(gt=0)
    overlap: float = Field(ge=0, lt=1)
    window: Literal["hann"]
    detrend: Literal["constant"]
    scaling: Literal["density"]


class Band(_Strict):
    """A half-open frequency band [lo_hz, hi_hz)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]*$")
    lo_hz: float = Field(ge=0)
    hi_hz: float

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.hi_hz <= self.lo_hz:
            raise ValueError(f"band {self.name}: hi_hz must be above lo_hz")
        return self


class Asymmetry(_Strict):
    band: str
    left: str
    right: str


class LineNoise(_Strict):
    """Mains interference check (flag bit 8): power within ``half_width_hz`` of each mains
    frequency above ``max_ratio`` times the total EEG power."""

    mains_hz: tuple[float, ...] = Field(min_length=1)
    half_width_hz: float = Field(gt=0)
    max_ratio: float = Field(gt=0)


class Blink(_Strict):
    """Eye-blink check (flag bit 16): ``frontal`` minus each ``reference`` channel, smoothed,
    above ``threshold_uv`` on every derivation for ``min_duration_ms``; flags ``channels``."""

    frontal: tuple[str, ...] = Field(min_length=1)
    reference: tuple[str, ...] = ()
    threshold_uv: float = Field(gt=0)
    smooth_ms: float = Field(gt=0)
    min_duration_ms: float = Field(gt=0)
    channels: tuple[str, ...] = Field(min_length=1)


class Motion(_Strict):
    """Head-motion check (flag bit 32) from an accelerometer: vector SD above ``threshold_g``."""

    threshold_g: float = Field(gt=0)


class QualityThresholds(_Strict):
    """Per-channel quality thresholds: µV for bits 1, 2 and 4; line noise for bit 8; blink 16;
    motion 32."""

    flat_std_uv: float = Field(gt=0)
    rail_abs_uv: float = Field(gt=0)
    peak_to_peak_uv: float = Field(gt=0)
    line_noise: LineNoise
    blink: Blink
    motion: Motion


class DisplayFilter(_Strict):
    """Causal filters for displayed traces and published filtered EEG (not for the features)."""

    notch_hz: tuple[float, ...]
    band_hz: tuple[float, float]
    order: int = Field(ge=1, le=8)
    notch_q: float = Field(gt=0)


class Ratio(_Strict):
    """A band-power ratio: the sum of ``numerator`` bands over the sum of ``denominator`` bands."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    numerator: tuple[str, ...] = Field(min_length=1)
    denominator: tuple[str, ...] = Field(min_length=1)


class EegSpec(_Strict):
    sampling_rate_hz: float = Field(gt=0)
    channels: tuple[str, ...] = Field(min_length=1)
    window_s: float = Field(gt=0)
    welch: WelchParams
    total_hz: tuple[float, float]
    bands: tuple[Band, ...] = Field(min_length=1)
    regions: dict[str, tuple[str, ...]]
    asymmetry: Asymmetry
    ratios: tuple[Ratio, ...]
    peak_alpha_hz: tuple[float, float]
    quality: QualityThresholds
    display_filter: DisplayFilter

    @field_validator("channels")
    @classmethod
    def _unique(cls, channels: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(channels)) != len(channels):
            raise ValueError("channel names must be unique")
        return channels

    @model_validator(mode="after")
    def _consistent(self) -> EegSpec:
        fs = self.sampling_rate_hz
        window = _whole(self.window_s * fs, "window_s * sampling_rate_hz")
        nperseg = _whole(self.welch.segment_s * fs, "welch.segment_s * sampling_rate_hz")
        _whole(self.welch.overlap * nperseg, "welch.overlap * segment samples")
        if nperseg > window:
            raise ValueError("welch.segment_s must not exceed window_s")
        lo, hi = self.total_hz
        if not 0 < lo < hi <= fs / 2:
            raise ValueError(f"total_hz must satisfy 0 < lo < hi <= {fs / 2:g} (Nyquist)")
        edges = [(b.lo_hz, b.hi_hz) for b in self.bands]
        if edges[0][0] != lo or edges[-1][1] != hi:
            raise ValueError("bands must start at total_hz[0] and end at total_hz[1]")
        for (_, prev_hi), (next_lo, _) in itertools.pairwise(edges):
            if prev_hi != next_lo:
                raise ValueError("bands must be contiguous: each hi_hz equals the next lo_hz")
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names):
            raise ValueError("band names must be unique")
        if "frontal" not in self.regions:
            raise ValueError("regions must define 'frontal' (used by eeg_usable_frontal)")
        for region, chans in self.regions.items():
            unknown = set(chans) - set(self.channels)
            if unknown or len(chans) < 1:
                raise ValueError(f"region {region} names unknown channels {sorted(unknown)}")
        asym = self.asymmetry
        if asym.band not in names or not {asym.left, asym.right} <= set(self.channels):
            raise ValueError("asymmetry must name a known band and two known channels")
        for ratio in self.ratios:
            unknown = set(ratio.numerator + ratio.denominator) - set(names)
            if unknown:
                raise ValueError(f"ratio {ratio.name} names unknown bands {sorted(unknown)}")
        blink = self.quality.blink
        unknown = set(blink.frontal + blink.reference + blink.channels) - set(self.channels)
        if unknown or set(blink.frontal) & set(blink.reference):
            raise ValueError(f"quality.blink: unknown or shared channels {sorted(unknown)}")
        peak_lo, peak_hi = self.peak_alpha_hz
        df = 1.0 / self.welch.segment_s
        if not lo <= peak_lo < peak_hi <= hi or (peak_hi - peak_lo) < 3 * df:
            raise ValueError(
                f"peak_alpha_hz must lie inside total_hz and span >= 3 bins ({df:g} Hz)"
            )
        return self


class HeartSpec(_Strict):
    window_s: float = Field(gt=0)
    min_beats_s: float = Field(ge=0)
    min_spectrum_s: float = Field(gt=0)
    hrv_window_beats: int = Field(ge=3)
    max_beat_gap_s: float = Field(gt=0)

    @model_validator(mode="after")
    def _min_within_window(self) -> HeartSpec:
        if self.min_beats_s > self.window_s:
            raise ValueError("min_beats_s must not exceed window_s")
        return self


class FeatureTemplate(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_{}]*$")
    family: str
    unit: str
    window: Literal["eeg", "heart", "spectrum"]
    definition: str
    reference: str


class SpecFile(_Strict):
    """The validated content of a spec file."""

    hop_s: float = Field(gt=0)
    eeg: EegSpec
    heart: HeartSpec
    features: tuple[FeatureTemplate, ...]

    @model_validator(mode="after")
    def _hop_in_samples(self) -> SpecFile:
        _whole(self.hop_s * self.eeg.sampling_rate_hz, "hop_s * eeg.sampling_rate_hz")
        return self


@dataclass(frozen=True, slots=True)
class FeatureDef:
    """One registered feature: unit, family, definition, minimum window (s) and reference."""

    name: str
    unit: str
    family: str
    definition: str
    min_window_s: float
    reference: str


@dataclass(frozen=True)
class FeatureSpec:
    """A validated feature specification (see ``spec.yaml``) and its expanded registry."""

    content: SpecFile
    source: str = "<memory>"
    _expanded: dict[str, tuple[FeatureDef, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        expanded = {t.name: self._expand(i, t) for i, t in enumerate(self.content.features)}
        if set(expanded) != set(COMPUTED_TEMPLATES) or len(self.content.features) != len(expanded):
            missing = sorted(set(COMPUTED_TEMPLATES) - set(expanded))
            extra = sorted(set(expanded) - set(COMPUTED_TEMPLATES))
            raise ConfigError(
                self.source,
                f"feature templates do not match the code: missing {missing}, unknown {extra}",
                key="features",
                expected="each of " + ", ".join(COMPUTED_TEMPLATES) + " exactly once",
            )
        object.__setattr__(self, "_expanded", expanded)

    def _expand(self, index: int, template: FeatureTemplate) -> tuple[FeatureDef, ...]:
        eeg = self.content.eeg
        fields = {f for _, f, _, _ in string.Formatter().parse(template.name) if f}
        bands = eeg.bands if "band" in fields else (None,)
        ratios = eeg.ratios if "ratio" in fields else (None,)
        if "channel" in fields:
            places = [{"channel": c} for c in eeg.channels]
        elif "region" in fields:
            places = [{"region": r, "pair": " and ".join(c)} for r, c in eeg.regions.items()]
        else:
            places = [{}]
        heart = self.content.heart
        windows = {
            "eeg": eeg.window_s,
            "heart": heart.min_beats_s,
            "spectrum": heart.min_spectrum_s,
        }
        min_window = windows[template.window]
        defs = []
        for band, ratio in itertools.product(bands, ratios):
            for place in places:
                values = dict(place)
                if band is not None:
                    values |= {"band": band.name, "lo": f"{band.lo_hz:g}", "hi": f"{band.hi_hz:g}"}
                if ratio is not None:
                    values |= {
                        "ratio": ratio.name,
                        "numerator": " + ".join(ratio.numerator),
                        "denominator": " + ".join(ratio.denominator),
                    }
                try:
                    name = template.name.format(**values)
                    definition = template.definition.format(**values)
                except (KeyError, IndexError, ValueError) as exc:
                    raise ConfigError(
                        self.source,
                        f"unknown placeholder {exc} in template {template.name!r}",
                        key=f"features.{index}",
                        expected="placeholders among {band}, {lo}, {hi}, {ratio}, {numerator}, "
                        "{denominator}, {channel}, {region}, {pair}, with {channel} and {region} "
                        "not both in one name",
                    ) from exc
                defs.append(
                    FeatureDef(
                        name=name,
                        unit=template.unit,
                        family=template.family,
                        definition=definition,
                        min_window_s=min_window,
                        reference=template.reference,
                    )
                )
        return tuple(defs)

    # --- registry --------------------------------------------------------------------------
    def names_for(self, template: str) -> list[str]:
        """Names expanded from ``template``: bands outer, then channels or regions, file order."""
        return [d.name for d in self._expanded[template]]

    def feature_names(self) -> list[str]:
        """All feature names, in spec-file template order."""
        return [d.name for defs in self._expanded.values() for d in defs]

    @property
    def registry(self) -> dict[str, FeatureDef]:
        """Feature name -> :class:`FeatureDef` (a new dict)."""
        return {d.name: d for defs in self._expanded.values() for d in defs}

    def version_hash(self) -> str:
        """First 16 hex chars of sha256 over the canonical JSON of the content + KERNEL_VERSION."""
        payload = {"kernel_version": KERNEL_VERSION, "spec": self.content.model_dump(mode="json")}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    # --- derived parameters ------------------------------------------------------------------
    @property
    def hop_s(self) -> float:
        """Hop between feature rows (s)."""
        return self.content.hop_s

    @property
    def fs(self) -> float:
        """EEG sampling rate (Hz)."""
        return self.content.eeg.sampling_rate_hz

    @property
    def channels(self) -> tuple[str, ...]:
        return self.content.eeg.channels

    @property
    def bands(self) -> tuple[Band, ...]:
        return self.content.eeg.bands

    @property
    def eeg_window_samples(self) -> int:
        """EEG window length in samples (window_s × fs)."""
        return round(self.content.eeg.window_s * self.fs)

    @property
    def eeg_hop_samples(self) -> int:
        """Hop in EEG samples (hop_s × fs)."""
        return round(self.hop_s * self.fs)

    @property
    def nperseg(self) -> int:
        """Welch segment length in samples."""
        return round(self.content.eeg.welch.segment_s * self.fs)

    @property
    def noverlap(self) -> int:
        """Welch segment overlap in samples."""
        return round(self.content.eeg.welch.overlap * self.nperseg)

    @property
    def eeg_window_s(self) -> float:
        """EEG window length (s)."""
        return self.content.eeg.window_s

    @property
    def quality(self) -> QualityThresholds:
        return self.content.eeg.quality

    @property
    def heart_window_s(self) -> float:
        return self.content.heart.window_s

    @property
    def heart_min_s(self) -> float:
        return self.content.heart.min_beats_s

    @property
    def hrv_window_beats(self) -> int:
        return self.content.heart.hrv_window_beats


def load_feature_spec(path: str | Path | None = None) -> FeatureSpec:
    """Load and validate a spec file (default: the packaged ``spec.yaml``, cached)."""
    if path is None:
        return _packaged_spec()
    return FeatureSpec(load_yaml(path, SpecFile), source=str(path))


@functools.cache
def _packaged_spec() -> FeatureSpec:
    return FeatureSpec(load_yaml(SPEC_PATH, SpecFile), source=str(SPEC_PATH))
