"""Residents' identifying details, encrypted at rest with Fernet, readable by clinicians alone.

The key never enters the database. It comes, in order, from the ``identity_key`` given, from
``$ADDICTION_INDEX_IDENTITY_KEY``, or from the key file ``identity.key`` in the user data
folder (created on first use with permissions 0600). The variable may hold several keys
separated by commas, newest first: new records use the first, older records are decrypted with
the key whose id they carry (``key_id`` is the first 12 hex digits of the key's SHA-256), so a
key can be rotated by prepending the new one and re-saving identities.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs
from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from addiction_index.errors import AddictionIndexError, InputError
from addiction_index.store import SessionStore
from addiction_index.store._accounts_schema import ResidentIdentityRecord
from addiction_index.store._database import APP_NAME, utc_now
from addiction_index.store._schema import Subject, check_subject_code
from addiction_index.web._db import transaction

__all__ = [
    "IDENTITY_KEY_ENV_VAR",
    "Identity",
    "IdentityKeyError",
    "IdentityKeys",
    "default_key_file",
    "has_identity",
    "load_identity_keys",
    "read_identity",
    "save_identity",
]

logger = logging.getLogger(__name__)

IDENTITY_KEY_ENV_VAR = "ADDICTION_INDEX_IDENTITY_KEY"
KEY_FILENAME = "identity.key"


class IdentityKeyError(AddictionIndexError):
    """The identity key is missing, malformed or not the one a record was encrypted with."""


class Identity(BaseModel):
    """A resident's identifying details (all optional; stored only encrypted)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="", max_length=200)
    birth_date: date | None = None
    id_number: str = Field(default="", max_length=64)
    phone: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=500)


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


@dataclass(frozen=True)
class IdentityKeys:
    """The loaded Fernet keys, newest first, by key id."""

    keys: tuple[bytes, ...]

    @property
    def current_id(self) -> str:
        """The id of the key new records are encrypted with."""
        return _key_id(self.keys[0])

    def encrypt(self, identity: Identity) -> tuple[bytes, str]:
        """``(token, key_id)`` of ``identity`` encrypted with the newest key."""
        plain = identity.model_dump_json().encode()
        return Fernet(self.keys[0]).encrypt(plain), self.current_id

    def decrypt(self, token: bytes, key_id: str) -> Identity:
        """The identity in ``token``; :class:`IdentityKeyError` if no loaded key opens it."""
        matching = [k for k in self.keys if _key_id(k) == key_id]
        if not matching:
            raise IdentityKeyError(
                f"this identity was encrypted with key {key_id}, which is not loaded; "
                f"set ${IDENTITY_KEY_ENV_VAR} to include it (comma-separated, newest first)"
            )
        try:
            plain = Fernet(matching[0]).decrypt(token)
        except InvalidToken:
            raise IdentityKeyError(
                f"the identity record does not decrypt with key {key_id}: "
                "the record is damaged or the key is wrong"
            ) from None
        return Identity.model_validate_json(plain)


def default_key_file() -> Path:
    """``identity.key`` in the user data folder (``platformdirs``)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / KEY_FILENAME


def _parse(text: str, source: str) -> tuple[bytes, ...]:
    keys = tuple(k.strip().encode() for k in text.split(",") if k.strip())
    if not keys:
        raise IdentityKeyError(f"{source} holds no identity key")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise IdentityKeyError(
                f"{source} is not a Fernet key (32 url-safe base64-encoded bytes; make one "
                "with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return keys


def load_identity_keys(
    identity_key: str | bytes | None = None, key_file: Path | None = None
) -> IdentityKeys:
    """The identity keys: ``identity_key``, else ``$ADDICTION_INDEX_IDENTITY_KEY``, else the key
    file (``key_file`` or :func:`default_key_file`), created with mode 0600 when absent."""
    if identity_key is not None:
        text = identity_key.decode() if isinstance(identity_key, bytes) else identity_key
        return IdentityKeys(_parse(text, "the identity key given"))
    if os.environ.get(IDENTITY_KEY_ENV_VAR):
        return IdentityKeys(_parse(os.environ[IDENTITY_KEY_ENV_VAR], f"${IDENTITY_KEY_ENV_VAR}"))
    path = key_file or default_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key() + b"\n")
            logger.warning("created a new identity key file %s: back it up safely", path)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise IdentityKeyError(f"the identity key file {path} is readable by others: chmod 600")
    return IdentityKeys(_parse(path.read_text(), f"the identity key file {path}"))


def _subject_id(session: object, code: str) -> int:
    subject_id = session.scalar(select(Subject.id).where(Subject.code == code))  # type: ignore[attr-defined]
    if subject_id is None:
        raise InputError("subject", code, "the code of an existing resident")
    return subject_id


def save_identity(store: SessionStore, code: str, identity: Identity, keys: IdentityKeys) -> str:
    """Encrypt and store (or replace) the identity of resident ``code``; return the key id.

    The caller audits the decision; nothing here is logged.
    """
    code = check_subject_code(code)
    token, key_id = keys.encrypt(identity)
    with transaction(store, "saving an identity") as session:
        subject_id = _subject_id(session, code)
        record = session.scalars(
            select(ResidentIdentityRecord).where(ResidentIdentityRecord.subject_id == subject_id)
        ).first()
        if record is None:
            session.add(ResidentIdentityRecord(subject_id=subject_id, token=token, key_id=key_id))
        else:
            record.token, record.key_id, record.updated_at = token, key_id, utc_now()
    return key_id


def has_identity(store: SessionStore, code: str) -> bool:
    """Whether an identity is stored for resident ``code`` (without decrypting it)."""
    query = (
        select(ResidentIdentityRecord.id)
        .join(Subject, Subject.id == ResidentIdentityRecord.subject_id)
        .where(Subject.code == check_subject_code(code))
    )
    with transaction(store, "checking an identity") as session:
        return session.scalar(query) is not None


def read_identity(store: SessionStore, code: str, keys: IdentityKeys) -> Identity | None:
    """The decrypted identity of resident ``code``, or None if none is stored.

    Callers must audit every call (the web app's route does).
    """
    query = (
        select(ResidentIdentityRecord.token, ResidentIdentityRecord.key_id)
        .join(Subject, Subject.id == ResidentIdentityRecord.subject_id)
        .where(Subject.code == check_subject_code(code))
    )
    with transaction(store, "reading an identity") as session:
        row = session.execute(query).first()
    return None if row is None else keys.decrypt(row.token, row.key_id)
