"""Encrypted, verified backups of the database and the recordings, and restoring them.

One backup is one file ``backups/addiction-index-<UTC time>-<random>.aibackup``: an encrypted
stream (:mod:`addiction_index.ops._crypto`) of a gzip'd tar holding ``database.sqlite`` (SQLite's
online backup) or ``database.pgdump`` (``pg_dump -Fc``), ``recordings/...`` (the recordings
folder, see :mod:`addiction_index.ops._paths`) and, last, ``manifest.json``: created at, database
kind, schema revision, rows per table, sessions, residents, and size and SHA-256 of every part.
No code, name or path of a resident is in the manifest or the plaintext header.

Backups are taken online while sessions run: the database copy is one consistent snapshot (a
session being recorded is in it as ``running``, with what it had stored up to that moment); the
recordings are copied after it, so they are at least as new. :func:`verify_backup` decrypts,
checks every hash, restores the database into a scratch place (a temporary SQLite file with
``PRAGMA integrity_check``; a scratch PostgreSQL database, dropped afterwards) and compares
revision and row counts with the manifest. :func:`restore_backup` refuses a non-empty target
without ``force``, puts back database and recordings, migrates, closes the sessions the backup
caught running as ``interrupted``, and re-applies every erasure made since (the ledger in
``ops/erasures.json``). Successful backups are listed in ``ops/backups.json``;
:func:`last_backup` reads it for the health endpoint.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from addiction_index import __version__
from addiction_index._progress import counting_bar
from addiction_index.errors import StorageError
from addiction_index.ops._crypto import DecryptingReader, EncryptingWriter, load_key
from addiction_index.ops._paths import OpsPaths, read_json, write_json
from addiction_index.ops._snapshot import (
    database_kind,
    dump_database,
    is_empty,
    restore_database,
    scratch_check,
)
from addiction_index.store._database import mask_url, resolve_database_url

__all__ = [
    "BackupVerifyError",
    "create_backup",
    "cron_line",
    "database_id",
    "last_backup",
    "list_backups",
    "restore_backup",
    "service_unit",
    "timer_unit",
    "verify_backup",
]

SUFFIX = ".aibackup"
FORMAT = 1
_COPY = 1 << 20


class BackupVerifyError(StorageError):
    """A backup failed verification: ``file`` names it, the message says which check."""

    def __init__(self, file: Path | str, reason: str) -> None:
        self.file = str(file)
        super().__init__(f"{file}: verification failed: {reason}")


def database_id(url: str) -> str:
    """A short id of a database (hash of its masked URL): the index names no host or path."""
    return hashlib.sha256(mask_url(url).encode("utf-8")).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_COPY):
            digest.update(block)
    return digest.hexdigest()


class _HashingReader:
    """Reads at most ``limit`` bytes of ``source``, hashing them (the file may still grow)."""

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source, self._left = source, limit
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._source.read(size)
        self._left -= len(data)
        self.digest.update(data)
        return data


def _recording_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _add(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    size = path.stat().st_size  # a recording still being written: the bytes up to now
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(path.stat().st_mtime), 0o600
    with path.open("rb") as source:
        reader = _HashingReader(source, size)
        archive.addfile(info, reader)  # type: ignore[arg-type]
    return {"name": name, "size": size, "sha256": reader.digest.hexdigest()}


def create_backup(
    db: str | os.PathLike[str] | None = None,
    *,
    paths: OpsPaths | None = None,
    verify: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Back up the database at ``db`` and the recordings folder into one encrypted file.

    Returns the manifest plus ``file``, ``bytes``, ``seconds`` and the verification result;
    records the backup in the backups index. Raises :class:`StorageError` (naming the database
    or file) when the copy, the encryption or the verification fails; a failed backup leaves no
    file behind.
    """
    started = time.perf_counter()
    url = resolve_database_url(db)
    kind = database_kind(url)
    paths = paths or OpsPaths.default()
    key = load_key(paths.key_file, paths.backups)
    paths.backups.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    name = f"addiction-index-{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}{SUFFIX}"
    target = paths.backups / name
    partial = target.with_name(f".{name}.partial")
    recordings = _recording_files(paths.recordings)
    with tempfile.TemporaryDirectory(prefix="ai-backup-") as scratch:
        dump = Path(scratch) / ("database.sqlite" if kind == "sqlite" else "database.pgdump")
        with counting_bar(progress, 1 + len(recordings), "backing up", unit="parts") as advance:
            described = dump_database(url, dump)
            advance()
            header = {"format": FORMAT, "created_at": created.isoformat(), "database": kind}
            parts: list[dict[str, Any]] = []
            try:
                with partial.open("xb") as out:
                    os.chmod(partial, 0o600)
                    writer = EncryptingWriter(out, key, header)
                    with (
                        gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=6, mtime=0) as gz,
                        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
                    ):
                        parts.append(_add(tar, dump.name, dump))
                        for path in recordings:
                            relative = path.relative_to(paths.recordings).as_posix()
                            parts.append(_add(tar, f"recordings/{relative}", path))
                            advance()
                        manifest = {
                            "format": FORMAT,
                            "created_at": created.isoformat(),
                            "software": f"addiction-index {__version__}",
                            "database": {"kind": kind} | described,
                            "parts": parts,
                            "recordings": {
                                "files": len(recordings),
                                "bytes": sum(p["size"] for p in parts[1:]),
                            },
                        }
                        raw = json.dumps(manifest, indent=2, sort_keys=True).encode()
                        info = tarfile.TarInfo("manifest.json")
                        info.size, info.mtime = len(raw), int(created.timestamp())
                        tar.addfile(info, io.BytesIO(raw))
                    writer.close()
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    report = manifest | {
        "file": str(target),
        "bytes": target.stat().st_size,
        "backup_seconds": round(time.perf_counter() - started, 3),
    }
    entry = {
        "file": str(target),
        "created_at": created.isoformat(),
        "database_id": database_id(url),
        "database_kind": kind,
        "bytes": report["bytes"],
        "sha256": _sha256(target),
        "verified": False,
        "erased_since": [],
    }
    if verify:
        try:
            checked = verify_backup(target, db=url, paths=paths)
        except BaseException:
            target.unlink(missing_ok=True)  # an unverifiable backup is no backup
            raise
        report["verify"] = checked
        entry["verified"] = True
        entry["verified_at"] = datetime.now(UTC).isoformat()
    _record(paths, entry)
    return report


def _record(paths: OpsPaths, entry: dict[str, Any]) -> None:
    index = read_json(paths.backups_index, {"backups": []})
    index["backups"] = [b for b in index["backups"] if b["file"] != entry["file"]] + [entry]
    write_json(paths.backups_index, index)


def list_backups(paths: OpsPaths | None = None) -> list[dict[str, Any]]:
    """The backups index, oldest first (entries whose file is gone are marked ``missing``)."""
    paths = paths or OpsPaths.default()
    entries = read_json(paths.backups_index, {"backups": []})["backups"]
    return [e | {"missing": not Path(e["file"]).is_file()} for e in entries]


def last_backup(
    db: str | os.PathLike[str] | None = None, paths: OpsPaths | None = None
) -> dict[str, Any] | None:
    """The newest successful backup of ``db`` (time, file, bytes, verified) or None.

    For the health endpoint: ``{"created_at", "file", "bytes", "verified", "age_hours"}``.
    """
    url = resolve_database_url(db)
    wanted = database_id(url)
    entries = [e for e in list_backups(paths) if e["database_id"] == wanted]
    if not entries:
        return None
    newest = max(entries, key=lambda e: e["created_at"])
    created = datetime.fromisoformat(newest["created_at"])
    age = (datetime.now(UTC) - created).total_seconds() / 3600
    keys = ("created_at", "file", "bytes", "verified", "missing")
    return {k: newest.get(k) for k in keys} | {"age_hours": round(age, 2)}


def _safe_member(name: str, file: Path) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupVerifyError(file, f"unsafe member name {name!r}")
    return path


def _unpack(
    file: Path, key: bytes, into: Path, keep_recordings: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    """Decrypt ``file`` into ``into``; return its header, manifest and each part's size+hash."""
    seen: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    with file.open("rb") as source:
        reader = DecryptingReader(source, key, str(file))
        try:
            with (
                gzip.GzipFile(fileobj=reader, mode="rb") as gz,  # type: ignore[arg-type]
                tarfile.open(fileobj=gz, mode="r|") as tar,
            ):
                for member in tar:
                    name = _safe_member(member.name, file)
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        raise BackupVerifyError(file, f"{member.name} is not a file")
                    if member.name == "manifest.json":
                        manifest = json.loads(extracted.read())
                        continue
                    keep = name.parts[0] != "recordings" or keep_recordings
                    digest, size = hashlib.sha256(), 0
                    out = None
                    if keep:
                        (into / name).parent.mkdir(parents=True, exist_ok=True)
                        out = (into / name).open("wb")
                    try:
                        while block := extracted.read(_COPY):
                            digest.update(block)
                            size += len(block)
                            if out is not None:
                                out.write(block)
                    finally:
                        if out is not None:
                            out.close()
                    seen[member.name] = {"size": size, "sha256": digest.hexdigest()}
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise BackupVerifyError(file, f"the archive inside is damaged ({exc})") from exc
        header = reader.header
    if manifest is None:
        raise BackupVerifyError(file, "no manifest.json: the backup is incomplete")
    return header, manifest, seen


def _check_parts(file: Path, manifest: dict[str, Any], seen: dict[str, dict[str, Any]]) -> None:
    listed = {p["name"]: p for p in manifest["parts"]}
    if set(listed) != set(seen):
        raise BackupVerifyError(file, "the parts differ from the manifest's list")
    for name, part in listed.items():
        if (part["size"], part["sha256"]) != (seen[name]["size"], seen[name]["sha256"]):
            raise BackupVerifyError(file, f"{name}: size or SHA-256 differs from the manifest")


def _open_key(paths: OpsPaths) -> bytes:
    return load_key(paths.key_file, None)


def verify_backup(
    file: str | os.PathLike[str],
    *,
    db: str | os.PathLike[str] | None = None,
    paths: OpsPaths | None = None,
) -> dict[str, Any]:
    """Decrypt ``file``, check its hashes, restore it into a scratch place and compare.

    ``db`` names the PostgreSQL server whose scratch database is used (ignored for SQLite
    backups). Returns what was checked; raises :class:`BackupVerifyError` (or
    :class:`~addiction_index.ops._crypto.BackupKeyError` for a wrong key) saying what failed.
    """
    started = time.perf_counter()
    path = Path(file)
    paths = paths or OpsPaths.default()
    key = _open_key(paths)
    with tempfile.TemporaryDirectory(prefix="ai-verify-") as scratch:
        _, manifest, seen = _unpack(path, key, Path(scratch), keep_recordings=False)
        _check_parts(path, manifest, seen)
        kind = manifest["database"]["kind"]
        dump = Path(scratch) / manifest["parts"][0]["name"]
        url = resolve_database_url(db) if kind == "postgresql" else None
        restored = scratch_check(kind, dump, url)
    if restored.get("integrity") != "ok":
        raise BackupVerifyError(path, f"integrity check: {restored.get('integrity')}")
    expected = manifest["database"]
    if restored["revision"] != expected["revision"]:
        raise BackupVerifyError(
            path, f"schema revision {restored['revision']} != manifest {expected['revision']}"
        )
    if restored["tables"] != expected["tables"]:
        differ = sorted(
            t
            for t in set(restored["tables"]) | set(expected["tables"])
            if restored["tables"].get(t) != expected["tables"].get(t)
        )
        raise BackupVerifyError(path, f"row counts differ from the manifest in {differ}")
    return {
        "file": str(path),
        "ok": True,
        "revision": restored["revision"],
        "rows": sum(restored["tables"].values()),
        "parts": len(seen),
        "verify_seconds": round(time.perf_counter() - started, 3),
    }


def restore_backup(
    file: str | os.PathLike[str],
    *,
    db: str | os.PathLike[str] | None = None,
    paths: OpsPaths | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Restore ``file`` into the database ``db`` and the recordings folder.

    Refuses (:class:`StorageError`) a target database with rows, or a recording that exists
    with other content, unless ``force``. Every part is checked against the manifest before the
    target is touched. Afterwards the store is migrated, sessions caught running are closed as
    ``interrupted``, and the erasure ledger is re-applied. Stop the server first.
    """
    from addiction_index.ops._erase import reapply_erasures
    from addiction_index.store import open_store

    started = time.perf_counter()
    path = Path(file)
    paths = paths or OpsPaths.default()
    url = resolve_database_url(db)
    key = _open_key(paths)
    with tempfile.TemporaryDirectory(prefix="ai-restore-") as scratch:
        _, manifest, seen = _unpack(path, key, Path(scratch), keep_recordings=True)
        _check_parts(path, manifest, seen)
        kind = manifest["database"]["kind"]
        if database_kind(url) != kind:
            raise StorageError(f"a {kind} backup cannot be restored into {mask_url(url)}")
        if not force and not is_empty(url):
            raise StorageError(
                f"{mask_url(url)} is not empty: restoring would overwrite it (use --force)"
            )
        staged = [p["name"] for p in manifest["parts"][1:]]
        conflicts = [
            n
            for n in staged
            if (paths.recordings / n.removeprefix("recordings/")).exists()
            and _sha256(paths.recordings / n.removeprefix("recordings/")) != seen[n]["sha256"]
        ]
        if conflicts and not force:
            raise StorageError(
                f"{len(conflicts)} recording(s) in {paths.recordings} differ from the backup's "
                "(use --force to overwrite them)"
            )
        restore_database(kind, Path(scratch) / manifest["parts"][0]["name"], url)
        for name in staged:
            target = paths.recordings / name.removeprefix("recordings/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(scratch) / name, target)
    erased = reapply_erasures(url, paths=paths)  # before any other use of the restored data
    with open_store(url) as store:
        interrupted = store.close_interrupted()
    return {
        "file": str(path),
        "database": mask_url(url),
        "created_at": manifest["created_at"],
        "revision": manifest["database"]["revision"],
        "tables": manifest["database"]["tables"],
        "recordings": len(staged),
        "closed_interrupted": interrupted,
        "erasures_reapplied": erased,
        "restore_seconds": round(time.perf_counter() - started, 3),
    }


# -- scheduling ---------------------------------------------------------------------------


def service_unit(
    command: str = "addiction-index backup create --json",
    *,
    description: str = "addiction-index encrypted backup",
    user: str | None = None,
    environment_file: str | None = None,
) -> str:
    """A systemd oneshot service running ``command`` (pair it with :func:`timer_unit`)."""
    lines = ["[Unit]", f"Description={description}", "", "[Service]", "Type=oneshot"]
    if user:
        lines.append(f"User={user}")
    if environment_file:
        lines.append(f"EnvironmentFile={environment_file}")
    lines += [f"ExecStart={command}", "Nice=10", "IOSchedulingClass=idle", ""]
    return "\n".join(lines)


def timer_unit(
    on_calendar: str = "*-*-* 02:30:00",
    *,
    description: str = "Nightly addiction-index backup",
    randomized_delay: str = "15min",
) -> str:
    """A systemd timer starting the service of the same name at ``on_calendar``.

    Save as e.g. ``/etc/systemd/system/addiction-index-backup.timer`` beside the
    ``.service`` from :func:`service_unit`, then ``systemctl enable --now`` the timer.
    ``Persistent=true`` runs a missed backup at the next boot.
    """
    return "\n".join(
        [
            "[Unit]",
            f"Description={description}",
            "",
            "[Timer]",
            f"OnCalendar={on_calendar}",
            f"RandomizedDelaySec={randomized_delay}",
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )


def cron_line(
    command: str = "addiction-index backup create --json", schedule: str = "30 2 * * *"
) -> str:
    """One crontab line running ``command`` at ``schedule``, output appended to a log."""
    return f"{schedule} {command} >> $HOME/addiction-index-ops.log 2>&1"
