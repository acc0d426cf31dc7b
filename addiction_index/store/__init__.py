"""The session store: subjects, sessions, markers, scores, summaries and prescriptions.

SQLite (WAL) by default, PostgreSQL through the same code; see :func:`open_store` and
:func:`resolve_database_url`. Subjects are pseudonymous codes only.

``SessionStore.get_session(id)`` returns::

    {"session": {id, subject, kind, protocol, protocol_version, status, started_at, ended_at,
                 simulated, index_value, index_confidence, index_status, duration_s,
                 clock_origin, seed, model, model_version, feature_spec_hash, meta},
     "markers": [{t, label, block, value, meta}],
     "block_summaries": [{block, feature, mean, sd, n_hops, n_usable}],
     "index": dict | None, "prescription": dict | None,
     "scores": {count, by_kind: {kind: n}, craving_by_block: [{block, n, n_usable, mean}]}}

``list_sessions`` returns the ``session`` fields before ``duration_s``. Datetimes are ISO 8601
UTC strings; ``t`` is seconds since the session start.
"""

from addiction_index.store._database import (
    DB_ENV_VAR,
    DEFAULT_DB_FILENAME,
    SessionNotFoundError,
    mask_url,
    open_store,
    resolve_database_url,
)
from addiction_index.store._repository import SessionStore
from addiction_index.store._schema import SESSION_STATUSES, SUBJECT_CODE_PATTERN
from addiction_index.store.recording import XdfRecorder

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_DB_FILENAME",
    "SESSION_STATUSES",
    "SUBJECT_CODE_PATTERN",
    "SessionNotFoundError",
    "SessionStore",
    "XdfRecorder",
    "mask_url",
    "open_store",
    "resolve_database_url",
]
