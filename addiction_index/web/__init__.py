"""The centre's web app (FastAPI): accounts and roles, sessions, CSRF, identities, audit.

``create_app(db)`` builds the app; ``addiction-index serve`` runs it with uvicorn. Every page
and asset ships with the package (nothing is loaded from the internet). Residents appear by
pseudonymous code only; identifying details are encrypted and shown to clinicians alone; every
read of personal data and every decision goes to the append-only audit log.
"""

from addiction_index.web._access import ACCESS, ALL_ROLES, PUBLIC
from addiction_index.web._accounts import (
    MIN_PASSWORD_LENGTH,
    User,
    add_user,
    deactivate,
    list_users,
    set_password,
    verify,
)
from addiction_index.web._app import create_app
from addiction_index.web._audit import audit, read_audit
from addiction_index.web._auth import WebSettings
from addiction_index.web._identity import (
    IDENTITY_KEY_ENV_VAR,
    Identity,
    IdentityKeyError,
    load_identity_keys,
    read_identity,
    save_identity,
)

__all__ = [
    "ACCESS",
    "ALL_ROLES",
    "IDENTITY_KEY_ENV_VAR",
    "MIN_PASSWORD_LENGTH",
    "PUBLIC",
    "Identity",
    "IdentityKeyError",
    "User",
    "WebSettings",
    "add_user",
    "audit",
    "create_app",
    "deactivate",
    "list_users",
    "load_identity_keys",
    "read_audit",
    "read_identity",
    "save_identity",
    "set_password",
    "verify",
]
