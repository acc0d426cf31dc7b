"""The gateway as a systemd service: ``addiction-index serve`` started at boot, hardened.

:func:`unit_text` renders the unit, :func:`install` writes it (mode 0644) with the secrets'
environment file (mode 0600, read by systemd as root before it drops to the service user, never
overwritten: it holds the identity key), :func:`uninstall` removes the unit (keeping the secrets)
and :func:`status` asks systemd how the service runs.

Logs go to journald only (``StandardOutput=journal``): the app writes no log file, so there is
nothing for logrotate; the journal rotates by its own limits (``SystemMaxUse``,
``MaxRetentionSec`` in ``journald.conf``). The app's logs hold no personal data: its access log
names route templates, never paths, query strings, bodies or client addresses, and errors are
logged by type and frame locations (see :mod:`addiction_index.web._app`).

Hardening that the app's own needs rule out, said here so nobody adds it back blindly:
``MemoryDenyWriteExecute`` (numba compiles kernels into executable memory) and
``PrivateNetwork`` (the web app, LSL and the BlueZ D-Bus socket). ``NUMBA_CACHE_DIR`` points into
the data folder because ``ProtectSystem=strict`` makes site-packages read-only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from addiction_index.errors import InputError, StorageError

__all__ = [
    "DEFAULT_ENV_DIR",
    "DEFAULT_UNIT_DIR",
    "SERVICE_NAME",
    "InstallResult",
    "ServiceConfig",
    "env_file_text",
    "install",
    "status",
    "uninstall",
    "unit_text",
    "verify_unit",
]

SERVICE_NAME = "addiction-index"
DEFAULT_UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_ENV_DIR = Path("/etc/addiction-index")
DEFAULT_DATA_DIR = Path("/var/lib/addiction-index")
_UNIT_MODE = 0o644
_ENV_MODE = 0o600
_SAFE_VALUE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+=,%")


def _default_executable() -> list[str]:
    """The ``addiction-index`` script beside this Python, else ``python -m addiction_index.cli``."""
    script = Path(sys.executable).parent / "addiction-index"
    if script.is_file():
        return [str(script)]
    found = shutil.which("addiction-index")
    return [found] if found else [sys.executable, "-m", "addiction_index.cli"]


def _check_word(argument: str, value: str) -> str:
    """A value placed in the unit unquoted: no spaces, quotes, ``$``, ``%`` specifiers..."""
    if not value or not set(value) <= _SAFE_VALUE or "%" in value:
        raise InputError(argument, value, "a value of letters, digits and - _ . / : @ + = ,")
    return value


@dataclass(frozen=True)
class ServiceConfig:
    """What the unit runs: as ``user``, on ``host``:``port``, with the data in ``data_dir``.

    ``db`` is a SQLAlchemy URL or a SQLite file (default: ``addiction-index.sqlite`` in
    ``data_dir``); a PostgreSQL URL with a password belongs in the environment file instead
    (``ADDICTION_INDEX_DB``), never in the world-readable unit.
    """

    user: str = SERVICE_NAME
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = DEFAULT_DATA_DIR
    db: str | None = None
    env_dir: Path = DEFAULT_ENV_DIR
    secure_cookies: bool = False
    restart_sec: int = 5
    executable: list[str] = field(default_factory=_default_executable)

    def __post_init__(self) -> None:
        _check_word("user", self.user)
        _check_word("host", self.host)
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise InputError("port", self.port, "a TCP port number from 1 to 65535")
        if not 1 <= self.port <= 65535:
            raise InputError("port", self.port, "a TCP port number from 1 to 65535")
        for name in ("data_dir", "env_dir"):
            value = PurePosixPath(getattr(self, name))
            if not value.is_absolute():
                raise InputError(name, str(value), "an absolute folder path")
            _check_word(name, str(value))
        if self.db is not None:
            _check_word("db", self.db)
            if "://" in self.db and "@" in self.db.split("://", 1)[1].split("/", 1)[0]:
                raise InputError(
                    "db",
                    "(a URL with credentials)",
                    "a URL without a password: put ADDICTION_INDEX_DB in the environment file",
                )
        for part in self.executable:
            _check_word("executable", part)

    @property
    def database(self) -> str:
        """The ``--db`` value the service runs with."""
        return self.db or str(self.data_dir / "addiction-index.sqlite")

    @property
    def env_file(self) -> Path:
        return self.env_dir / f"{SERVICE_NAME}.env"

    def writable_paths(self) -> list[str]:
        """The data folder, and a SQLite database's folder when it lies elsewhere."""
        paths = [str(self.data_dir)]
        db = self.database
        if "://" not in db or db.startswith("sqlite:///"):
            folder = str(PurePosixPath(db.removeprefix("sqlite:///")).parent)
            if not (folder + "/").startswith(str(self.data_dir) + "/"):
                paths.append(folder)
        return paths


def unit_text(config: ServiceConfig, *, backup_timer: bool = False) -> str:
    """The systemd service unit for ``config`` (see the module docstring)."""
    exec_start = [
        *config.executable,
        "serve",
        "--db",
        config.database,
        "--host",
        config.host,
        "--port",
        str(config.port),
    ]
    if config.secure_cookies:
        exec_start.append("--secure-cookies")
    under_home = any(p == "/root" or p.startswith(("/home/", "/root/")) for p in config.executable)
    privileged_port = config.port < 1024
    lines = [
        "# Generated by `addiction-index service install`; edit the options, then",
        "# `systemctl daemon-reload`. Secrets live in the EnvironmentFile (mode 0600).",
        "[Unit]",
        "Description=addiction-index centre gateway (web app and live sessions)",
        "After=network-online.target",
        "Wants=network-online.target",
        # at most 5 failed starts in 5 minutes, then systemd stops trying (status says so)
        "StartLimitIntervalSec=300",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=exec",
        f"User={config.user}",
        f"Group={config.user}",
        f"ExecStart={' '.join(exec_start)}",
        f"EnvironmentFile=-{config.env_file}",
        f"Environment=ADDICTION_INDEX_DATA_DIR={config.data_dir}",
        f"Environment=NUMBA_CACHE_DIR={config.data_dir}/numba-cache",
        "Environment=PYTHONUNBUFFERED=1",
        f"WorkingDirectory={config.data_dir}",
        "Restart=on-failure",
        f"RestartSec={config.restart_sec}",
        # SIGTERM: uvicorn shuts down gracefully and live sessions are stored as interrupted
        "TimeoutStopSec=30",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        f"ReadWritePaths={' '.join(config.writable_paths())}",
        # a virtualenv under /home or /root must stay readable
        f"ProtectHome={'read-only' if under_home else 'yes'}",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "RemoveIPC=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        # AF_UNIX: BlueZ over D-Bus; AF_INET(6): the web app and LSL; AF_NETLINK: interfaces
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        f"CapabilityBoundingSet={'CAP_NET_BIND_SERVICE' if privileged_port else ''}",
        f"AmbientCapabilities={'CAP_NET_BIND_SERVICE' if privileged_port else ''}",
        # journald only: no log files (see the module docstring)
        "StandardOutput=journal",
        "StandardError=journal",
        f"SyslogIdentifier={SERVICE_NAME}",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    if backup_timer:
        wants = lines.index("Wants=network-online.target") + 1
        lines.insert(wants, f"Wants={SERVICE_NAME}-backup.timer")
    return "\n".join(lines) + "\n"


def env_file_text(identity_key: str | None) -> str:
    """The environment file: the secrets ``addiction-index serve`` reads from its environment."""
    key = (
        f"ADDICTION_INDEX_IDENTITY_KEY={identity_key}"
        if identity_key
        else "# ADDICTION_INDEX_IDENTITY_KEY=   (a Fernet key; comma-separated keys rotate)"
    )
    return "\n".join(
        [
            "# Secrets of the addiction-index service: read by systemd (as root) when it starts",
            "# the service. Mode 0600, owner root. Back this file up apart from the data: without",
            "# the identity key the residents' identifying details cannot be read.",
            key,
            "# ADDICTION_INDEX_BACKUP_KEY=     (the key encrypting backups, when they are made)",
            "# ADDICTION_INDEX_DB=postgresql+psycopg://user:password@host/db   (overrides --db)",
            "",
        ]
    )


@dataclass
class InstallResult:
    """What :func:`install` wrote (path → octal mode) and what it left to do."""

    files: dict[str, str]
    kept: list[str]
    next_steps: list[str]
    systemctl: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "kept": self.kept,
            "next_steps": self.next_steps,
            "systemctl": self.systemctl,
        }


def _write(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` with ``mode`` from the first byte (no window of wider access)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, mode)  # the umask may have narrowed it
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def _backup_units(config: ServiceConfig) -> dict[str, str]:
    """``{file name: text}`` of the nightly backup's service and timer, when the backup module
    provides them (:mod:`addiction_index.ops._backup`); empty otherwise."""
    try:
        from addiction_index.ops import _backup
    except ImportError:
        return {}
    if not hasattr(_backup, "timer_unit") or not hasattr(_backup, "service_unit"):
        return {}
    command = " ".join([*config.executable, "backup", "create", "--json"])
    service = _backup.service_unit(
        command, user=config.user, environment_file=f"-{config.env_file}"
    )
    # the same data folder and database as the gateway, so /health finds the backups it made
    service = service.replace(
        "Type=oneshot",
        f"Type=oneshot\nEnvironment=ADDICTION_INDEX_DATA_DIR={config.data_dir}\n"
        f"Environment=ADDICTION_INDEX_DB={config.database}",
        1,
    )
    return {
        f"{SERVICE_NAME}-backup.service": service,
        f"{SERVICE_NAME}-backup.timer": _backup.timer_unit(),
    }


def install(
    config: ServiceConfig,
    unit_dir: Path = DEFAULT_UNIT_DIR,
    *,
    enable: bool = True,
    identity_key: str | None = None,
) -> InstallResult:
    """Write the unit (0644) and, when absent, the environment file (0600); see the module doc.

    With the default ``unit_dir`` on a machine running systemd (and ``enable``), the service is
    enabled and started; otherwise the commands to do so are returned in ``next_steps``. The
    environment file is never overwritten. Raises :class:`StorageError` naming the file that
    could not be written (e.g. not root).
    """
    unit_dir = Path(unit_dir)
    backups = _backup_units(config)
    files: dict[str, str] = {}
    kept: list[str] = []
    for folder in (unit_dir, config.env_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create {folder}: {exc.strerror or exc} (installing needs root)"
            ) from exc
    unit = unit_dir / f"{SERVICE_NAME}.service"
    _write(unit, unit_text(config, backup_timer=bool(backups)), _UNIT_MODE)
    files[str(unit)] = oct(_UNIT_MODE)
    for name, text in backups.items():
        _write(unit_dir / name, text, _UNIT_MODE)
        files[str(unit_dir / name)] = oct(_UNIT_MODE)
    if config.env_file.exists():
        kept.append(str(config.env_file))
        os.chmod(config.env_file, _ENV_MODE)  # an existing file is narrowed, never rewritten
    else:
        _write(config.env_file, env_file_text(identity_key), _ENV_MODE)
        files[str(config.env_file)] = oct(_ENV_MODE)
    next_steps: list[str] = []
    try:
        pwd.getpwnam(config.user)
    except KeyError:
        next_steps.append(
            f"useradd --system --home-dir {config.data_dir} --shell /usr/sbin/nologin {config.user}"
        )
    data_ready = config.data_dir.is_dir()
    if not data_ready:
        next_steps.append(f"install -d -m 0700 -o {config.user} -g {config.user} {config.data_dir}")
    ran: list[str] = []
    units = [f"{SERVICE_NAME}.service", *(n for n in backups if n.endswith(".timer"))]
    commands = [["daemon-reload"], ["enable", "--now", *units]]
    if enable and unit_dir == DEFAULT_UNIT_DIR and _systemd_running() and not next_steps:
        for args in commands:
            subprocess.run(["systemctl", *args], check=True, timeout=60)
            ran.append("systemctl " + " ".join(args))
    else:
        next_steps += ["systemctl " + " ".join(args) for args in commands]
    return InstallResult(files, kept, next_steps, ran)


def uninstall(unit_dir: Path = DEFAULT_UNIT_DIR) -> list[str]:
    """Stop and disable the service (when systemd runs) and remove its unit files; returns the
    removed paths. The environment file and the data are kept."""
    unit_dir = Path(unit_dir)
    names = [
        f"{SERVICE_NAME}.service",
        f"{SERVICE_NAME}-backup.timer",
        f"{SERVICE_NAME}-backup.service",
    ]
    if unit_dir == DEFAULT_UNIT_DIR and _systemd_running():
        subprocess.run(
            ["systemctl", "disable", "--now", *names],
            check=False,
            timeout=60,
            capture_output=True,
        )
    removed = []
    for name in names:
        path = unit_dir / name
        if path.exists():
            try:
                path.unlink()
            except OSError as exc:
                raise StorageError(f"cannot remove {path}: {exc.strerror or exc}") from exc
            removed.append(str(path))
    if removed and unit_dir == DEFAULT_UNIT_DIR and _systemd_running():
        subprocess.run(["systemctl", "daemon-reload"], check=False, timeout=60)
    return removed


def status(unit_dir: Path = DEFAULT_UNIT_DIR) -> dict[str, Any]:
    """Whether the unit is installed and, when systemd runs, its state and restart count."""
    unit = Path(unit_dir) / f"{SERVICE_NAME}.service"
    out: dict[str, Any] = {"unit": str(unit), "installed": unit.is_file(), "systemd": False}
    if not _systemd_running():
        out["note"] = "systemd is not running on this machine"
        return out
    keys = "LoadState,ActiveState,SubState,UnitFileState,NRestarts,ExecMainStartTimestamp"
    answer = subprocess.run(
        ["systemctl", "show", f"{SERVICE_NAME}.service", "-p", keys],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    out["systemd"] = True
    for line in answer.stdout.splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out


def verify_unit(path: Path) -> str | None:
    """``systemd-analyze verify`` of a unit file: None when it passes or the tool is absent
    (the caller then checks the text itself), else its complaints (lines naming the file)."""
    exe = shutil.which("systemd-analyze")
    if exe is None:
        return None
    answer = subprocess.run(
        [exe, "verify", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # it warns about unknown keys and bad values (and ignores them) with exit status 0
    lines = (answer.stderr + answer.stdout).splitlines()
    about = [ln for ln in lines if ln.startswith(f"{path}:")]
    if answer.returncode != 0:
        return "\n".join(about or lines) or f"exit status {answer.returncode}"
    return "\n".join(about) or None
