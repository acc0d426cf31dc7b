"""One error tree for the package.

Every error the package raises on purpose derives from :class:`AddictionIndexError` and carries
the fields a user needs to act on it (which file, which line, which key, which argument).
Library errors are translated at the seam with ``raise ... from``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AddictionIndexError",
    "ConfigError",
    "DecodeError",
    "DeviceError",
    "InputError",
    "ResourceNotFoundError",
    "StorageError",
]


class AddictionIndexError(Exception):
    """Base of every error raised on purpose by addiction-index."""


class ConfigError(AddictionIndexError):
    """A data file (protocol, rule set, model definition, device profile) is invalid.

    Attributes name the file, the 1-based line (when known), the dotted key, what was expected
    and what was found, so that the message can be acted on without reading code.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = str(file)
        self.line = line
        self.key = key
        self.expected = expected
        self.message = message
        where = self.file + (f", line {line}" if line is not None else "")
        parts = [where]
        if key:
            parts.append(f"key '{key}'")
        text = ": ".join([", ".join(parts), message])
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class DeviceError(AddictionIndexError):
    """A device or other source failed; names the device (never the person wearing it)."""

    def __init__(self, device: str, message: str) -> None:
        self.device = device
        super().__init__(f"{device}: {message}")


class DecodeError(AddictionIndexError):
    """Bytes from a device could not be decoded.

    Carries the decoder's name, the payload length and the reason; never the payload's meaning
    for a person. Collectors count and log these and go on.
    """

    def __init__(self, decoder: str, length: int, reason: str) -> None:
        self.decoder = decoder
        self.length = length
        self.reason = reason
        super().__init__(f"{decoder}: cannot decode {length} bytes: {reason}")


class InputError(AddictionIndexError, ValueError):
    """A caller passed a bad value: names the argument, what was expected and what was given."""

    def __init__(self, argument: str, value: object, expected: str) -> None:
        self.argument = argument
        self.value = value
        self.expected = expected
        super().__init__(f"{argument}={value!r} is invalid: expected {expected}")


class ResourceNotFoundError(AddictionIndexError, FileNotFoundError):
    """A content folder or file (device profile, model, rule set) could not be found."""


class StorageError(AddictionIndexError):
    """The session store could not be opened or written."""
