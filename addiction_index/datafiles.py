"""Loading data files (YAML and TOML) into pydantic models with errors that name file, line and key.

Protocols, rule sets, model definitions and device profiles are data. They are validated on load;
a typo gives a :class:`~addiction_index.errors.ConfigError` that says which file, which line,
which key, and what was expected (with a "did you mean" for misspelt keys).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from addiction_index.errors import ConfigError

__all__ = ["load_toml", "load_yaml", "parse_yaml", "toml_key_line", "yaml_line"]

M = TypeVar("M", bound=BaseModel)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, f"cannot read file: {exc.strerror or exc}") from exc


def load_yaml(path: str | Path, model: type[M]) -> M:
    """Read ``path`` as YAML and validate it against ``model``."""
    path = Path(path)
    return parse_yaml(_read(path), model, source=path)


def parse_yaml(text: str, model: type[M], *, source: str | Path = "<string>") -> M:
    """Validate YAML ``text`` against ``model``; ``source`` names the file in errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(source, f"not valid YAML: {exc.problem or exc}", line=line) from exc
    if not isinstance(data, dict):
        raise ConfigError(source, "the file must hold a mapping of keys", line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, source, model, lambda loc: yaml_line(root, loc)) from exc


def load_toml(path: str | Path, model: type[M]) -> M:
    """Read ``path`` as TOML and validate it against ``model``."""
    path = Path(path)
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise ConfigError(path, f"not valid TOML: {exc}", line=line) from exc
    lines = text.splitlines()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, model, lambda loc: toml_key_line(lines, loc)) from exc


def _config_error(exc: ValidationError, source: str | Path, model: type[BaseModel], line_of):
    problems = []
    # A misspelt key shows up twice: as an unknown key and as a missing one. Report the
    # unknown key first, since it says what to fix.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    for err in errors:
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in loc) or "(top level)"
        line = line_of(loc)
        message = err["msg"]
        expected = None
        if err["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
            known = _known_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            expected = "one of " + ", ".join(sorted(known)) if known else None
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            expected = err["msg"]
            message = f"bad value {err.get('input')!r}"
        problems.append((line, key, message, expected))
    line, key, message, expected = problems[0]
    if len(problems) > 1:
        more = "; ".join(
            f"line {p[0]} key '{p[1]}': {p[2]}" if p[0] else f"key '{p[1]}': {p[2]}"
            for p in problems[1:]
        )
        message += f" (and {len(problems) - 1} more: {more})"
    return ConfigError(source, message, line=line, key=key, expected=expected)


def _known_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names of the (nested) model that ``loc`` points into, best effort."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        current = _model_in(annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None) or {}
    return [f.alias or name for name, f in fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def yaml_line(root: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """1-based line of the key (or list item) that ``loc`` points to in a composed YAML tree."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=')


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(p.strip().strip('"') for p in re.findall(r'"[^"]*"|[^.]+', text))


def toml_key_line(lines: list[str], loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the key ``loc`` (list indices count ``[[tables]]``), or of its nearest
    enclosing key or table."""
    where: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, text in enumerate(lines, start=1):
        if header := _TABLE.match(text):
            *parents, last = _dotted(header.group(2))
            table = ()
            for name in parents:
                table += (name,)
                if table in counts:  # a parent array of tables: step into its latest entry
                    table += (counts[table] - 1,)
            table += (last,)
            if header.group(1) == "[[":
                counts[table] = counts.get(table, 0) + 1
                where.setdefault(table, number)
                table += (counts[table] - 1,)
            where.setdefault(table, number)
        elif key := _KEY.match(text):
            where.setdefault(table + _dotted(key.group(1)), number)
    for end in range(len(loc), 0, -1):
        if loc[:end] in where:
            return where[loc[:end]]
    return None
