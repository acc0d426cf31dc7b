"""Exercise and music prescriptions from the addiction index, by a rule set that is data.

A rule set (``prescriptions/default.yaml``, see ``prescriptions/README.md``) is loaded and checked
by :func:`load_rule_set`; :func:`prescribe` evaluates it for one resident's
:class:`PrescriptionInputs` into a :class:`Prescription` with an explanation of the rules fired.
Heart-rate zones are computed from heart-rate reserve (Karvonen) with HRmax measured or
predicted (Tanaka by default; EVIDENCE 4.9-4.11). Exercise types come from
``prescriptions/exercise-types.yaml``; :func:`playlist` fills a music prescription from a
centre's library (:func:`load_music_library`); :func:`check_rule_set` runs a rule set's golden
cases; :class:`RuleSetHolder` keeps the last good rule set in force across reloads.
"""

from addiction_index.prescriptions._engine import (
    ENUMERATIONS,
    INPUTS,
    ExercisePrescription,
    FiredRule,
    InputSpec,
    MusicPrescription,
    Prescription,
    PrescriptionInputs,
    Veto,
    check_inputs,
    prescribe,
)
from addiction_index.prescriptions._exercise_types import (
    ExerciseType,
    ExerciseTypes,
    load_exercise_types,
)
from addiction_index.prescriptions._golden import CheckReport, Mismatch, check_rule_set
from addiction_index.prescriptions._heart_rate import (
    ACSM_HRR_CLASSES,
    HR_MAX_FORMULAS,
    HRMax,
    hr_max_estimate,
    hr_max_fox,
    hr_max_tanaka,
    hrr_intensity_class,
    hrr_zone,
)
from addiction_index.prescriptions._holder import ReloadResult, RuleSetHolder
from addiction_index.prescriptions._music import (
    MusicLibrary,
    Playlist,
    Track,
    load_music_library,
    playlist,
)
from addiction_index.prescriptions._ruleset import ProgressionStep, Rule, RuleSet, load_rule_set
from addiction_index.prescriptions._units import UNIT_NAMES

__all__ = [
    "ACSM_HRR_CLASSES",
    "ENUMERATIONS",
    "HR_MAX_FORMULAS",
    "INPUTS",
    "UNIT_NAMES",
    "CheckReport",
    "ExercisePrescription",
    "ExerciseType",
    "ExerciseTypes",
    "FiredRule",
    "HRMax",
    "InputSpec",
    "Mismatch",
    "MusicLibrary",
    "MusicPrescription",
    "Playlist",
    "Prescription",
    "PrescriptionInputs",
    "ProgressionStep",
    "ReloadResult",
    "Rule",
    "RuleSet",
    "RuleSetHolder",
    "Track",
    "Veto",
    "check_inputs",
    "check_rule_set",
    "hr_max_estimate",
    "hr_max_fox",
    "hr_max_tanaka",
    "hrr_intensity_class",
    "hrr_zone",
    "load_exercise_types",
    "load_music_library",
    "load_rule_set",
    "playlist",
    "prescribe",
]
