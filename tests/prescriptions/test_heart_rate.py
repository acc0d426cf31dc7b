"""HRmax formulas, Karvonen zones and ACSM classes against values worked out by hand."""

import pytest

from addiction_index.errors import InputError
from addiction_index.prescriptions import (
    HR_MAX_FORMULAS,
    hr_max_estimate,
    hr_max_fox,
    hr_max_tanaka,
    hrr_intensity_class,
    hrr_zone,
)


@pytest.mark.parametrize(
    ("age", "tanaka", "fox"),
    [(20, 194.0, 200.0), (30, 187.0, 190.0), (45, 176.5, 175.0), (60, 166.0, 160.0)],
)
def test_hr_max_formulas(age, tanaka, fox):
    # Tanaka 208 − 0.7 × age; Fox 220 − age (EVIDENCE 4.9).
    assert hr_max_tanaka(age) == pytest.approx(tanaka)
    assert hr_max_fox(age) == pytest.approx(fox)


def test_hr_max_estimate_records_formula_and_uncertainty():
    tanaka = hr_max_estimate(30)
    assert (tanaka.bpm, tanaka.formula, tanaka.uncertainty_bpm) == (187.0, "tanaka", 11.4)
    fox = hr_max_estimate(30, "fox")
    assert (fox.bpm, fox.formula, fox.uncertainty_bpm) == (190.0, "fox", 12.4)
    measured = hr_max_estimate(30, "fox", measured=193)
    assert (measured.bpm, measured.formula, measured.uncertainty_bpm) == (193.0, "measured", None)
    assert set(HR_MAX_FORMULAS) == {"tanaka", "fox"}


def test_unknown_formula_is_an_input_error():
    with pytest.raises(InputError, match="formula"):
        hr_max_estimate(30, "astrand")  # type: ignore[arg-type]


def test_karvonen_zone_by_hand_age_30_rest_70():
    # Tanaka HRmax = 208 − 0.7 × 30 = 187; reserve = 187 − 70 = 117 bpm.
    # low  = 70 + 0.40 × 117 = 70 + 46.80 = 116.80 -> 117
    # high = 70 + 0.59 × 117 = 70 + 69.03 = 139.03 -> 139
    assert hrr_zone((0.40, 0.59), 70, 187.0) == (117, 139)


@pytest.mark.parametrize(
    ("formula", "measured", "expected"),
    [
        # Tanaka: 208 − 0.7 × 45 = 176.5; reserve 116.5; 60 + 46.6 = 106.6; 60 + 68.735 = 128.735
        ("tanaka", None, (107, 129)),
        # Fox: 220 − 45 = 175; reserve 115; 60 + 46.0 = 106.0; 60 + 67.85 = 127.85
        ("fox", None, (106, 128)),
        # Measured 190; reserve 130; 60 + 52.0 = 112.0; 60 + 76.7 = 136.7
        ("tanaka", 190, (112, 137)),
    ],
)
def test_zone_from_tanaka_fox_and_measured_hr_max(formula, measured, expected):
    hr_max = hr_max_estimate(45, formula, measured=measured)
    assert hrr_zone((0.40, 0.59), 60, hr_max.bpm) == expected


def test_zone_rounds_halves_up_not_to_even():
    # 61 + 0.5 × (160 − 61) = 61 + 49.5 = 110.5 -> 111 (round() would give 110)
    assert hrr_zone((0.5, 0.5), 61, 160) == (111, 111)


def test_zone_rejects_bad_arguments():
    with pytest.raises(InputError, match="hr_max"):
        hrr_zone((0.4, 0.6), 80, 80)
    with pytest.raises(InputError, match="intensity_hrr"):
        hrr_zone((0.6, 0.4), 70, 187)


@pytest.mark.parametrize(
    ("hrr", "label"),
    [
        ((0.20, 0.29), "very light"),
        ((0.30, 0.39), "light"),
        ((0.40, 0.59), "moderate"),
        ((0.60, 0.84), "vigorous"),
        ((0.85, 0.90), "near-maximal"),
        ((0.30, 0.49), "light to moderate"),
        ((0.3999, 0.40), "light to moderate"),
    ],
)
def test_acsm_intensity_classes(hrr, label):
    # ACSM v10 Table 1 (EVIDENCE 4.11): light 30-39 %, moderate 40-59 %, vigorous 60-84 % HRR.
    assert hrr_intensity_class(hrr) == label
