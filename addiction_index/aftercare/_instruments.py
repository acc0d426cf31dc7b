"""Intake instruments as data: items, answer options, scoring, bands, citation (``instruments/``).

An instrument file (``instruments/phq9.yaml`` ...) holds its items with their texts in English
and Simplified Chinese, named answer sets (value and text of each option), an optional
``reverse`` flag per item, the scoring (``sum`` or ``mean`` of the item values, the decimals
the score is rounded to, subscales) and the bands of the score (each an inclusive ``min``-``max``
range at that precision; together they cover every reachable score without gap or overlap).
Bands may depend on an intake risk factor (``bands_by``: the SDS cut-off differs by drug).
The file is validated with pydantic on load; errors name the file, the line and the key.

Scoring is in :mod:`addiction_index.aftercare._scoring`.
"""

from __future__ import annotations

import itertools
import os
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError
from addiction_index.resources import content_dir

__all__ = [
    "LANGUAGES",
    "Band",
    "Instrument",
    "Texts",
    "instrument_ids",
    "load_instrument",
    "load_instruments",
]

LANGUAGES = ("en", "zh-CN")
"""Every text of an instrument exists in these languages."""

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
NOT_INSTRUMENTS = frozenset({"risk-factors.yaml", "follow-up-schedule.yaml"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Texts(_Strict):
    """One text in every language of :data:`LANGUAGES`."""

    en: Annotated[str, Field(min_length=1)]
    zh_cn: Annotated[str, Field(min_length=1, alias="zh-CN")]

    def get(self, language: str) -> str:
        """The text in ``language`` (``en`` or ``zh-CN``)."""
        if language not in LANGUAGES:
            raise InputError("language", language, "one of " + ", ".join(LANGUAGES))
        return self.en if language == "en" else self.zh_cn


class Option(_Strict):
    """One answer option: the value scored and its text."""

    value: int
    text: Texts


class Item(_Strict):
    """One item: its id, text, answer set and whether it is reverse-scored."""

    id: Id
    text: Texts
    answers: Id
    reverse: bool = False


class Band(_Strict):
    """A band of the score: ``min`` <= score <= ``max`` (at the scoring's decimals)."""

    min: float
    max: float
    level: Id
    label: Texts


class BandSet(_Strict):
    """The bands that apply when the factor's value is one of ``values``, with their source."""

    values: Annotated[list[str], Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]
    bands: Annotated[list[Band], Field(min_length=1)]


class BandsBy(_Strict):
    """Bands chosen by an intake risk factor (e.g. the SDS cut-off by ``drug_type``)."""

    factor: Id
    sets: Annotated[list[BandSet], Field(min_length=1)]
    otherwise: Annotated[list[Band], Field(min_length=1)]


class Subscale(_Strict):
    """A subscale: the sum or mean of some items (reverse items reversed first)."""

    id: Id
    name: Texts
    items: Annotated[list[Id], Field(min_length=1)]
    method: Literal["sum", "mean"] = "sum"


class Scoring(_Strict):
    """How the total is computed and banded."""

    method: Literal["sum", "mean"]
    decimals: Annotated[int, Field(ge=0, le=3)] = 0
    subscales: list[Subscale] = []
    bands: list[Band] | None = None
    bands_by: BandsBy | None = None


class Alert(_Strict):
    """A message shown whenever ``item`` is answered ``min`` or more (e.g. PHQ-9 item 9)."""

    item: Id
    min: int
    message: Texts


class Translation(_Strict):
    """Whether a language's texts are the validated version or a project translation."""

    status: Literal["validated", "project"]
    note: Annotated[str, Field(min_length=1)]


class Instrument(_Strict):
    """One instrument file (see the module docstring)."""

    id: Id
    version: Annotated[str, Field(min_length=1)]
    short_name: Annotated[str, Field(min_length=1)]
    name: Texts
    citation: Annotated[str, Field(min_length=1)]
    translation: dict[Literal["zh-CN"], Translation] = {}
    instructions: Texts
    answer_sets: Annotated[dict[Id, Annotated[list[Option], Field(min_length=2)]], Field()]
    items: Annotated[list[Item], Field(min_length=1)]
    scoring: Scoring
    alerts: list[Alert] = []

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [item.id for item in self.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"item ids must be unique: {', '.join(duplicates)} repeated")
        for item in self.items:
            if item.answers not in self.answer_sets:
                raise ValueError(
                    f"item {item.id}: answer set '{item.answers}' is not one of "
                    + ", ".join(sorted(self.answer_sets))
                )
        for name, options in self.answer_sets.items():
            values = [o.value for o in options]
            if len(set(values)) != len(values):
                raise ValueError(f"answer set {name}: option values must be unique")
        for sub in self.scoring.subscales:
            unknown = sorted(set(sub.items) - set(ids))
            if unknown:
                raise ValueError(f"subscale {sub.id}: unknown items {', '.join(unknown)}")
        for alert in self.alerts:
            if alert.item not in ids:
                raise ValueError(f"alert on unknown item {alert.item}")
        scoring = self.scoring
        if (scoring.bands is None) == (scoring.bands_by is None):
            raise ValueError("scoring needs exactly one of 'bands' and 'bands_by'")
        low, high = self.score_range()
        groups = [scoring.bands] if scoring.bands is not None else []
        if scoring.bands_by is not None:
            groups += [s.bands for s in scoring.bands_by.sets] + [scoring.bands_by.otherwise]
        for bands in groups:
            _check_bands(bands, low, high, scoring.decimals)
        return self

    # -- derived -----------------------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        """The item ``item_id`` (InputError naming the instrument's items otherwise)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError("item", item_id, f"an item of {self.id}: {', '.join(self.item_ids)}")

    @property
    def item_ids(self) -> list[str]:
        """The item ids in the order of the file."""
        return [item.id for item in self.items]

    def options(self, item: Item) -> list[Option]:
        """The answer options of ``item``."""
        return self.answer_sets[item.answers]

    def item_range(self, item: Item) -> tuple[int, int]:
        """Lowest and highest value of ``item``'s answer set."""
        values = [o.value for o in self.options(item)]
        return min(values), max(values)

    def score_range(self) -> tuple[float, float]:
        """Lowest and highest reachable score (before rounding)."""
        ranges = [self.item_range(item) for item in self.items]
        low, high = sum(r[0] for r in ranges), sum(r[1] for r in ranges)
        if self.scoring.method == "mean":
            return low / len(ranges), high / len(ranges)
        return float(low), float(high)

    def bands_for(self, factors: dict[str, object] | None = None) -> tuple[list[Band], str]:
        """The bands that apply given the intake ``factors``, and where they come from."""
        scoring = self.scoring
        if scoring.bands is not None:
            return scoring.bands, self.citation
        assert scoring.bands_by is not None
        value = (factors or {}).get(scoring.bands_by.factor)
        for band_set in scoring.bands_by.sets:
            if value is not None and str(value) in band_set.values:
                return band_set.bands, band_set.citation
        return scoring.bands_by.otherwise, self.citation


def _check_bands(bands: list[Band], low: float, high: float, decimals: int) -> None:
    """Bands must be ordered, contiguous at ``decimals`` and cover ``low``-``high`` rounded."""
    step = 10.0**-decimals
    ordered = sorted(bands, key=lambda b: b.min)
    for band in ordered:
        if band.min > band.max:
            raise ValueError(f"band {band.level}: min {band.min} is above max {band.max}")
    for before, after in itertools.pairwise(ordered):
        if round(after.min - before.max, decimals + 3) != round(step, decimals + 3):
            raise ValueError(
                f"bands {before.level} (max {before.max:g}) and {after.level} (min {after.min:g}) "
                f"must meet without gap or overlap: the next min is max + {step:g}"
            )
    if round(ordered[0].min, decimals) > round(low, decimals) or round(
        ordered[-1].max, decimals
    ) < round(high, decimals):
        raise ValueError(
            f"bands cover {ordered[0].min}-{ordered[-1].max}, not every score {low:g}-{high:g}"
        )


def _folder(folder: str | os.PathLike[str] | None) -> Path:
    return content_dir("instruments", folder)


def instrument_ids(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Ids of the instruments in the folder (file stems), in the folder's reading order."""
    return [inst.id for inst in load_instruments(folder)]


def load_instrument(name: str, folder: str | os.PathLike[str] | None = None) -> Instrument:
    """Load the instrument ``name`` (an id such as ``phq9``, or a path to a YAML file)."""
    if name.endswith((".yaml", ".yml")) or os.sep in name:
        return _load_path(Path(name))
    for instrument in load_instruments(folder):
        if instrument.id == name:
            return instrument
    known = ", ".join(i.id for i in load_instruments(folder))
    raise ResourceNotFoundError(f"no instrument '{name}' in {_folder(folder)} (known: {known})")


def load_instruments(folder: str | os.PathLike[str] | None = None) -> list[Instrument]:
    """Every instrument (``*.yaml`` but the risk factors, schedule and examples) in the folder,
    in the order of :data:`ORDER`, then by id; two files with one id are refused."""
    base = _folder(folder)
    paths = sorted(
        p for p in base.glob("*.yaml") if p.name not in NOT_INSTRUMENTS and ".example" not in p.name
    )
    loaded = [_load_path(p) for p in paths]
    seen: dict[str, Path] = {}
    for path, instrument in zip(paths, loaded, strict=True):
        if instrument.id in seen:
            raise ConfigError(
                path,
                f"instrument id '{instrument.id}' is also the id in {seen[instrument.id]}",
                key="id",
            )
        seen[instrument.id] = path
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(loaded, key=lambda inst: (rank.get(inst.id, len(ORDER)), inst.id))


ORDER = ("sds", "phq9", "gad7", "mspss", "apgar")
"""The order instruments are presented in at intake (others follow, by id)."""


@cache
def _load_cached(path: str, mtime: float) -> Instrument:
    return load_yaml(Path(path), Instrument)


def _load_path(path: Path) -> Instrument:
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ResourceNotFoundError(f"instrument file not found: {path}") from exc
    return _load_cached(str(path), mtime)
