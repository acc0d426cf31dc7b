"""Staff accounts: argon2id password hashes, one role each, deactivation instead of deletion.

Passwords are hashed with argon2-cffi's :class:`~argon2.PasswordHasher` (argon2id, its default
parameters); a hash made with older parameters is upgraded on the next successful login.
:func:`verify` spends the same time on an unknown or deactivated user as on a wrong password,
so the login does not reveal which usernames exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from addiction_index.errors import InputError, StorageError
from addiction_index.store import SessionStore
from addiction_index.store._accounts_schema import ROLES, UserRecord
from addiction_index.store._web_sessions_schema import WebSessionRecord
from addiction_index.web._db import ensure_tables, transaction

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "USERNAME_PATTERN",
    "User",
    "add_user",
    "deactivate",
    "get_user",
    "list_users",
    "set_password",
    "verify",
]

MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{1,63}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone, only to spend the time")


@dataclass(frozen=True)
class User:
    """A staff account as the web app sees it (never the hash)."""

    id: int
    username: str
    role: str
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "role": self.role, "active": self.active}


def _user(record: UserRecord) -> User:
    return User(record.id, record.username, record.role, bool(record.active))


def check_username(name: str) -> str:
    """``name`` lower-cased, or ``InputError``: 2-64 of a-z, 0-9, ``.``, ``_``, ``-``."""
    name = str(name).strip().lower()
    if not _USERNAME_RE.fullmatch(name):
        raise InputError("username", name, "2-64 letters, digits, '.', '_' or '-' (a-z first)")
    return name


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else ``InputError``."""
    if role not in ROLES:
        raise InputError("role", role, "one of " + ", ".join(ROLES))
    return role


def check_password(password: str) -> str:
    """``password`` if it has at least :data:`MIN_PASSWORD_LENGTH` characters."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        # the value itself is never put in the message
        raise InputError("password", "***", f"at least {MIN_PASSWORD_LENGTH} characters")
    return password


def add_user(store: SessionStore, name: str, role: str, password: str) -> User:
    """Create an active account; ``InputError`` for a bad name/role/password or a taken name."""
    name, role = check_username(name), check_role(role)
    hashed = _hasher.hash(check_password(password))
    ensure_tables(store)
    try:
        with transaction(store, "adding a user") as session:
            record = UserRecord(username=name, role=role, password_hash=hashed, active=True)
            session.add(record)
            session.flush()
            return _user(record)
    except StorageError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise InputError("username", name, "a name not already taken") from None
        raise


def get_user(store: SessionStore, user_id: int) -> User | None:
    """The account with this id, or None."""
    with transaction(store, "reading a user") as session:
        record = session.get(UserRecord, user_id)
        return None if record is None else _user(record)


def list_users(store: SessionStore) -> list[User]:
    """Every account, by name."""
    ensure_tables(store)
    with transaction(store, "listing users") as session:
        return [_user(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.username))]


def verify(store: SessionStore, name: str, password: str) -> User | None:
    """The active account if ``password`` is right, else None (same cost either way)."""
    try:
        name = check_username(name)
    except InputError:
        name = ""
    with transaction(store, "checking a password") as session:
        record = session.scalars(select(UserRecord).where(UserRecord.username == name)).first()
        stored = record.password_hash if record is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if record is None or not record.active:
            return None
        if _hasher.check_needs_rehash(stored):
            record.password_hash = _hasher.hash(password)
        return _user(record)


def _record(session: Any, name: str) -> UserRecord:
    record = session.scalars(select(UserRecord).where(UserRecord.username == name)).first()
    if record is None:
        raise InputError("username", name, "an existing user")
    return record


def set_password(store: SessionStore, name: str, password: str) -> None:
    """Replace the password and sign the account out everywhere."""
    name = check_username(name)
    hashed = _hasher.hash(check_password(password))
    with transaction(store, "setting a password") as session:
        record = _record(session, name)
        record.password_hash = hashed
        session.execute(delete(WebSessionRecord).where(WebSessionRecord.user_id == record.id))


def deactivate(store: SessionStore, name: str) -> None:
    """Disable the account (kept for the audit log) and sign it out everywhere."""
    name = check_username(name)
    with transaction(store, "deactivating a user") as session:
        record = _record(session, name)
        record.active = False
        session.execute(delete(WebSessionRecord).where(WebSessionRecord.user_id == record.id))
