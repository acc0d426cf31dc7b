"""The ``addiction-index`` command."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.errors import AddictionIndexError

app = typer.Typer(
    name="addiction-index",
    help="Wearable EEG and heart-rate signals to a craving score, an addiction index and "
    "exercise and music prescriptions. " + NOT_A_DIAGNOSIS,
    no_args_is_help=True,
    add_completion=False,
)
sessions_app = typer.Typer(help="Stored assessment sessions.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
devices_app = typer.Typer(help="Wearables: profiles and Bluetooth scanning.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database file or URL (default: $ADDICTION_INDEX_DB, else the user data folder).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(exc: AddictionIndexError) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(code=2)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if version:
        typer.echo(__version__)
        raise typer.Exit()


@app.command()
def demo(
    subject: Annotated[str, typer.Option(help="Pseudonymous code of the simulated resident.")] = (
        "SIM-001"
    ),
    craving: Annotated[
        float, typer.Option(min=0, max=100, help="Latent craving of the simulated resident, 0-100.")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same session.")] = 1,
    speed: Annotated[
        float,
        typer.Option(
            help="Simulated time per wall second (1 = real time; default: as fast as possible).",
            show_default=False,
        ),
    ] = math.inf,
    protocol: Annotated[
        str, typer.Option(help="Protocol name (demo, cue-reactivity) or a YAML file.")
    ] = "demo",
    no_report: Annotated[
        bool,
        typer.Option(
            "--no-report",
            help="Simulate a resident who rates zero craving while reacting (EVIDENCE 1.3).",
        ),
    ] = False,
    db: DbOption = None,
    devices_dir: Annotated[
        Path | None, typer.Option(help="Your own device profiles folder.")
    ] = None,
    models_dir: Annotated[Path | None, typer.Option(help="Your own models folder.")] = None,
    prescriptions_dir: Annotated[
        Path | None, typer.Option(help="Your own rule sets folder.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a simulated resident through a whole assessment: index, confidence, prescription."""
    from addiction_index.sessions import ContentFolders, run_simulated_assessment
    from addiction_index.ui import LiveView, assessment_tables

    if not speed > 0:
        raise typer.BadParameter(f"--speed {speed} must be above 0", param_hint="--speed")
    folders = ContentFolders(devices_dir, models_dir, prescriptions_dir)
    kwargs = dict(
        subject=subject,
        craving=craving,
        seed=seed,
        speed=speed,
        protocol=protocol,
        db=db,
        folders=folders,
        reports_craving=not no_report,
    )
    try:
        if as_json:
            result = asyncio.run(run_simulated_assessment(**kwargs))
        else:
            with LiveView() as view:
                result = asyncio.run(
                    run_simulated_assessment(**kwargs, sinks=[view], on_runner=view.attach)
                )
    except AddictionIndexError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        Console(stderr=True).print("[yellow]stopped: the session is stored as interrupted[/]")
        raise typer.Exit(code=130) from None
    data = result.to_dict()
    if as_json:
        _dump(data)
    else:
        Console().print(assessment_tables(data))


@sessions_app.command("list")
def sessions_list(
    subject: Annotated[str | None, typer.Option(help="Only this subject's sessions.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List stored sessions, newest first."""
    from addiction_index.store import open_store
    from addiction_index.ui import sessions_table

    try:
        with open_store(db) as store:
            rows = store.list_sessions(subject=subject, limit=limit)
            url = store.url
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        _dump({"database": url, "sessions": rows, "statement": NOT_A_DIAGNOSIS})
    else:
        Console().print(sessions_table(rows, url))


@sessions_app.command("show")
def sessions_show(
    session_id: Annotated[int, typer.Argument(metavar="ID", help="Session id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one stored session: its index, the features that drove it, its prescription."""
    from addiction_index.store import open_store
    from addiction_index.ui import session_table

    try:
        with open_store(db) as store:
            data = store.get_session(session_id)
    except AddictionIndexError as exc:
        _fail(exc)
    if as_json:
        _dump(data | {"statement": NOT_A_DIAGNOSIS})
    else:
        Console().print(session_table(data))


@devices_app.command("list")
def devices_list(
    devices_dir: Annotated[
        Path | None, typer.Option(help="Your own device profiles folder.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The device profiles this installation knows (one TOML per wearable)."""
    from rich.table import Table

    from addiction_index.devices import list_profiles, load_profile

    try:
        profiles = [load_profile(name, devices_dir) for name in list_profiles(devices_dir)]
    except AddictionIndexError as exc:
        _fail(exc)
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "kind": str(p.kind),
            "streams": [
                f"{s.name} ({s.kind}, {s.rate_hz:g} Hz)" if s.rate_hz else f"{s.name} ({s.kind})"
                for s in p.streams
            ],
        }
        for p in profiles
    ]
    if as_json:
        _dump({"profiles": rows})
        return
    table = Table(title="Device profiles", title_justify="left")
    for col in ("id", "name", "kind", "streams"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["name"], r["kind"], ", ".join(r["streams"]))
    Console().print(table)


@devices_app.command("scan")
def devices_scan(
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to listen.")] = 5.0,
    all_devices: Annotated[
        bool, typer.Option("--all", help="Also devices no profile matches.")
    ] = False,
    devices_dir: Annotated[
        Path | None, typer.Option(help="Your own device profiles folder.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Nearby supported devices: name, kind, address, signal strength."""
    from rich.table import Table

    from addiction_index.devices import list_profiles, load_profile
    from addiction_index.devices._ble_transport import scan

    try:
        profiles = [load_profile(name, devices_dir) for name in list_profiles(devices_dir)]
        found = asyncio.run(scan(profiles, timeout))
    except AddictionIndexError as exc:
        _fail(exc)
    if not all_devices:
        found = [d for d in found if d.profile is not None]
    if as_json:
        _dump({"devices": [d.to_dict() for d in found]})
        return
    table = Table(title=f"Devices seen in {timeout:g} s", title_justify="left")
    for col in ("name", "profile", "kind", "address", "signal (dBm)"):
        table.add_column(col)
    for d in found:
        table.add_row(
            d.name,
            d.profile or "—",
            d.kind or "—",
            d.address,
            "—" if d.rssi_dbm is None else str(d.rssi_dbm),
        )
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
