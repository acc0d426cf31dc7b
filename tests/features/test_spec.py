"""The feature specification: registry, derived parameters, version hash, load errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import addiction_index.features as features
from addiction_index.errors import ConfigError
from addiction_index.features import spec as spec_module
from addiction_index.features.spec import SPEC_PATH, load_feature_spec

BANDS = ("delta", "theta", "alpha", "beta", "gamma")
CHANNELS = ("TP9", "AF7", "AF8", "TP10")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC_PATH.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in spec.yaml"
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_public_all_is_unique_and_importable() -> None:
    assert len(set(features.__all__)) == len(features.__all__)
    for name in features.__all__:
        assert getattr(features, name) is not None
    assert {"HopFeatures", "eeg_bandpower", "hrv_window", "load_feature_spec"} <= set(
        features.__all__
    )


def test_packaged_spec_parameters() -> None:
    spec = load_feature_spec()
    assert spec.channels == CHANNELS
    assert spec.fs == 256.0
    assert spec.eeg_window_samples == 512
    assert (spec.nperseg, spec.noverlap) == (256, 128)
    assert spec.hop_s == 0.25
    assert spec.eeg_hop_samples == 64
    assert (spec.heart_window_s, spec.heart_min_s) == (120.0, 30.0)
    edges = [(b.name, b.lo_hz, b.hi_hz) for b in spec.bands]
    assert edges == [
        ("delta", 1.0, 4.0),
        ("theta", 4.0, 8.0),
        ("alpha", 8.0, 13.0),
        ("beta", 13.0, 30.0),
        ("gamma", 30.0, 45.0),
    ]
    q = spec.quality
    assert (q.flat_std_uv, q.rail_abs_uv, q.peak_to_peak_uv) == (0.5, 975.0, 500.0)


REGIONS = ("frontal", "temporal")
RATIOS = ("theta_beta", "alpha_theta_beta")


def test_registry_holds_every_fixed_name_once_with_metadata() -> None:
    spec = load_feature_spec()
    names = spec.feature_names()
    expected = (
        [f"eeg_abs_{b}_{c}" for b in BANDS for c in CHANNELS]
        + [f"eeg_rel_{b}_{c}" for b in BANDS for c in CHANNELS]
        + [f"eeg_rel_{b}_{r}" for b in BANDS for r in REGIONS]
        + [f"eeg_ratio_{q}_{c}" for q in RATIOS for c in CHANNELS]
        + [f"eeg_ratio_{q}_{r}" for q in RATIOS for r in REGIONS]
        + [f"eeg_entropy_{c}" for c in CHANNELS]
        + [f"eeg_entropy_{r}" for r in REGIONS]
        + [f"eeg_paf_{c}" for c in CHANNELS]
        + [f"eeg_paf_{r}" for r in REGIONS]
        + ["eeg_faa"]
        + [f"eeg_quality_{c}" for c in CHANNELS]
        + ["eeg_usable_frontal", "eeg_usable", "hr_mean_bpm", "hrv_rmssd_ms", "hrv_n_beats"]
        + ["hrv_sdnn_ms", "hrv_pnn50_pct", "hrv_lf_ms2", "hrv_hf_ms2", "hrv_lfhf", "heart_quality"]
    )
    assert names == expected
    registry = spec.registry
    assert list(registry) == names
    for name, d in registry.items():
        assert d.name == name
        assert d.unit and d.family and d.definition and d.reference
        assert "{" not in d.definition, d.definition
        spectrum = name in ("hrv_lf_ms2", "hrv_hf_ms2", "hrv_lfhf")
        expected_window = 2.0 if name.startswith("eeg") else 120.0 if spectrum else 30.0
        assert d.min_window_s == expected_window, name
    assert registry["eeg_abs_alpha_AF7"].unit == "µV²"
    assert "8 <= f < 13" in registry["eeg_abs_alpha_AF7"].definition
    assert registry["hrv_rmssd_ms"].unit == "ms"
    assert "10.1109/TAU.1967.1161901" in registry["eeg_abs_beta_TP9"].reference


def test_version_hash_is_stable_and_tracks_content(tmp_path: Path, monkeypatch) -> None:
    packaged = load_feature_spec().version_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", packaged)
    copy = tmp_path / "copy.yaml"
    copy.write_text(SPEC_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_feature_spec(copy).version_hash() == packaged  # content, not path
    moved = _edited(
        tmp_path,
        "{name: alpha, lo_hz: 8.0, hi_hz: 13.0}\n    - {name: beta, lo_hz: 13.0",
        "{name: alpha, lo_hz: 8.0, hi_hz: 12.0}\n    - {name: beta, lo_hz: 12.0",
    )
    assert load_feature_spec(moved).version_hash() != packaged
    monkeypatch.setattr(spec_module, "KERNEL_VERSION", spec_module.KERNEL_VERSION + "-next")
    assert load_feature_spec().version_hash() != packaged


def test_typo_in_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = _edited(tmp_path, "  window_s: 2.0", "  windows_s: 2.0")
    with pytest.raises(ConfigError) as caught:
        load_feature_spec(path)
    err = caught.value
    assert err.file == str(path)
    assert "eeg.windows_s" in str(err)
    assert "did you mean 'window_s'" in str(err)
    assert err.line is not None


def test_overlapping_bands_are_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, "{name: theta, lo_hz: 4.0", "{name: theta, lo_hz: 3.0")
    with pytest.raises(ConfigError, match="contiguous") as caught:
        load_feature_spec(path)
    assert caught.value.key == "eeg"


def test_feature_templates_must_match_the_code(tmp_path: Path) -> None:
    path = _edited(tmp_path, '- name: "eeg_faa"', '- name: "eeg_fa"')
    with pytest.raises(ConfigError, match="eeg_faa") as caught:
        load_feature_spec(path)
    assert caught.value.key == "features"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "numerator: [theta], denominator: [beta]}",
            "numerator: [theta], denominator: [bta]}",
            "unknown bands",
        ),
        ("peak_alpha_hz: [7.0, 13.0]", "peak_alpha_hz: [7.0, 8.0]", "peak_alpha_hz"),
        ("      reference: [TP9, TP10]", "      reference: [TP9, TP11]", "quality.blink"),
        ("max_ratio: 1.0}", "max_ratio: -1.0}", "greater than 0"),
        ("  hrv_window_beats: 300", "  hrv_window_beats: 2", "greater than or equal to 3"),
    ],
)
def test_new_settings_are_checked_on_load(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as caught:
        load_feature_spec(path)
    assert caught.value.file == str(path)
