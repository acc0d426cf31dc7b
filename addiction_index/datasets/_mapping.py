"""Mapping files: how an import finds subject, session and labels of each recording.

A mapping is a YAML file (validated with pydantic through
:func:`~addiction_index.datafiles.load_yaml`, so a mistake names the file, line and key)::

    # where subject and session come from: a regex on the file name (not the folder), with the
    # named groups "subject" and (optionally) "session"; BIDS imports use the BIDS entities.
    pattern: 'S(?P<subject>\\d{3})R(?P<session>\\d{2})'
    # a CSV table of labels, relative to this file: a "subject" column, optionally "session";
    # every other column is a session label, except "<block>:<label>" columns, which are
    # block labels (e.g. "T2:vas_craving").
    labels: labels.csv
    # event renames: file event labels -> block ids; kept in the dataset's provenance and
    # applied to the keys of the block labels
    events: {T0: baseline, T1: neutral, T2: drug}
    # EEG channel renames: file channel name -> the feature spec's name (RecordingEntry.channel_map)
    channels: {"Fc5.": AF7, "Fc6.": AF8, "T9..": TP9, "T10.": TP10}
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from addiction_index.datafiles import load_yaml, yaml_line
from addiction_index.errors import ConfigError

__all__ = ["DEFAULT_PATTERN", "LoadedMapping", "MappingFile", "load_mapping"]

#: Without a mapping, subject and session come from BIDS-like names (``sub-S001_ses-1.xdf``);
#: other files use the file name's stem as the subject and session "1".
DEFAULT_PATTERN = r"sub-(?P<subject>[A-Za-z0-9]+)(?:_ses-(?P<session>[A-Za-z0-9]+))?"

Label = float | int | str | bool | None


class MappingFile(BaseModel):
    """The validated content of a mapping file (see the module doc)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str | None = Field(default=None, description="regex with (?P<subject>...)")
    labels: str | None = Field(default=None, description="CSV path relative to the mapping")
    events: dict[str, str] = Field(default_factory=dict)
    channels: dict[str, str] | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        if "subject" not in compiled.groupindex:
            raise ValueError("the regex needs a named group (?P<subject>...)")
        unknown = set(compiled.groupindex) - {"subject", "session"}
        if unknown:
            raise ValueError(f"only the groups subject and session are used, not {sorted(unknown)}")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [v for v in value.values() if not re.match(r"^[A-Za-z0-9_.-]+$", str(v))]
        if bad:
            raise ValueError(f"block ids must be letters, digits, '_', '.', '-': {bad}")
        return value


@dataclass
class LoadedMapping:
    """A mapping ready to apply: the file, its compiled pattern and its labels table."""

    source: Path | None = None
    pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(DEFAULT_PATTERN))
    strict_pattern: bool = False  # a mapping's own pattern must match; the default need not
    labels_file: Path | None = None
    session_labels: dict[tuple[str, str | None], dict[str, Label]] = field(default_factory=dict)
    block_labels: dict[tuple[str, str | None], dict[str, dict[str, Label]]] = field(
        default_factory=dict
    )
    events: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] | None = None

    def subject_session(self, name: str) -> tuple[str, str] | str:
        """(subject, session) found in file name ``name``, or the reason it cannot be found."""
        found = self.pattern.search(name)
        if found is None:
            if self.strict_pattern:
                return (
                    f"the file name does not match the mapping's pattern {self.pattern.pattern!r}"
                )
            stem = re.sub(r"[^A-Za-z0-9]", "", Path(name).stem) or "unknown"
            return stem, "1"
        session = found.groupdict().get("session") or "1"
        return found.group("subject"), session

    def labels_for(
        self, subject: str, session: str
    ) -> tuple[dict[str, Label], dict[str, dict[str, Label]]] | None:
        """Session and block labels of a recording; None when a table exists but lacks it."""
        if self.labels_file is None:
            return {}, {}
        for key in ((subject, session), (subject, None)):
            if key in self.session_labels:
                return dict(self.session_labels[key]), {
                    b: dict(v) for b, v in self.block_labels.get(key, {}).items()
                }
        return None

    def rename_blocks(self, blocks: dict[str, dict[str, Label]]) -> dict[str, dict[str, Label]]:
        """Block labels with their keys renamed by the event map (merged when two meet)."""
        out: dict[str, dict[str, Label]] = {}
        for block, values in blocks.items():
            out.setdefault(self.events.get(block, block), {}).update(values)
        return out


def _plain(value: object) -> Label:
    """A CSV cell as a JSON label value (NaN and empty cells are None)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value  # type: ignore[return-value]


def _read_table(mapping: LoadedMapping, path: Path) -> None:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"subject": str, "session": str}, keep_default_na=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(path, f"cannot read the labels table: {exc}", expected="a CSV") from exc
    if "subject" not in frame.columns:
        raise ConfigError(
            path, "no 'subject' column", line=1, key="subject", expected="a header with subject"
        )
    for i, row in enumerate(frame.itertuples(index=False), start=2):  # header is line 1
        cells = dict(zip(frame.columns, row, strict=True))
        subject = cells.pop("subject")
        if not isinstance(subject, str) or not subject.strip():
            raise ConfigError(path, "empty subject", line=i, key="subject", expected="a code")
        session = cells.pop("session", None)
        session = None if session is None or (isinstance(session, float)) else str(session)
        key = (subject.strip(), session)
        if key in mapping.session_labels:
            raise ConfigError(
                path,
                f"subject {key[0]} session {session or '(any)'} appears twice",
                line=i,
                key="subject",
                expected="one row per subject (and session)",
            )
        session_labels: dict[str, Label] = {}
        blocks: dict[str, dict[str, Label]] = {}
        for column, cell in cells.items():
            if ":" in str(column):
                block, label = str(column).split(":", 1)
                blocks.setdefault(block, {})[label] = _plain(cell)
            else:
                session_labels[str(column)] = _plain(cell)
        mapping.session_labels[key] = session_labels
        mapping.block_labels[key] = {
            b: {k: v for k, v in labels.items() if v is not None} for b, labels in blocks.items()
        }


def load_mapping(path: str | Path | None) -> LoadedMapping:
    """Load and check a mapping file (and its labels table); None gives the default mapping."""
    if path is None:
        return LoadedMapping()
    path = Path(path)
    spec = load_yaml(path, MappingFile)
    mapping = LoadedMapping(
        source=path.resolve(),
        events=dict(spec.events),
        channels=dict(spec.channels) if spec.channels else None,
    )
    if spec.pattern is not None:
        mapping.pattern = re.compile(spec.pattern)
        mapping.strict_pattern = True
    if spec.labels is not None:
        table = (path.parent / spec.labels).resolve()
        if not table.is_file():
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
            raise ConfigError(
                path,
                f"the labels table {table} does not exist",
                line=yaml_line(root, ("labels",)),
                key="labels",
                expected="a CSV file relative to the mapping file",
            )
        mapping.labels_file = table
        _read_table(mapping, table)
    return mapping
