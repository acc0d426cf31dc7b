"""Exercise and music prescriptions from the addiction index, by a rule set that is data.

A rule set (``prescriptions/default.yaml``, see ``prescriptions/README.md``) is loaded and checked
by :func:`load_rule_set`; :func:`prescribe` evaluates it for one resident's
:class:`PrescriptionInputs` into a :class:`Prescription` with an explanation of the rules fired.
Heart-rate zones are computed from heart-rate reserve (Karvonen) with HRmax measured or
predicted (Tanaka by default; EVIDENCE 4.9-4.11).
"""

from addiction_index.prescriptions._engine import (
    INPUTS,
    ExercisePrescription,
    FiredRule,
    MusicPrescription,
    Prescription,
    PrescriptionInputs,
    check_inputs,
    prescribe,
)
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
from addiction_index.prescriptions._ruleset import Rule, RuleSet, load_rule_set

__all__ = [
    "ACSM_HRR_CLASSES",
    "HR_MAX_FORMULAS",
    "INPUTS",
    "ExercisePrescription",
    "FiredRule",
    "HRMax",
    "MusicPrescription",
    "Prescription",
    "PrescriptionInputs",
    "Rule",
    "RuleSet",
    "check_inputs",
    "hr_max_estimate",
    "hr_max_fox",
    "hr_max_tanaka",
    "hrr_intensity_class",
    "hrr_zone",
    "load_rule_set",
    "prescribe",
]
