"""Operations: encrypted backups and restores, the retention policy, and erasing a resident.

* :func:`create_backup`, :func:`verify_backup`, :func:`restore_backup`, :func:`last_backup`
  (for the health endpoint), :func:`timer_unit`/:func:`service_unit`/:func:`cron_line` (for
  scheduling);
* :func:`load_policy`, :func:`apply_retention`;
* :func:`erase_subject`, :func:`reapply_erasures`.

Files live under the centre's data folder (:class:`OpsPaths`); the backup key never lives with
the backups (:mod:`addiction_index.ops._crypto` says how it is kept and what losing it means).
"""

from addiction_index.ops._backup import (
    BackupVerifyError,
    create_backup,
    cron_line,
    last_backup,
    list_backups,
    restore_backup,
    service_unit,
    timer_unit,
    verify_backup,
)
from addiction_index.ops._crypto import BACKUP_KEY_ENV, BackupKeyError, create_key_file, key_id
from addiction_index.ops._erase import ERASURE_REASONS, erase_subject, reapply_erasures
from addiction_index.ops._paths import OpsPaths
from addiction_index.ops._retention import (
    RETENTION_KINDS,
    RetentionPolicy,
    apply_retention,
    load_policy,
)

__all__ = [
    "BACKUP_KEY_ENV",
    "ERASURE_REASONS",
    "RETENTION_KINDS",
    "BackupKeyError",
    "BackupVerifyError",
    "OpsPaths",
    "RetentionPolicy",
    "apply_retention",
    "create_backup",
    "create_key_file",
    "cron_line",
    "erase_subject",
    "key_id",
    "last_backup",
    "list_backups",
    "load_policy",
    "reapply_erasures",
    "restore_backup",
    "service_unit",
    "timer_unit",
    "verify_backup",
]
