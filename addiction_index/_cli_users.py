"""``addiction-index users add|list|deactivate|passwd`` and ``addiction-index serve``.

``users add NAME --role ROLE`` asks for the password twice with hidden input (or reads one line
from stdin with ``--password-stdin``) and refuses passwords shorter than 12 characters.
``serve`` runs the web app with uvicorn on http://127.0.0.1:8000 by default. ``--host 0.0.0.0``
is allowed (the centre's network) but warns: put a TLS proxy in front and pass
``--secure-cookies`` so the session cookie is only sent over https.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated

import typer
from rich.console import Console

from addiction_index.errors import AddictionIndexError

__all__ = ["serve_command", "users_app"]

users_app = typer.Typer(help="Staff accounts of the web app.", no_args_is_help=True)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL or SQLite file (default: the usual).")
]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=2)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="Username (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option(help="clinician, coach, researcher, case-manager or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from one stdin line.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a staff account with one role."""
    from addiction_index.store import open_store
    from addiction_index.web._accounts import MIN_PASSWORD_LENGTH, add_user, check_role

    try:
        check_role(role)
        password = _read_password(password_stdin)
        if len(password) < MIN_PASSWORD_LENGTH:
            _fail(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        with open_store(db) as store:
            user = add_user(store, name, role, password)
    except AddictionIndexError as exc:
        _fail(str(exc))
    typer.echo(f"added {user.username} ({user.role})")


@users_app.command("passwd")
def passwd_command(
    name: Annotated[str, typer.Argument(help="Username.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from one stdin line.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set a new password (signs the account out everywhere)."""
    from addiction_index.store import open_store
    from addiction_index.web._accounts import MIN_PASSWORD_LENGTH, set_password
    from addiction_index.web._db import ensure_tables

    try:
        password = _read_password(password_stdin)
        if len(password) < MIN_PASSWORD_LENGTH:
            _fail(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        with open_store(db) as store:
            ensure_tables(store)
            set_password(store, name, password)
    except AddictionIndexError as exc:
        _fail(str(exc))
    typer.echo(f"password of {name} changed")


@users_app.command("list")
def list_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the staff accounts (name, role, active)."""
    from addiction_index.store import open_store
    from addiction_index.web._accounts import list_users

    try:
        with open_store(db) as store:
            users = list_users(store)
    except AddictionIndexError as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps([u.to_dict() for u in users], indent=2) + "\n")
        return
    for u in users:
        typer.echo(f"{u.username:<24} {u.role:<13} {'active' if u.active else 'deactivated'}")


@users_app.command("deactivate")
def deactivate_command(name: Annotated[str, typer.Argument(help="Username.")],
                       db: DbOption = None) -> None:  # fmt: skip
    """Deactivate an account (kept for the audit log) and sign it out everywhere."""
    from addiction_index.store import open_store
    from addiction_index.web._accounts import deactivate
    from addiction_index.web._db import ensure_tables

    try:
        with open_store(db) as store:
            ensure_tables(store)
            deactivate(store, name)
    except AddictionIndexError as exc:
        _fail(str(exc))
    typer.echo(f"deactivated {name}")


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option("--secure-cookies", help="Mark cookies Secure (served over https)."),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of every page: en or zh-CN (default: each browser's Accept-Language).",
        ),
    ] = None,
) -> None:
    """Run the centre's web app (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from addiction_index.store import mask_url, resolve_database_url
    from addiction_index.web import WebSettings, create_app

    if host not in _LOOPBACK:
        Console(stderr=True).print(
            f"[yellow]warning:[/] listening on {host}: the app is reachable from the network. "
            "Serve it behind a TLS proxy and pass --secure-cookies.",
            highlight=False,
        )
    from addiction_index.i18n import normalise

    try:
        lang = normalise(lang) if lang else None
    except ValueError as exc:
        _fail(str(exc))
    try:
        url = resolve_database_url(db)
    except AddictionIndexError as exc:
        _fail(str(exc))
    logging.getLogger("addiction_index.web.access").setLevel(logging.INFO)
    typer.echo(f"serving {mask_url(url)} on http://{host}:{port}")
    app = create_app(url, settings=WebSettings(secure_cookies=secure_cookies, lang=lang))
    # uvicorn's own access log prints the client address and the query string: replaced by
    # the app's, which names the route template only
    # per-message deflate is off: each message would be compressed once per viewer, which costs
    # more CPU on the gateway than the bytes it saves on a centre's local network
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=False,
                server_header=False, ws_per_message_deflate=False)  # fmt: skip
