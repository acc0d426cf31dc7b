"""Keep the last good rule set in force while a new file is edited: :class:`RuleSetHolder`."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from addiction_index.errors import ConfigError
from addiction_index.prescriptions._ruleset import RuleSet, load_rule_set

__all__ = ["ReloadResult", "RuleSetHolder"]


@dataclass(frozen=True)
class ReloadResult:
    """What :meth:`RuleSetHolder.reload` did.

    ``loaded`` is True when the new file replaced the rule set in force; otherwise ``error``
    names the file, line and key, and ``in_force`` says which rule set is still used.
    """

    loaded: bool
    path: str
    in_force: str  # "name version (file)" of the rule set in force after the reload
    error: ConfigError | None = None

    def __str__(self) -> str:
        if self.loaded:
            return f"loaded {self.in_force}"
        return f"{self.error}; still in force: {self.in_force}"


class RuleSetHolder:
    """The rule set in force; :meth:`reload` swaps it only when the new file is valid.

    Thread-safe: :attr:`current` always returns a complete, checked rule set.
    """

    def __init__(self, rule_set: RuleSet | None = None) -> None:
        self._lock = threading.Lock()
        self._current = rule_set if rule_set is not None else load_rule_set()

    @property
    def current(self) -> RuleSet:
        """The rule set in force."""
        with self._lock:
            return self._current

    def reload(self, path: str | os.PathLike[str]) -> ReloadResult:
        """Load ``path``; on success it is in force, on a :class:`ConfigError` the old one stays."""
        try:
            new = load_rule_set(Path(path))
        except ConfigError as exc:
            return ReloadResult(False, str(path), _describe(self.current), exc)
        with self._lock:
            self._current = new
        return ReloadResult(True, str(path), _describe(new))


def _describe(rule_set: RuleSet) -> str:
    return f"{rule_set.name} {rule_set.version} ({rule_set.source})"
