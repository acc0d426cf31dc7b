"""Assessment protocols as data: blocks with roles, durations, cues and craving ratings.

Protocol files live beside this module in ``protocols/`` (package data); a user can pass their own
file. Loading validates the file and names the file, line and key of any mistake.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from addiction_index.datafiles import load_yaml
from addiction_index.errors import ResourceNotFoundError
from addiction_index.i18n import N_

__all__ = [
    "BlockRole",
    "Protocol",
    "ProtocolBlock",
    "ScheduledBlock",
    "list_protocols",
    "load_protocol",
    "rating_question",
]

PROTOCOL_DIR = Path(__file__).with_name("protocols")


class BlockRole(StrEnum):
    BASELINE = "baseline"
    NEUTRAL = "neutral"
    DRUG = "drug"
    RECOVERY = "recovery"


class CueSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    set: str
    seconds_per_cue: float = Field(gt=0)


class ProtocolBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    role: BlockRole
    duration_s: float = Field(gt=0, le=3600)
    instructions: str = ""  # English; YAML may give {en: ..., zh-CN: ...} like the instruments
    instructions_text: dict[str, str] = Field(default_factory=dict)  # by language, en included
    rating_before: str | None = None
    rating_after: str | None = None
    cues: CueSpec | None = None
    cite: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("instructions"), dict):
            texts = {str(k): str(v) for k, v in data["instructions"].items()}
            if "en" not in texts:
                raise ValueError("instructions in several languages need an 'en' text")
            data = {**data, "instructions": texts["en"], "instructions_text": texts}
        return data

    def text(self, lang: str = "en") -> str:
        """The block's instructions in ``lang`` (``en``, ``zh-CN``), else in English."""
        return self.instructions_text.get(lang) or self.instructions


class Protocol(BaseModel):
    """A validated assessment protocol."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    description: str = ""
    citations: dict[str, str] = Field(default_factory=dict)
    blocks: list[ProtocolBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_blocks(self) -> Protocol:
        ids = [b.id for b in self.blocks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"block ids must be unique; repeated: {', '.join(duplicates)}")
        roles = {b.role for b in self.blocks}
        missing = {BlockRole.BASELINE, BlockRole.NEUTRAL, BlockRole.DRUG} - roles
        if missing:
            raise ValueError(
                "a cue-reactivity protocol needs baseline, neutral and drug blocks; missing: "
                + ", ".join(sorted(missing))
            )
        unknown = {c for b in self.blocks for c in b.cite} - set(self.citations)
        if unknown:
            raise ValueError(f"blocks cite unknown citation ids: {', '.join(sorted(unknown))}")
        return self

    @property
    def duration_s(self) -> float:
        return sum(b.duration_s for b in self.blocks)

    def schedule(self, origin: float) -> list[ScheduledBlock]:
        """Blocks with their start and end in host seconds, starting at ``origin``."""
        out, t = [], origin
        for block in self.blocks:
            out.append(ScheduledBlock(block, t, t + block.duration_s))
            t += block.duration_s
        return out


@dataclass(frozen=True, slots=True)
class ScheduledBlock:
    block: ProtocolBlock
    start: float
    end: float


def load_protocol(name_or_path: str | os.PathLike[str] = "cue-reactivity") -> Protocol:
    """Load a shipped protocol by name (``cue-reactivity``, ``demo``) or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROTOCOL_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ResourceNotFoundError(
                f"no protocol {str(name_or_path)!r} (available: {', '.join(list_protocols())})"
            )
    return load_yaml(path, Protocol)


def list_protocols() -> list[str]:
    return sorted(p.stem for p in PROTOCOL_DIR.glob("*.yaml"))


_RATING_QUESTIONS = {
    "pre_cue": N_("Craving right now, before the pictures (0 = none, 100 = strongest ever)"),
    "post_cue": N_("Craving right now, after the pictures (0 = none, 100 = strongest ever)"),
}


def rating_question(moment: str) -> str:
    """The question a clinician asks at the protocol's rating point ``moment`` (VAS 0-100)."""
    return _RATING_QUESTIONS.get(moment, f"Craving rating '{moment}' (0-100)")
