"""Features: the feature specification, numba EEG band-power and quality kernels, HRV kernels,
and extraction per hop (live) or over whole recordings (batch) through the same kernels.

Modules that need SciPy at import (filter design) are imported on their own so that the live
path starts fast: :mod:`.ecg_peaks`, :mod:`.ppg_peaks`, :mod:`.filters`, :mod:`.recording_table`.
"""

from addiction_index.features.artifacts import blink_flags, motion_flags, motion_level
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
from addiction_index.features.hrv_frequency import hrv_frequency
from addiction_index.features.hrv_stream import HrvStream, hrv_per_beat
from addiction_index.features.hrv_time import hrv_time
from addiction_index.features.quality import QualityFlag, eeg_quality, traffic_light
from addiction_index.features.rr_artifacts import RRArtifacts, rr_artifacts, rr_correct
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
    "HrvStream",
    "InsufficientDataWarning",
    "QualityFlag",
    "RRArtifacts",
    "WelchPlan",
    "blink_flags",
    "eeg_bandpower",
    "eeg_feature_names",
    "eeg_features_batch",
    "eeg_hop_ends",
    "eeg_psd",
    "eeg_quality",
    "heart_feature_names",
    "heart_features_batch",
    "hrv_frequency",
    "hrv_per_beat",
    "hrv_time",
    "hrv_window",
    "load_feature_spec",
    "motion_flags",
    "motion_level",
    "rr_artifacts",
    "rr_correct",
    "traffic_light",
    "welch_plan",
]
