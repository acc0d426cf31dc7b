"""``addiction-index backup|retention|subject erase``: backups, retention and erasure."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from addiction_index._cli_common import DbOption, JsonOption, dump_json, fail
from addiction_index.errors import AddictionIndexError

__all__ = ["backup_app", "retention_app", "subject_app"]

backup_app = typer.Typer(help="Encrypted, verified backups and restores.", no_args_is_help=True)
retention_app = typer.Typer(
    help="The retention policy: what is kept how long.", no_args_is_help=True
)
subject_app = typer.Typer(help="A resident's data as a whole (erasure).", no_args_is_help=True)

BackupsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--backups-dir",
        help="Backups folder (default: $ADDICTION_INDEX_BACKUPS, else <data folder>/backups).",
        show_default=False,
    ),
]
RecordingsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--recordings-dir",
        help="Recordings folder (default: "
        "$ADDICTION_INDEX_RECORDINGS, else <data folder>/recordings).",
        show_default=False,
    ),
]


def _paths(backups: Path | None = None, recordings: Path | None = None) -> Any:
    from addiction_index.ops import OpsPaths

    return OpsPaths.default(backups, recordings)


def _show(data: dict[str, Any], title: str) -> None:
    table = Table(title=title, show_header=False)
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        table.add_row(key, str(value))
    Console().print(table)


@backup_app.command("key")
def key_command(as_json: JsonOption = False) -> None:
    """Create the backup key file (0600). Keep a copy offline: without it no backup opens."""
    from addiction_index.ops import create_key_file

    paths = _paths()
    try:
        ident = create_key_file(paths.key_file)
    except AddictionIndexError as exc:
        fail(exc)
    data = {"key_file": str(paths.key_file), "key_id": ident}
    if as_json:
        dump_json(data)
        return
    Console().print(
        f"backup key {ident} written to {paths.key_file}\n[bold yellow]Copy it somewhere "
        "safe and offline now (not with the backups): a lost key makes every backup made "
        "with it unreadable.[/]"
    )


@backup_app.command("create")
def create_command(
    db: DbOption = None,
    backups_dir: BackupsDirOption = None,
    recordings_dir: RecordingsDirOption = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the restore test (not advised).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Back up the database and recordings (online, while sessions run), then verify it."""
    from addiction_index.ops import create_backup

    try:
        report = create_backup(
            db,
            paths=_paths(backups_dir, recordings_dir),
            verify=not no_verify,
            progress=not as_json,
        )
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(report)
        return
    database = report["database"]
    _show(
        {
            "file": report["file"],
            "size": f"{report['bytes'] / 1e6:.1f} MB",
            "database": f"{database['kind']} at revision {database['revision']}",
            "sessions": f"{database['sessions']} ({database['running_sessions']} running)",
            "residents": database["residents"],
            "recordings": report["recordings"]["files"],
            "backup time": f"{report['backup_seconds']:.1f} s",
            "verified": "yes, by restoring into a scratch copy"
            if "verify" in report
            else "no (--no-verify)",
        },
        "backup",
    )


@backup_app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="The backup file.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decrypt, check every hash, restore into a scratch place and compare row counts."""
    from addiction_index.ops import verify_backup

    try:
        report = verify_backup(file, db=db)
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(report)
    else:
        _show(report, "backup verified")


@backup_app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="The backup file.")],
    db: DbOption = None,
    recordings_dir: RecordingsDirOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database or recordings with data.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup (database and recordings); stop the server first."""
    from addiction_index.ops import restore_backup

    try:
        report = restore_backup(file, db=db, paths=_paths(None, recordings_dir), force=force)
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(report)
    else:
        report["tables"] = sum(report["tables"].values())
        _show(report, "restored (rows in 'tables')")


@backup_app.command("list")
def list_command(backups_dir: BackupsDirOption = None, as_json: JsonOption = False) -> None:
    """The backups index: time, file, size, verified, erasures made since."""
    from addiction_index.ops import list_backups

    try:
        entries = list_backups(_paths(backups_dir))
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(entries)
        return
    table = Table(title="backups")
    for column in ("created", "file", "MB", "verified", "erasures since", "missing"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e["created_at"],
            Path(e["file"]).name,
            f"{e['bytes'] / 1e6:.1f}",
            str(e["verified"]),
            str(len(e.get("erased_since", []))),
            str(e["missing"]),
        )
    Console().print(table)


#: Optional (``-``) file with ADDICTION_INDEX_DB, ADDICTION_INDEX_DATA_DIR... for the timers.
ENV_FILE = "-/etc/addiction-index/ops.env"


def _schedule(command: str, name: str, on_calendar: str, cron: bool, as_json: bool) -> None:
    from addiction_index.ops import cron_line, service_unit, timer_unit

    data = {
        "service_file": f"/etc/systemd/system/{name}.service",
        "service": service_unit(command, environment_file=ENV_FILE),
        "timer_file": f"/etc/systemd/system/{name}.timer",
        "timer": timer_unit(on_calendar),
        "cron": cron_line(command),
    }
    if as_json:
        dump_json(data)
    elif cron:
        typer.echo(data["cron"])
    else:
        typer.echo(f"# {data['service_file']}\n{data['service']}")
        typer.echo(f"# {data['timer_file']}\n{data['timer']}")
        typer.echo(f"# then: systemctl daemon-reload && systemctl enable --now {name}.timer")


OnCalendarOption = Annotated[str, typer.Option("--on-calendar", help="systemd OnCalendar.")]
CronOption = Annotated[bool, typer.Option("--cron", help="Print a crontab line instead.")]


@backup_app.command("schedule")
def backup_schedule_command(
    on_calendar: OnCalendarOption = "*-*-* 02:30:00",
    cron: CronOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print a systemd service + timer (or a cron line) for nightly backups, to review."""
    _schedule(
        "addiction-index backup create --json", "addiction-index-backup", on_calendar, cron, as_json
    )


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy file (default: $ADDICTION_INDEX_RETENTION_POLICY, else the shipped one).",
        show_default=False,
    ),
]


@retention_app.command("apply")
def apply_command(
    db: DbOption = None,
    policy: PolicyOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete what the retention policy says is too old; counts per kind."""
    from addiction_index.ops import apply_retention, load_policy

    try:
        report = apply_retention(load_policy(policy), db=db, dry_run=dry_run)
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(report)
        return
    table = Table(title=f"retention{' (dry run: nothing deleted)' if dry_run else ''}")
    for column in ("kind", "older than", "deleted" if not dry_run else "would delete"):
        table.add_column(column)
    for kind, count in report["deleted"].items():
        table.add_row(kind, report["cutoffs"].get(kind) or "-", str(count))
    Console().print(table)


@retention_app.command("check")
def check_command(policy: PolicyOption = None, as_json: JsonOption = False) -> None:
    """Validate a policy file and show it."""
    from addiction_index.ops import load_policy

    try:
        loaded = load_policy(policy)
    except AddictionIndexError as exc:
        fail(exc)
    data = {
        "policy": loaded.source,
        "keep_days": loaded.keep_days,
        "backups_keep_at_least": loaded.backups_keep_at_least,
    }
    if as_json:
        dump_json(data)
    else:
        _show(data, "retention policy")


@retention_app.command("schedule")
def retention_schedule_command(
    on_calendar: OnCalendarOption = "*-*-* 03:30:00",
    cron: CronOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print a systemd service + timer (or a cron line) applying the policy nightly."""
    _schedule(
        "addiction-index retention apply --json",
        "addiction-index-retention",
        on_calendar,
        cron,
        as_json,
    )


@subject_app.command("erase")
def erase_command(
    code: Annotated[str, typer.Argument(help="The resident's pseudonymous code.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="resident-request, consent-withdrawn, retention-expired, "
            "legal-order or entered-in-error (no free text: it could name the person).",
        ),
    ],
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to confirm.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a resident's data everywhere (database, recordings, exports), audited."""
    from addiction_index.ops import ERASURE_REASONS, erase_subject

    if reason not in ERASURE_REASONS:
        raise typer.BadParameter(
            f"{reason!r}: one of {', '.join(ERASURE_REASONS)}", param_hint="--reason"
        )
    if not (dry_run or yes or as_json) and not typer.confirm(
        "Erase this resident everywhere? This cannot be undone"
    ):
        raise typer.Exit(code=1)
    try:
        report = erase_subject(code, reason, db=db, actor=getpass.getuser(), dry_run=dry_run)
    except AddictionIndexError as exc:
        fail(exc)
    if as_json:
        dump_json(report)
    else:
        _show(report, "erasure" + (" (dry run: nothing changed)" if dry_run else ""))
