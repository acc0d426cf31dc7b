"""The ``addiction-index`` command."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index._cli_aftercare import followup_app, intake_command, release_command
from addiction_index._cli_cohort import cohort_app, handover_command
from addiction_index._cli_common import DbOption, JsonOption
from addiction_index._cli_common import dump_json as _dump
from addiction_index._cli_common import fail as _fail
from addiction_index._cli_datasets import dataset_app, export_command
from addiction_index._cli_db import db_app
from addiction_index._cli_demo_centre import demo_centre_command
from addiction_index._cli_exercise import exercise_command
from addiction_index._cli_extract import features_app
from addiction_index._cli_models import evaluate_command, models_app, train_command
from addiction_index._cli_ops import backup_app, retention_app, subject_app
from addiction_index._cli_programme import plan_command, prescribe_command
from addiction_index._cli_report import report_command
from addiction_index._cli_rules import rules_app
from addiction_index._cli_service import service_app
from addiction_index._cli_users import serve_command, users_app
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
lsl_app = typer.Typer(help="Lab Streaming Layer streams on the network.", no_args_is_help=True)
app.add_typer(lsl_app, name="lsl")
app.add_typer(features_app, name="features")
app.add_typer(dataset_app, name="dataset")
app.command("export")(export_command)
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.add_typer(models_app, name="models")
app.command("exercise")(exercise_command)
app.add_typer(rules_app, name="rules")
app.command("prescribe")(prescribe_command)
app.command("plan")(plan_command)
app.add_typer(users_app, name="users")
app.command("serve")(serve_command)
app.command("demo-centre")(demo_centre_command)
app.add_typer(db_app, name="db")
app.command("report")(report_command)
app.command("intake")(intake_command)
app.command("release")(release_command)
app.add_typer(followup_app, name="followup")
app.command("handover")(handover_command)
app.add_typer(cohort_app, name="cohort")
app.add_typer(backup_app, name="backup")
app.add_typer(retention_app, name="retention")
app.add_typer(subject_app, name="subject")
app.add_typer(service_app, name="service")

RecordOption = Annotated[
    Path | None,
    typer.Option("--record", help="Also record every stream and marker to this XDF file."),
]
LslOutOption = Annotated[
    bool,
    typer.Option("--lsl-out", help="Publish raw streams, features, scores and markers on LSL."),
]
DevicesDirOption = Annotated[Path | None, typer.Option(help="Your own device profiles folder.")]


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
    record: RecordOption = None,
    lsl_out: LslOutOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run a simulated resident through a whole assessment: index, confidence, prescription."""
    from addiction_index.sessions import ContentFolders, run_simulated_assessment

    if not speed > 0:
        raise typer.BadParameter(f"--speed {speed} must be above 0", param_hint="--speed")
    folders = ContentFolders(devices_dir, models_dir, prescriptions_dir)

    def run(view: Any, sinks: list) -> Any:
        return run_simulated_assessment(
            subject=subject,
            craving=craving,
            seed=seed,
            speed=speed,
            protocol=protocol,
            db=db,
            folders=folders,
            reports_craving=not no_report,
            sinks=sinks,
            on_runner=view.attach if view else None,
        )

    _session(run, as_json=as_json, record=record, lsl_out=lsl_out)


def _output_sinks(record: Path | None, lsl_out: bool) -> list:
    sinks: list = []
    if record is not None:
        from addiction_index.store.recording import XdfRecorder

        sinks.append(XdfRecorder(record))
    if lsl_out:
        from addiction_index.devices._factory import require_lsl

        require_lsl()
        from addiction_index.sessions._lsl_outlets import LslPublisher

        sinks.append(LslPublisher())
    return sinks


def _session(run: Any, *, as_json: bool, record: Path | None = None, lsl_out: bool = False) -> None:
    """Run one session (``run(view, sinks)`` makes the coroutine), then print its result."""
    from addiction_index.ui import LiveView, assessment_tables

    sinks: list = []
    try:
        sinks = _output_sinks(record, lsl_out)
        if as_json:
            result = asyncio.run(run(None, sinks))
        else:
            with LiveView() as view:
                result = asyncio.run(run(view, [*sinks, view]))
    except AddictionIndexError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        Console(stderr=True).print("[yellow]stopped: the session is stored as interrupted[/]")
        raise typer.Exit(code=130) from None
    finally:
        for sink in sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                close()
    data = result.to_dict()
    if record is not None:
        data["recording"] = str(record)
    if as_json:
        _dump(data)
    else:
        Console().print(assessment_tables(data))
        if record is not None:
            Console().print(f"recorded to {record}")


def _live(
    eeg: str | None,
    hr: str | None,
    *,
    subject: str,
    age: int | None,
    protocol: str,
    db: str | None,
    devices_dir: Path | None,
    no_ratings: bool,
    as_json: bool,
    record: Path | None,
    lsl_out: bool,
) -> None:
    from addiction_index.devices._factory import open_sources
    from addiction_index.sessions import run_assessment
    from addiction_index.signals import HostClock
    from addiction_index.ui.rater import ConsoleRater

    async def go(view: Any, sinks: list) -> Any:
        sources = await open_sources([("--eeg", eeg), ("--hr", hr)], devices_dir=devices_dir)
        rater = None if no_ratings else ConsoleRater(view=view)
        return await run_assessment(
            sources,
            HostClock(),
            subject=subject,
            age=age,
            protocol=protocol,
            db=db,
            rater=rater,
            sinks=sinks,
            on_runner=view.attach if view else None,
        )

    _session(go, as_json=as_json, record=record, lsl_out=lsl_out)


EegOption = Annotated[
    str | None,
    typer.Option(
        help="EEG device: a profile id (muse-2, muse-s), optionally @ADDRESS, or lsl:NAME."
    ),
]
HrOption = Annotated[
    str | None,
    typer.Option(
        help="Heart device: a profile id (hrm, polar-h10), optionally @ADDRESS, or lsl:NAME."
    ),
]
AgeOption = Annotated[
    int | None, typer.Option(min=12, max=100, help="The resident's age in years (heart-rate zone).")
]
SubjectOption = Annotated[str, typer.Option(help="Pseudonymous code of the resident.")]
ProtocolOption = Annotated[str, typer.Option(help="Protocol name or YAML file.")]
NoRatingsOption = Annotated[
    bool, typer.Option("--no-ratings", help="Do not ask for craving ratings.")
]


@app.command()
def assess(
    subject: SubjectOption,
    eeg: EegOption = None,
    hr: HrOption = None,
    age: AgeOption = None,
    protocol: ProtocolOption = "cue-reactivity",
    no_ratings: NoRatingsOption = False,
    db: DbOption = None,
    devices_dir: DevicesDirOption = None,
    record: RecordOption = None,
    lsl_out: LslOutOption = False,
    as_json: JsonOption = False,
) -> None:
    """The assessment on real devices (Bluetooth or LSL), in real time."""
    _live(
        eeg,
        hr,
        subject=subject,
        age=age,
        protocol=protocol,
        db=db,
        devices_dir=devices_dir,
        no_ratings=no_ratings,
        as_json=as_json,
        record=record,
        lsl_out=lsl_out,
    )


@app.command("record")
def record_command(
    out: Annotated[Path, typer.Option("--out", help="The XDF file to write.")],
    subject: SubjectOption,
    eeg: EegOption = None,
    hr: HrOption = None,
    age: AgeOption = None,
    protocol: ProtocolOption = "cue-reactivity",
    no_ratings: NoRatingsOption = False,
    db: DbOption = None,
    devices_dir: DevicesDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a session from real devices to XDF (scored and stored like ``assess``)."""
    assess(subject, eeg, hr, age, protocol, no_ratings, db, devices_dir, out, False, as_json)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="An XDF, Muse CSV or EDF recording.")],
    speed: Annotated[
        float,
        typer.Option(
            help="Recorded seconds per wall second (default: as fast as possible).",
            show_default=False,
        ),
    ] = math.inf,
    subject: Annotated[str, typer.Option(help="Pseudonymous code to store it under.")] = "REPLAY",
    age: AgeOption = None,
    protocol: Annotated[
        str | None,
        typer.Option(help="Protocol (default: the one the recording ran, else cue-reactivity)."),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="xdf, csv or edf (default: from the suffix).")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="FILE_CHANNEL=OURS, e.g. Af7.=AF7 (repeat).")
    ] = None,
    db: DbOption = None,
    lsl_out: LslOutOption = False,
    as_json: JsonOption = False,
) -> None:
    """Play a recording back through the live pipeline, at any speed."""
    from addiction_index.devices._replay import ReplaySource
    from addiction_index.devices._replay_formats import load_recording
    from addiction_index.sessions import run_assessment
    from addiction_index.sessions._replay_session import (
        RecordedRater,
        recorded_protocol,
        without_protocol_markers,
    )
    from addiction_index.signals import SimulatedClock

    if not speed > 0:
        raise typer.BadParameter(f"--speed {speed} must be above 0", param_hint="--speed")
    mapping = {}
    for item in channel or []:
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs or not ours:
            raise typer.BadParameter(
                f"{item!r}: expected FILE_CHANNEL=OURS", param_hint="--channel"
            )
        mapping[theirs] = ours

    async def go(view: Any, sinks: list) -> Any:
        recording = load_recording(file, fmt=fmt, channel_map=mapping or None)
        clock = SimulatedClock(speed)
        source = ReplaySource(
            without_protocol_markers(recording), clock, linger_s=0, t0=recording.t0
        )
        return await run_assessment(
            [source],
            clock,
            subject=subject,
            age=age,
            protocol=protocol or recorded_protocol(recording) or "cue-reactivity",
            db=db,
            rater=RecordedRater(recording.markers),
            sinks=sinks,
            on_runner=view.attach if view else None,
        )

    _session(go, as_json=as_json, lsl_out=lsl_out)


@lsl_app.command("list")
def lsl_list(
    wait: Annotated[float, typer.Option(min=0.1, help="Seconds to listen.")] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """LSL streams on the network, usable as sources (--eeg lsl:NAME)."""
    from rich.table import Table

    from addiction_index.devices._factory import require_lsl

    try:
        require_lsl()
        from addiction_index.devices._lsl import list_lsl_streams

        streams = list_lsl_streams(wait)
    except AddictionIndexError as exc:
        _fail(exc)
    rows = [s.to_dict() for s in streams]
    if as_json:
        _dump({"streams": rows})
        return
    table = Table(title=f"LSL streams seen in {wait:g} s", title_justify="left")
    for col in ("name", "type", "channel_count", "nominal_rate", "source_id", "hostname"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            *(
                str(r[c])
                for c in ("name", "type", "channel_count", "nominal_rate", "source_id", "hostname")
            )
        )
    Console().print(table)


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


def _profiles(devices_dir: Path | None) -> list:
    from addiction_index.devices import list_profiles, load_profile

    return [load_profile(name, devices_dir) for name in list_profiles(devices_dir)]


@devices_app.command("list")
def devices_list(devices_dir: DevicesDirOption = None, as_json: JsonOption = False) -> None:
    """The device profiles this installation knows (one TOML per wearable)."""
    from rich.table import Table

    try:
        profiles = _profiles(devices_dir)
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
    devices_dir: DevicesDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Nearby supported devices: name, kind, address, signal strength."""
    from rich.table import Table

    from addiction_index.devices._ble_transport import scan

    try:
        found = asyncio.run(scan(_profiles(devices_dir), timeout))
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
