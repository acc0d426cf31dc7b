"""The web app's failed-login counts: one row per username that recently failed to sign in.

Kept in the database, not in memory, so that every server worker and process sees the same
counts (an attacker gets no more attempts from a server running several of them); see
:class:`addiction_index.web._auth.LoginThrottle`.

The key is not the username but the hex SHA-256 of ``"addiction-index login throttle\\0"`` and
the case-folded username (:func:`throttle_key`). Usernames are staff personal data, and the names
typed in a failed login are often not accounts at all (a typo, a name sprayed by an attacker, a
password typed in the wrong field), so none is stored in clear here. A plain hash is
pseudonymisation, not anonymisation: a list of candidate names can be hashed and compared. A
keyed HMAC would resist that, but every worker would then need the same secret at every login
(the identity key is loaded only for clinicians' pages), and a lost or rotated key would merely
reset the counts; the rows hold no more than "this name failed N times", live at most a day
(:data:`STALE_AFTER`) and the ``users`` table beside it names the accounts anyway. The fixed
prefix keeps these hashes from matching any other SHA-256 of a username.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = ["STALE_AFTER", "LoginThrottleRecord", "throttle_key"]

#: A row with no failure for this long (and no lock left) is deleted.
STALE_AFTER = timedelta(hours=24)

_DOMAIN = b"addiction-index login throttle\0"


def throttle_key(username: str) -> str:
    """The row key of ``username``: hex SHA-256 of a fixed prefix and the case-folded name."""
    return hashlib.sha256(_DOMAIN + username.casefold().encode()).hexdigest()


class LoginThrottleRecord(Base):
    """The failed logins of one (hashed) username: how many, locked until when, the last one."""

    __tablename__ = "login_throttle"

    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]  # None: not locked (too few failures yet)
    last_failure_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
