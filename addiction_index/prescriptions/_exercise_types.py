"""The exercise types a rule set may prescribe, from ``prescriptions/exercise-types.yaml``.

Each type carries its typical intensity (fraction of heart-rate reserve and Borg RPE), typical
session minutes, METs when known, its cadence when the movement is rhythmic (steps, pedal
revolutions or drum beats per minute) and, for every one of those numbers, the EVIDENCE items it
rests on or the word ``convention`` when there is none. The file is validated with pydantic on
load; errors name the file, the line and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml

__all__ = ["ExerciseType", "ExerciseTypes", "load_exercise_types"]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _ordered(value: tuple[float, float]) -> tuple[float, float]:
    if value[0] > value[1]:
        raise ValueError(f"low {value[0]} is above high {value[1]}")
    return value


def _source(value: list[str] | str) -> list[str] | str:
    items = [value] if isinstance(value, str) else value
    for item in items:
        if item != "convention" and not all(p.isdigit() for p in item.split(".")):
            raise ValueError(
                f"'{item}' is neither an EVIDENCE item number (e.g. '4.8') nor 'convention'"
            )
    return value


Source = Annotated[list[str] | str, AfterValidator(_source)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cadence(_Strict):
    """Rhythm of a rhythmic exercise: (low, high) per minute and what is counted."""

    per_min: Annotated[
        tuple[Annotated[int, Field(ge=20, le=240)], Annotated[int, Field(ge=20, le=240)]],
        AfterValidator(_ordered),
    ]
    unit: Literal["steps/min", "rev/min", "beats/min", "strokes/min"]


class ExerciseType(_Strict):
    """One exercise type with its typical dose and where each number comes from."""

    category: Literal["aerobic", "resistance", "mind-body", "group"]
    intensity_hrr: Annotated[tuple[Fraction, Fraction], AfterValidator(_ordered)]
    rpe: Annotated[
        tuple[Annotated[int, Field(ge=6, le=20)], Annotated[int, Field(ge=6, le=20)]],
        AfterValidator(_ordered),
    ]
    minutes: Annotated[
        tuple[Annotated[int, Field(ge=1, le=240)], Annotated[int, Field(ge=1, le=240)]],
        AfterValidator(_ordered),
    ]
    mets: Annotated[float, Field(gt=0, le=20)] | None = None
    cadence: Cadence | None = None
    description: Annotated[str, Field(min_length=1)]
    cite: dict[Literal["intensity_hrr", "rpe", "minutes", "mets", "cadence", "type"], Source]

    @model_validator(mode="after")
    def _every_number_cited(self) -> ExerciseType:
        needed = ["type", "intensity_hrr", "rpe", "minutes"]
        needed += [name for name in ("mets", "cadence") if getattr(self, name) is not None]
        missing = [name for name in needed if name not in self.cite]
        if missing:
            raise ValueError(
                "cite needs an entry (EVIDENCE item numbers or 'convention') for "
                + ", ".join(missing)
            )
        return self

    @property
    def rhythmic(self) -> bool:
        """True when the movement has a cadence that music can be matched to."""
        return self.cadence is not None


class ExerciseTypes(_Strict):
    """The whole ``exercise-types.yaml`` file."""

    version: Annotated[str, Field(min_length=1)]
    types: Annotated[dict[str, ExerciseType], Field(min_length=1)]
    _source: str = "<memory>"


def load_exercise_types(path: str | os.PathLike[str]) -> ExerciseTypes:
    """Load and validate an exercise-types file (a :class:`ConfigError` names file, line, key)."""
    types = load_yaml(Path(path), ExerciseTypes)
    object.__setattr__(types, "_source", str(path))
    return types
