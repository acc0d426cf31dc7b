"""Instrument files, scoring against the published rules, and the form API."""

from __future__ import annotations

from pathlib import Path

import pytest

from addiction_index.aftercare import (
    AnswerErrors,
    AnswersInvalidError,
    check_factors,
    check_form,
    load_instrument,
    load_instruments,
    load_risk_factors,
    score_answers,
)
from addiction_index.errors import ConfigError


def _answers(instrument_id: str, values: list[int]) -> dict[str, int]:
    items = load_instrument(instrument_id).item_ids
    assert len(values) == len(items)
    return dict(zip(items, values, strict=True))


def test_every_shipped_instrument_loads_with_both_languages() -> None:
    found = {i.id: i for i in load_instruments()}
    assert list(found) == ["sds", "phq9", "gad7", "mspss", "apgar"]
    for instrument in found.values():
        assert instrument.citation and instrument.translation["zh-CN"].status == "project"
        for item in instrument.items:
            assert item.text.get("en") and item.text.get("zh-CN")


@pytest.mark.parametrize(
    ("values", "score", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1], 9, "mild"),
        ([2, 2, 2, 2, 1, 1, 0, 0, 0], 10, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate"),
        ([3, 3, 3, 2, 2, 2, 0, 0, 0], 15, "moderately_severe"),
        ([3, 3, 3, 3, 3, 2, 2, 0, 0], 19, "moderately_severe"),
        ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"),
        ([3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "severe"),
    ],
)
def test_phq9_total_and_kroenke_bands_at_each_boundary(values, score, band) -> None:
    result = score_answers(load_instrument("phq9"), _answers("phq9", values))
    assert (result.score, result.band) == (score, band)
    assert result.alerts == ([] if values[8] == 0 else result.alerts)


def test_phq9_item_9_raises_an_alert_whatever_the_total() -> None:
    result = score_answers(load_instrument("phq9"), _answers("phq9", [0] * 8 + [1]))
    assert result.score == 1 and result.band == "minimal"
    assert "suicide" in result.alerts[0].get("en")


@pytest.mark.parametrize(
    ("values", "band"),
    [
        ([1, 1, 1, 1, 0, 0, 0], "minimal"),
        ([1, 1, 1, 1, 1, 0, 0], "mild"),
        ([2, 2, 2, 2, 1, 0, 0], "mild"),
        ([2, 2, 2, 2, 2, 0, 0], "moderate"),
        ([2, 2, 2, 2, 2, 2, 2], "moderate"),
        ([3, 3, 3, 2, 2, 2, 0], "severe"),
        ([3] * 7, "severe"),
    ],
)
def test_gad7_spitzer_bands_at_5_10_15(values, band) -> None:
    result = score_answers(load_instrument("gad7"), _answers("gad7", values))
    assert result.score == sum(values) and result.band == band


@pytest.mark.parametrize(
    ("drug", "values", "band"),
    [
        ("methamphetamine", [1, 1, 1, 1, 0], "below_cutoff"),  # 4: Topp & Mattick "above 4"
        ("methamphetamine", [1, 1, 1, 1, 1], "dependent"),
        ("heroin", [1, 1, 0, 0, 0], "below_cutoff"),  # González-Sáiz 2009: 3 or more
        ("heroin", [1, 1, 1, 0, 0], "dependent"),
        ("cocaine", [0, 0, 3, 0, 0], "dependent"),  # Kaye & Darke 2002: 3 or more
        ("ketamine", [3, 3, 3, 3, 3], "no_cutoff"),
        (None, [3, 3, 3, 3, 3], "no_cutoff"),
    ],
)
def test_sds_cutoff_depends_on_the_drug(drug, values, band) -> None:
    factors = {"drug_type": drug} if drug else {}
    result = score_answers(load_instrument("sds"), _answers("sds", values), factors)
    assert result.score == sum(values) and result.band == band


def test_sds_accepts_option_texts_in_both_languages() -> None:
    raw = {
        "sds_1": "Often",
        "sds_2": "有时",
        "sds_3": " always or nearly always ",
        "sds_4": "0",
        "sds_5": "Impossible",
    }
    result = score_answers(load_instrument("sds"), raw, {"drug_type": "heroin"})
    assert result.answers == {"sds_1": 2, "sds_2": 1, "sds_3": 3, "sds_4": 0, "sds_5": 3}
    assert result.score == 9


@pytest.mark.parametrize(
    ("total", "score", "band"),
    [
        (12, 1.0, "low"),
        (35, 2.9, "low"),
        (36, 3.0, "moderate"),
        (60, 5.0, "moderate"),
        (61, 5.1, "high"),
        (84, 7.0, "high"),
    ],
)
def test_mspss_mean_rounded_to_one_decimal_then_banded(total, score, band) -> None:
    values = [1] * 12
    for i in range(total - 12):  # spread the extra points over the items, 6 at most each
        values[i % 12] += 1
    result = score_answers(load_instrument("mspss"), _answers("mspss", values))
    assert (result.score, result.band) == (score, band)


def test_mspss_subscales_are_the_means_of_their_items() -> None:
    # significant other items 1, 2, 5, 10; family 3, 4, 8, 11; friends 6, 7, 9, 12
    values = [7, 6, 2, 2, 5, 4, 4, 3, 4, 6, 1, 4]
    result = score_answers(load_instrument("mspss"), _answers("mspss", values))
    assert result.subscales == {"significant_other": 6.0, "family": 2.0, "friends": 4.0}
    assert result.score == round(48 / 12, 1) == 4.0


@pytest.mark.parametrize(
    ("values", "band"),
    [
        ([0, 0, 1, 1, 1], "severe_dysfunction"),
        ([1, 1, 1, 1, 0], "moderate_dysfunction"),
        ([2, 2, 1, 1, 0], "moderate_dysfunction"),
        ([2, 2, 1, 1, 1], "functional"),
        ([2] * 5, "functional"),
    ],
)
def test_family_apgar_smilkstein_bands(values, band) -> None:
    result = score_answers(load_instrument("apgar"), _answers("apgar", values))
    assert result.score == sum(values) and result.band == band


def test_an_out_of_range_answer_names_the_item_and_keeps_every_other_answer() -> None:
    phq9 = load_instrument("phq9")
    raw = _answers("phq9", [1, 2, 3, 0, 1, 2, 3, 0, 0]) | {"phq9_4": 4}
    result = check_form(phq9, raw)
    assert isinstance(result, AnswerErrors)
    assert list(result.errors) == ["phq9_4"]
    assert "4 is out of range 0-3" in result.errors["phq9_4"]
    assert result.answers == {k: v for k, v in raw.items() if k != "phq9_4"}
    with pytest.raises(AnswersInvalidError, match="phq9_4") as caught:
        score_answers(phq9, raw)
    assert caught.value.errors.keys() == {"phq9_4"} and len(caught.value.answers) == 8


def test_missing_unknown_and_text_errors_are_per_item() -> None:
    result = check_form(
        load_instrument("gad7"), {"gad7_1": "sometimes", "gad7_2": 1.5, "gad7_9": 1}
    )
    assert isinstance(result, AnswerErrors)
    assert "'sometimes' is not an answer" in result.errors["gad7_1"]
    assert "1.5 is out of range" in result.errors["gad7_2"]
    assert result.errors["gad7_3"].startswith("no answer")
    assert result.errors["gad7_9"] == "not an item of gad7"


REVERSED = """
id: toy
version: "1"
short_name: TOY
name: {en: Toy, zh-CN: 玩具}
citation: test
instructions: {en: Answer, zh-CN: 回答}
answer_sets:
  agree:
    - {value: 1, text: {en: never, zh-CN: 从不}}
    - {value: 2, text: {en: sometimes, zh-CN: 有时}}
    - {value: 3, text: {en: often, zh-CN: 经常}}
items:
  - {id: a, answers: agree, text: {en: A, zh-CN: 甲}}
  - {id: b, answers: agree, reverse: true, text: {en: B, zh-CN: 乙}}
  - {id: c, answers: agree, text: {en: C, zh-CN: 丙}}
scoring:
  method: sum
  subscales:
    - {id: ab, name: {en: AB, zh-CN: 甲乙}, items: [a, b], method: mean}
  bands:
    - {min: 3, max: 5, level: low, label: {en: low, zh-CN: 低}}
    - {min: 6, max: 9, level: high, label: {en: high, zh-CN: 高}}
"""


def test_reverse_items_count_lowest_plus_highest_minus_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(REVERSED, encoding="utf-8")
    toy = load_instrument(str(path))
    result = score_answers(toy, {"a": 3, "b": 3, "c": 2})  # b: 1 + 3 - 3 = 1
    assert result.score == 6 and result.band == "high"
    assert result.subscales == {"ab": 2.0}
    assert result.answers["b"] == 3  # the answer as given is what is stored


def test_bands_with_a_gap_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(REVERSED.replace("min: 6, max: 9", "min: 7, max: 9"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_instrument(str(path))
    assert caught.value.file == str(path)
    assert "bands low (max 5) and high (min 7) must meet without gap" in str(caught.value)


def test_a_misspelt_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(REVERSED.replace("reverse: true", "revers: true"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_instrument(str(path))
    assert (caught.value.line, caught.value.key) == (15, "items.1.revers")
    assert "did you mean 'reverse'" in str(caught.value)


def test_risk_factors_are_checked_per_factor_with_evidence() -> None:
    definitions = load_risk_factors()
    for factor in definitions.factors.values():
        assert factor.evidence and factor.risk.basis
    checked = check_factors(
        definitions,
        {
            "drug_type": "冰毒",
            "years_of_use": "6.5",
            "prior_treatments": "2",
            "lives_where_registered": "否",
            "marital_status": "single",
            "income": "",
        },
    )
    assert checked.errors == {
        "drug_type": "'冰毒' is not one of heroin, methamphetamine, "
        "amphetamine, ketamine, mdma, cannabis, cocaine, polydrug, other"
    }
    assert checked.values == {
        "years_of_use": 6.5,
        "prior_treatments": 2,
        "lives_where_registered": False,
        "marital_status": "single",
    }
    bad = check_factors(definitions, {"prior_treatments": 1.5, "years_of_use": 99, "x": 1})
    assert set(bad.errors) == {"prior_treatments", "years_of_use", "x"}
    assert "out of range 0-60 years" in bad.errors["years_of_use"]
    assert check_factors(definitions, {"drug_type": "甲基苯丙胺（冰毒）"}).values == {
        "drug_type": "methamphetamine"
    }
