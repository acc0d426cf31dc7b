"""``addiction-index service install|uninstall|status``: the gateway as a systemd service.

``install`` writes ``/etc/systemd/system/addiction-index.service`` (restart on failure, an
unprivileged user, hardened, logs to journald) and ``/etc/addiction-index/addiction-index.env``
(mode 0600: the identity key and other secrets), then enables and starts the service. It needs
root and systemd; ``--print`` only shows the unit, ``--unit-dir``/``--env-dir`` write elsewhere
(for review or packaging) without touching systemd. See :mod:`addiction_index.ops._service`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from addiction_index._cli_common import DbOption, JsonOption, dump_json
from addiction_index._cli_common import fail as _fail
from addiction_index.errors import AddictionIndexError

__all__ = ["service_app"]

service_app = typer.Typer(
    help="Run the gateway at boot as a systemd service (install, uninstall, status).",
    no_args_is_help=True,
)

UnitDirOption = Annotated[
    Path,
    typer.Option("--unit-dir", help="Folder of the unit files (systemd is used only for the "
                 "default).", show_default=True),
]  # fmt: skip


@service_app.command("install")
def install_command(
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the unit for review; write nothing.")
    ] = False,
    user: Annotated[str, typer.Option("--user", help="Unprivileged user it runs as.")] = (
        "addiction-index"
    ),
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The service's data folder (writable by it).")
    ] = Path("/var/lib/addiction-index"),
    unit_dir: UnitDirOption = Path("/etc/systemd/system"),
    env_dir: Annotated[
        Path, typer.Option("--env-dir", help="Folder of the secrets' environment file (0600).")
    ] = Path("/etc/addiction-index"),
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Served over https (behind a TLS proxy).")
    ] = False,
    no_enable: Annotated[
        bool, typer.Option("--no-enable", help="Write the files only; do not start.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Install the gateway service (needs root): unit, secrets file, enabled at boot."""
    from cryptography.fernet import Fernet

    from addiction_index.ops._service import ServiceConfig, install, unit_text

    try:
        config = ServiceConfig(
            user=user, host=host, port=port, data_dir=data_dir.absolute(), db=db,
            env_dir=env_dir.absolute(), secure_cookies=secure_cookies,
        )  # fmt: skip
        if print_only:
            typer.echo(unit_text(config), nl=False)
            return
        key = _existing_identity_key(config.data_dir) or Fernet.generate_key().decode()
        result = install(config, unit_dir.absolute(), enable=not no_enable, identity_key=key)
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        dump_json(result.to_dict())
        return
    console = Console(highlight=False)
    for path, mode in result.files.items():
        console.print(f"wrote {path} (mode {mode[2:]})")
    for path in result.kept:
        console.print(f"kept {path} (existing secrets are never rewritten)")
    for command in result.systemctl:
        console.print(f"ran {command}")
    if result.next_steps:
        console.print("next, as root:")
        for step in result.next_steps:
            console.print(f"  {step}")


def _existing_identity_key(data_dir: Path) -> str | None:
    """The identity key file already in the data folder (the one the app made), so a new
    environment file carries the same key rather than a fresh one."""
    path = data_dir / "identity.key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


@service_app.command("uninstall")
def uninstall_command(unit_dir: UnitDirOption = Path("/etc/systemd/system"),
                      as_json: JsonOption = False) -> None:  # fmt: skip
    """Stop the service and remove its unit files (the secrets file and the data stay)."""
    from addiction_index.ops._service import uninstall

    try:
        removed = uninstall(unit_dir.absolute())
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        dump_json({"removed": removed})
        return
    typer.echo("\n".join(f"removed {p}" for p in removed) or "no unit file to remove")


@service_app.command("status")
def status_command(unit_dir: UnitDirOption = Path("/etc/systemd/system"),
                   as_json: JsonOption = False) -> None:  # fmt: skip
    """Whether the service is installed, running, and how often it restarted."""
    from addiction_index.ops._service import status

    data = status(unit_dir.absolute())
    if as_json:
        dump_json(data)
        return
    console = Console(highlight=False)
    console.print(f"{data['unit']}: {'installed' if data['installed'] else 'not installed'}")
    if not data["systemd"]:
        console.print(data["note"])
        return
    console.print(
        f"{data.get('ActiveState', '?')} ({data.get('SubState', '?')}), enabled: "
        f"{data.get('UnitFileState', '?')}, restarts: {data.get('NRestarts', '?')}"
    )
