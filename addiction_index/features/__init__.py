"""Features: the feature specification, numba EEG band-power and quality kernels, HRV kernels,
and extraction per hop (live) or over whole recordings (batch) through the same kernels."""

from addiction_index.features.eeg import WelchPlan, eeg_bandpower, eeg_psd, welch_plan
from addiction_index.features.extract import (
    EegExtractor,
    HopFeatures,
    eeg_feature_names,
    eeg_features_batch,
    eeg_hop_ends,
    heart_feature_names,
    heart_features_batch,
)
from addiction_index.features.hrv import InsufficientDataWarning, hrv_window
from addiction_index.features.quality import QualityFlag, eeg_quality
from addiction_index.features.spec import (
    KERNEL_VERSION,
    FeatureDef,
    FeatureSpec,
    load_feature_spec,
)

__all__ = [
    "KERNEL_VERSION",
    "EegExtractor",
    "FeatureDef",
    "FeatureSpec",
    "HopFeatures",
    "InsufficientDataWarning",
    "QualityFlag",
    "WelchPlan",
    "eeg_bandpower",
    "eeg_feature_names",
    "eeg_features_batch",
    "eeg_hop_ends",
    "eeg_psd",
    "eeg_quality",
    "heart_feature_names",
    "heart_features_batch",
    "hrv_window",
    "load_feature_spec",
    "welch_plan",
]
