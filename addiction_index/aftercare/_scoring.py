"""Checking and scoring the answers to one instrument; usable from the CLI and from a web form.

:func:`check_form` takes a mapping of item id → raw answer (a number, a numeric string, or the
text of an option in English or Chinese, as typed or picked in a form) and returns either an
:class:`InstrumentScore` or an :class:`AnswerErrors` holding one message per bad item *and every
answer that was accepted*, so that a form can be shown again with only the bad items marked.
:func:`score_answers` is the same but raises :class:`AnswersInvalidError` (carrying the same
fields) instead of returning the errors.

Scoring: each answer's value (an item marked ``reverse`` counts ``lowest + highest - value`` of
its answer set), then the sum or the mean of the items, rounded to the instrument's decimals;
subscales likewise over their items; the band is the one whose ``min``-``max`` holds the
rounded score (for the SDS, the bands of the resident's ``drug_type``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from addiction_index.aftercare._instruments import Instrument, Item, Texts
from addiction_index.errors import InputError

__all__ = [
    "AnswerErrors",
    "AnswersInvalidError",
    "InstrumentScore",
    "check_form",
    "parse_answer",
    "score_answers",
]


@dataclass(frozen=True)
class InstrumentScore:
    """A complete, valid set of answers and its score, band, subscales and alerts."""

    instrument: str
    version: str
    answers: dict[str, int]
    score: float
    band: str
    band_label: Texts
    band_source: str
    subscales: dict[str, float] = field(default_factory=dict)
    alerts: list[Texts] = field(default_factory=list)

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        """Plain JSON types; texts in ``language``."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "score": self.score,
            "band": self.band,
            "band_label": self.band_label.get(language),
            "band_source": self.band_source,
            "subscales": dict(self.subscales),
            "alerts": [a.get(language) for a in self.alerts],
            "answers": dict(self.answers),
        }


@dataclass(frozen=True)
class AnswerErrors:
    """Why a set of answers cannot be scored: one message per item, plus the accepted answers."""

    instrument: str
    errors: dict[str, str]
    answers: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {"instrument": self.instrument, "errors": dict(self.errors),
                "answers": dict(self.answers)}  # fmt: skip


class AnswersInvalidError(InputError):
    """Some answers to an instrument are invalid: ``errors`` maps item id → reason and
    ``answers`` holds every answer that was accepted (nothing entered is lost)."""

    def __init__(self, found: AnswerErrors) -> None:
        self.instrument = found.instrument
        self.errors = dict(found.errors)
        self.answers = dict(found.answers)
        listed = "; ".join(f"{item}: {why}" for item, why in found.errors.items())
        self.argument = f"answers to {found.instrument}"
        self.value = sorted(found.errors)
        self.expected = listed
        Exception.__init__(self, f"answers to {found.instrument} are invalid: {listed}")


def _describe_options(instrument: Instrument, item: Item) -> str:
    options = sorted(instrument.options(item), key=lambda o: o.value)
    values = [o.value for o in options]
    if values == list(range(values[0], values[-1] + 1)) and len(values) > 3:
        return f"{values[0]} ({options[0].text.en}) to {values[-1]} ({options[-1].text.en})"
    return ", ".join(f"{o.value} ({o.text.en})" for o in options)


def parse_answer(instrument: Instrument, item: Item, raw: object) -> int:
    """The value of ``raw`` as an answer to ``item``; ValueError saying what is allowed.

    Accepted: an option's value (an int, an integral float, or its digits as text) or an
    option's text in English or Chinese (case and surrounding spaces ignored).
    """
    options = instrument.options(item)
    values = {o.value for o in options}
    low, high = instrument.item_range(item)
    expected = f"expected {_describe_options(instrument, item)}"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError(f"no answer ({expected})")
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not an answer ({expected})")
    number: float | None = None
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            number = float(text)
        except ValueError:
            folded = text.casefold()
            for option in options:
                if folded in (option.text.en.casefold(), option.text.zh_cn.casefold()):
                    return option.value
            raise ValueError(f"'{text}' is not an answer ({expected})") from None
    else:
        raise ValueError(f"{raw!r} is not an answer ({expected})")
    if not math.isfinite(number) or number != int(number) or int(number) not in values:
        shown = int(number) if math.isfinite(number) and number == int(number) else number
        where = "out of range" if math.isfinite(number) else "not a number"
        raise ValueError(f"{shown} is {where} {low}-{high} ({expected})")
    return int(number)


def _reverse(instrument: Instrument, item: Item, value: int) -> int:
    if not item.reverse:
        return value
    low, high = instrument.item_range(item)
    return low + high - value


def _combine(values: list[int], method: str, decimals: int) -> float:
    total = sum(values) / len(values) if method == "mean" else float(sum(values))
    return round(total, decimals)


def check_form(
    instrument: Instrument,
    raw: Mapping[str, object],
    factors: Mapping[str, object] | None = None,
) -> InstrumentScore | AnswerErrors:
    """Check every answer in ``raw`` (item id → raw answer) and score them, or say what is wrong.

    Every item needs an answer; a key that is not an item is an error under that key.
    ``factors`` (the resident's intake risk factors) choose the bands where they depend on one.
    """
    errors: dict[str, str] = {}
    accepted: dict[str, int] = {}
    for item in instrument.items:
        try:
            accepted[item.id] = parse_answer(instrument, item, raw.get(item.id))
        except ValueError as exc:
            errors[item.id] = str(exc)
    for key in raw:
        if key not in accepted and key not in errors:
            errors[str(key)] = f"not an item of {instrument.id}"
    if errors:
        return AnswerErrors(instrument.id, errors, accepted)
    scored = {item.id: _reverse(instrument, item, accepted[item.id]) for item in instrument.items}
    decimals = instrument.scoring.decimals
    score = _combine(list(scored.values()), instrument.scoring.method, decimals)
    subscales = {
        sub.id: _combine([scored[i] for i in sub.items], sub.method, max(decimals, 2))
        for sub in instrument.scoring.subscales
    }
    bands, source = instrument.bands_for(dict(factors or {}))
    band = next(b for b in bands if b.min - 1e-9 <= score <= b.max + 1e-9)
    alerts = [a.message for a in instrument.alerts if accepted[a.item] >= a.min]
    return InstrumentScore(
        instrument=instrument.id,
        version=instrument.version,
        answers=accepted,
        score=score,
        band=band.level,
        band_label=band.label,
        band_source=source,
        subscales=subscales,
        alerts=alerts,
    )


def score_answers(
    instrument: Instrument,
    answers: Mapping[str, object],
    factors: Mapping[str, object] | None = None,
) -> InstrumentScore:
    """:func:`check_form`, raising :class:`AnswersInvalidError` when any answer is invalid."""
    result = check_form(instrument, answers, factors)
    if isinstance(result, AnswerErrors):
        raise AnswersInvalidError(result)
    return result
