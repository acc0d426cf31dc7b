"""Data files are validated with errors naming the file, the line, the key and the expectation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from addiction_index.datafiles import load_yaml
from addiction_index.errors import ConfigError


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    duration_s: float


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    blocks: list[_Block]


def test_wrong_type_names_line_key_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: x\nblocks:\n  - id: a\n    duration_s: 10\n  - id: b\n    duration_s: five minutes\n"
    )
    with pytest.raises(ConfigError) as err:
        load_yaml(path, _File)
    e = err.value
    assert (e.file, e.line, e.key) == (str(path), 6, "blocks.1.duration_s")
    assert "number" in e.expected and "five minutes" in str(e)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: x\nblocks:\n  - id: [a\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path, _File)
    assert err.value.line is not None and "not valid YAML" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml(tmp_path / "none.yaml", _File)
