"""The web app's login sessions: one row per signed-in browser, keyed by the token's hash.

The browser holds a random 256-bit token in an HttpOnly cookie; the database holds only its
SHA-256 (a stolen copy of the table cannot be replayed as a cookie). A row is deleted on
logout, on an idle or absolute timeout, and when the account is deactivated or its password
changed. Nothing about the browser (address, user agent) is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from addiction_index.store._database import utc_now
from addiction_index.store._schema import Base

__all__ = ["WebSessionRecord"]


class WebSessionRecord(Base):
    """A signed-in browser: the token's SHA-256, whose account, when made and last used."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
