"""Model definitions kept as data in the ``models/`` content folder, validated on load."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.resources import content_dir

__all__ = ["ModelDefinition", "ModelFeature", "load_model_definition"]


class ModelFeature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    label: str
    direction: int = Field(ge=-1, le=1)
    weight: float = Field(ge=0.0)
    reference_change: float = Field(gt=0.0)
    # True for features that are already differences of logs (e.g. asymmetry): change = x - x_ref.
    difference: bool = False
    cite: list[str] = Field(default_factory=list)


class SelfReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: str
    label: str
    weight: float = Field(ge=0.0)
    cite: list[str] = Field(default_factory=list)


class Logistic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gain: float = Field(gt=0.0)
    midpoint: float


class Quality(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_usable_fraction: float = Field(gt=0.0, le=1.0)
    min_heart_s: float = Field(gt=0.0)
    settle_s: float = Field(ge=0.0)
    bootstrap_resamples: int = Field(ge=20, le=10000)


class ModelDefinition(BaseModel):
    """A transparent scoring model: features, directions, weights, references and version."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    kind: str = Field(pattern="^transparent$")
    validated: bool
    card: str
    description: str = ""
    feature_spec_hash: str
    citations: dict[str, str] = Field(default_factory=dict)
    features: list[ModelFeature] = Field(min_length=1)
    self_report: SelfReport | None = None
    index: Logistic
    craving: Logistic
    quality: Quality

    @model_validator(mode="after")
    def _check(self) -> ModelDefinition:
        cited = {c for f in self.features for c in f.cite}
        if self.self_report:
            cited |= set(self.self_report.cite)
        unknown = cited - set(self.citations)
        if unknown:
            raise ValueError(f"unknown citation ids: {', '.join(sorted(unknown))}")
        if not any(f.weight > 0 for f in self.features):
            raise ValueError("at least one feature needs a weight above 0")
        return self

    @property
    def weighted_features(self) -> list[ModelFeature]:
        return [f for f in self.features if f.weight > 0]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def load_model_definition(
    name: str = "default-index", folder: str | os.PathLike[str] | None = None
) -> ModelDefinition:
    """Load ``<name>.yaml`` from the models folder (or a path to a YAML file)."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = content_dir("models", folder) / f"{name}.yaml"
    return load_yaml(path, ModelDefinition)
