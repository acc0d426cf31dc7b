"""Backup encryption: the key, and an AES-256-GCM stream that detects tampering and truncation.

The key is 32 random bytes, written as URL-safe base64 (the Fernet key text format). It comes
from ``$ADDICTION_INDEX_BACKUP_KEY``, else from the key file ``<data folder>/ops/backup.key``
(mode 0600, made by ``addiction-index backup key``). It is never written into a backup, and a key
file inside the backups folder is refused: a copy of the backups alone must not open them.
**A lost key cannot be recovered and makes every backup made with it unreadable**: keep a copy
offline (printed, or in the centre's password safe), apart from the backup copies.

File layout (all integers big-endian)::

    MAGIC "AIBACKUP1\\n" | header length u32 | header JSON (format, created_at, key_id, nonce
    prefix, database kind: no personal data) | chunks: [length u32][AES-GCM ciphertext + tag]

Chunk ``i`` is encrypted with the nonce ``prefix(8 bytes) || i (u32)`` and authenticated with
``SHA-256(header) || i || final flag``: a changed header, a changed, reordered or missing chunk,
or a file cut short all fail to decrypt (the last chunk carries the final flag). ``key_id`` is a
hash of the key that names it in messages without revealing it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import struct
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from addiction_index.errors import InputError, StorageError

__all__ = [
    "BACKUP_KEY_ENV",
    "BackupKeyError",
    "DecryptingReader",
    "EncryptingWriter",
    "create_key_file",
    "key_id",
    "load_key",
    "read_header",
]

BACKUP_KEY_ENV = "ADDICTION_INDEX_BACKUP_KEY"
MAGIC = b"AIBACKUP1\n"
CHUNK_SIZE = 1 << 20  # plaintext bytes per chunk
_LEN = struct.Struct(">I")


class BackupKeyError(StorageError):
    """The backup key is missing, malformed, unsafe, or not the one a backup was made with."""


def key_id(key: bytes) -> str:
    """A short, non-reversible name of ``key`` (16 hex digits)."""
    return hashlib.sha256(b"addiction-index backup key id\0" + key).hexdigest()[:16]


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        raise BackupKeyError(f"{where}: not a backup key (expected 32 bytes in URL-safe base64)")
    return key


def load_key(key_file: Path, backups_dir: Path | None = None) -> bytes:
    """The backup key from ``$ADDICTION_INDEX_BACKUP_KEY``, else from ``key_file``.

    Raises :class:`BackupKeyError` when there is none (saying how to make one), when the file
    is readable by others than its owner, or when it lies inside ``backups_dir``.
    """
    text = os.environ.get(BACKUP_KEY_ENV)
    if text:
        return _decode_key(text, f"${BACKUP_KEY_ENV}")
    if not key_file.is_file():
        raise BackupKeyError(
            f"no backup key: set ${BACKUP_KEY_ENV} or create the key file {key_file} with "
            "`addiction-index backup key` (then keep a copy of it offline)"
        )
    if backups_dir is not None and key_file.resolve().is_relative_to(backups_dir.resolve()):
        raise BackupKeyError(f"{key_file}: the key must not be stored with the backups")
    if os.name == "posix" and stat.S_IMODE(key_file.stat().st_mode) & 0o077:
        raise BackupKeyError(f"{key_file}: readable by other users; run chmod 600 on it")
    return _decode_key(key_file.read_text(encoding="ascii"), str(key_file))


def create_key_file(key_file: Path) -> str:
    """Write a new random key to ``key_file`` (mode 0600, never overwritten); return its id."""
    if key_file.exists():
        raise InputError(
            "key file", str(key_file), "a path with no key yet (keys are not replaced)"
        )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.urlsafe_b64encode(key).decode("ascii") + "\n")
    return key_id(key)


def _aad(header_hash: bytes, index: int, final: bool) -> bytes:
    return header_hash + _LEN.pack(index) + (b"\1" if final else b"\0")


class EncryptingWriter:
    """A write-only file object that encrypts into ``out`` (see the module doc for the layout)."""

    def __init__(self, out: IO[bytes], key: bytes, header: dict[str, Any]) -> None:
        self._out, self._aes = out, AESGCM(key)
        self._prefix = secrets.token_bytes(8)
        header = header | {"key_id": key_id(key), "nonce_prefix": self._prefix.hex()}
        raw = json.dumps(header, sort_keys=True).encode("utf-8")
        out.write(MAGIC + _LEN.pack(len(raw)) + raw)
        self._hash = hashlib.sha256(raw).digest()
        self._buffer = bytearray()
        self._index = 0
        self.closed = False

    def _emit(self, data: bytes, final: bool) -> None:
        nonce = self._prefix + _LEN.pack(self._index)
        sealed = self._aes.encrypt(nonce, data, _aad(self._hash, self._index, final))
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> int:
        """Buffer ``data``, encrypting every full chunk."""
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:
            self._emit(bytes(self._buffer[:CHUNK_SIZE]), final=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def close(self) -> None:
        """Encrypt what is left as the final chunk (the output file stays open)."""
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True


def read_header(source: IO[bytes], where: str) -> tuple[dict[str, Any], bytes]:
    """The plaintext header of a backup file and its raw bytes; :class:`StorageError` if none."""
    magic = source.read(len(MAGIC))
    if magic != MAGIC:
        raise StorageError(f"{where}: not an addiction-index backup (bad magic bytes)")
    try:
        (length,) = _LEN.unpack(source.read(4))
        raw = source.read(length)
        header = json.loads(raw)
        if not isinstance(header, dict) or len(raw) != length:
            raise ValueError("truncated")
    except (struct.error, ValueError) as exc:
        raise StorageError(f"{where}: the backup header is damaged ({exc})") from None
    return header, raw


class DecryptingReader:
    """A read-only file object giving the plaintext of a backup, checking every chunk.

    Raises :class:`BackupKeyError` for a key other than the backup's and :class:`StorageError`
    naming the file and the chunk for an altered or truncated file.
    """

    def __init__(self, source: IO[bytes], key: bytes, where: str) -> None:
        self._source, self._where = source, where
        self.header, raw = read_header(source, where)
        if self.header.get("key_id") != key_id(key):
            raise BackupKeyError(
                f"{where}: made with backup key {self.header.get('key_id')}, but the key given "
                f"is {key_id(key)}: wrong key (set ${BACKUP_KEY_ENV} or the key file to the "
                "key that made it)"
            )
        self._aes = AESGCM(key)
        self._prefix = bytes.fromhex(str(self.header["nonce_prefix"]))
        self._hash = hashlib.sha256(raw).digest()
        self._index = 0
        self._buffer, self._pos = b"", 0
        self._done = False

    def _next(self) -> None:
        head = self._source.read(4)
        if len(head) < 4:
            raise StorageError(f"{self._where}: the backup is truncated (chunk {self._index})")
        (length,) = _LEN.unpack(head)
        sealed = self._source.read(length)
        nonce = self._prefix + _LEN.pack(self._index)
        for final in (False, True):
            try:
                plain = self._aes.decrypt(nonce, sealed, _aad(self._hash, self._index, final))
            except InvalidTag:
                continue
            self._buffer, self._pos = self._buffer[self._pos :] + plain, 0
            self._index += 1
            self._done = final
            if final and self._source.read(1):
                raise StorageError(f"{self._where}: unexpected bytes after the last chunk")
            return
        raise StorageError(
            f"{self._where}: chunk {self._index} fails authentication: the file was altered "
            "or damaged"
        )

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` plaintext bytes (all the rest for a negative size)."""
        while (size < 0 or len(self._buffer) - self._pos < size) and not self._done:
            self._next()
        end = len(self._buffer) if size < 0 else self._pos + size
        data = self._buffer[self._pos : end]
        self._pos = min(end, len(self._buffer))
        return data
