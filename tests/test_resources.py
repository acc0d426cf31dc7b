"""One lookup finds the content folders: argument, environment, wheel copy, source tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from addiction_index.errors import ResourceNotFoundError
from addiction_index.resources import CONTENT_KINDS, content_dir, content_file

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", CONTENT_KINDS)
def test_source_tree_folders_are_found(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"ADDICTION_INDEX_{kind.upper()}_DIR", raising=False)
    assert content_dir(kind) == REPO / kind


def test_argument_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, env = tmp_path / "mine", tmp_path / "env"
    mine.mkdir()
    env.mkdir()
    monkeypatch.setenv("ADDICTION_INDEX_MODELS_DIR", str(env))
    assert content_dir("models") == env
    assert content_dir("models", mine) == mine


def test_missing_folders_and_files_say_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        content_dir("devices", tmp_path / "nowhere")
    with pytest.raises(ResourceNotFoundError, match=r"muse-2\.toml"):
        content_file("devices", "muse-7.toml")
    with pytest.raises(ValueError, match="kind"):
        content_dir("protocols")  # type: ignore[arg-type]
