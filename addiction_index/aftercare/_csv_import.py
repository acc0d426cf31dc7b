"""Import a centre's spreadsheet (CSV) of releases and follow-up contacts, through a column mapping.

One CSV row is a release (subject, release date, station, consent) and, optionally, one contact
after it (date, mode, status, test): a release with several contacts takes several rows that
repeat the release columns. The mapping (YAML, validated: errors name file, line and key) names
the CSV column of each field, translates the spreadsheet's words into the vocabulary
(``values``) and gives defaults for absent or empty cells (``defaults``); see
``instruments/import-mapping.example.yaml``.

All or nothing: every row is checked first (and checked against the database: a release already
recorded with another station is an error), every bad row reported with its row number (the
spreadsheet's: the header is row 1), column and reason, and only a file without errors is
written, in one transaction. Re-importing the same file adds nothing: known releases are reused
and identical contacts skipped. Dates: see :mod:`addiction_index.aftercare._dates`.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from addiction_index.aftercare._dates import parse_date
from addiction_index.aftercare._followup_store import (
    Contact,
    Release,
    check_contact,
    write_contact,
    write_release,
)
from addiction_index.aftercare._intake_store import who
from addiction_index.datafiles import load_yaml
from addiction_index.errors import InputError
from addiction_index.store import SessionStore
from addiction_index.store._aftercare_schema import FollowupContactRecord, ReleaseRecord
from addiction_index.store._schema import Subject

__all__ = ["ImportMapping", "ImportReport", "RowError", "import_followups", "load_mapping"]

Field_ = Literal[
    "subject", "release_date", "station", "consent", "consent_date",
    "contact_date", "mode", "status", "test",
]  # fmt: skip
REQUIRED = ("subject", "release_date", "station")
_YES = {"true", "yes", "y", "1", "是", "同意"}
_NO = {"false", "no", "n", "0", "否", "不同意"}


class ImportMapping(BaseModel):
    """The mapping file: CSV columns, value translations and defaults of each field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: Annotated[str, Field(min_length=1)] = "utf-8-sig"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    columns: dict[Field_, Annotated[str, Field(min_length=1)]]
    values: dict[Literal["mode", "status", "test", "consent"], dict[str, str | bool]] = {}
    defaults: dict[Literal["station", "consent", "mode", "test"], str | bool] = {}

    @model_validator(mode="after")
    def _required(self) -> ImportMapping:
        missing = [f for f in REQUIRED if f not in self.columns]
        if missing:
            raise ValueError(f"columns must map {', '.join(missing)}")
        return self


def load_mapping(path: str | os.PathLike[str]) -> ImportMapping:
    """Load and validate a mapping file (a ConfigError names the file, the line and the key)."""
    return load_yaml(Path(path), ImportMapping)


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row number (header = 1), column name and reason."""

    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """What an import did, or every reason it did nothing."""

    file: str
    rows: int = 0
    releases_added: int = 0
    releases_existing: int = 0
    contacts_added: int = 0
    contacts_skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        """True when the file was written (no errors)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return asdict(self) | {"imported": self.imported}


@dataclass
class _Row:
    number: int
    release: Release
    contact: Contact | None


def _read(path: Path, mapping: ImportMapping) -> list[tuple[int, dict[str, str]]] | RowError:
    try:
        text = path.read_text(encoding=mapping.encoding)
    except UnicodeDecodeError as exc:
        reason = f"the file is not {mapping.encoding} text ({exc.reason}): set `encoding` in "
        return RowError(1, "", reason + "the mapping (e.g. gb18030 for Excel files saved in China)")
    except (OSError, LookupError) as exc:
        raise InputError("file", str(path), f"a readable CSV file ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    absent = [c for c in mapping.columns.values() if c not in header]
    if absent:
        return RowError(
            1, ", ".join(absent), "not in the header (columns: " + ", ".join(header) + ")"
        )
    rows = []
    for record in reader:
        cells = {k: (v or "").strip() for k, v in record.items() if k is not None}
        if any(cells.values()):
            rows.append((reader.line_num, cells))
    return rows


def _cell(mapping: ImportMapping, cells: dict[str, str], name: str) -> str:
    column = mapping.columns.get(name)  # type: ignore[call-overload]
    return cells.get(column, "") if column else ""


def _word(mapping: ImportMapping, name: str, text: str, allowed: tuple[str, ...]) -> str:
    translated = mapping.values.get(name, {}).get(text, text)  # type: ignore[call-overload]
    if not text:
        translated = mapping.defaults.get(name, "")  # type: ignore[call-overload]
    if translated not in allowed:
        known = list(allowed) + list(mapping.values.get(name, {}))  # type: ignore[call-overload]
        shown = f"'{text}'" if text else "empty (and no default in the mapping)"
        raise ValueError(f"{shown} is not one of {', '.join(known)}")
    return str(translated)


def _yes_no(mapping: ImportMapping, text: str) -> bool:
    if not text:
        return bool(mapping.defaults.get("consent", False))
    value = mapping.values.get("consent", {}).get(text, text)
    if isinstance(value, bool):
        return value
    if value.casefold() in _YES:
        return True
    if value.casefold() in _NO:
        return False
    raise ValueError(f"'{text}' is not yes or no")


def _parse_row(
    mapping: ImportMapping, number: int, cells: dict[str, str], errors: list[RowError]
) -> _Row | None:
    from addiction_index.store._aftercare_schema import (
        CONTACT_MODES,
        CONTACT_STATUSES,
        TEST_RESULTS,
    )
    from addiction_index.store._schema import check_subject_code

    before = len(errors)
    column = mapping.columns

    def check(name: str, parse: Any) -> Any:
        try:
            return parse()
        except (ValueError, InputError) as exc:
            reason = exc.expected if isinstance(exc, InputError) else str(exc)
            if isinstance(exc, InputError):
                reason = f"'{exc.value}' is not {reason}"
            errors.append(RowError(number, column.get(name, name), reason))  # type: ignore[call-overload]
            return None

    subject = check("subject", lambda: check_subject_code(_cell(mapping, cells, "subject")))
    released = check("release_date", lambda: parse_date(_cell(mapping, cells, "release_date")))
    station = _cell(mapping, cells, "station") or str(mapping.defaults.get("station", ""))
    if not station or len(station) > 128:
        errors.append(
            RowError(number, column["station"], "no receiving station (1-128 characters)")
        )
    consent = check("consent", lambda: _yes_no(mapping, _cell(mapping, cells, "consent")))
    consent_text = _cell(mapping, cells, "consent_date")
    consent_date = check("consent_date", lambda: parse_date(consent_text)) if consent_text else None
    contact_text = _cell(mapping, cells, "contact_date")
    contact = None
    if contact_text:
        on = check("contact_date", lambda: parse_date(contact_text))
        mode = check(
            "mode", lambda: _word(mapping, "mode", _cell(mapping, cells, "mode"), CONTACT_MODES)
        )
        status = check(
            "status",
            lambda: _word(mapping, "status", _cell(mapping, cells, "status"), CONTACT_STATUSES),
        )
        test = check(
            "test", lambda: _word(mapping, "test", _cell(mapping, cells, "test"), TEST_RESULTS)
        )
        if on is not None and released is not None and on < released:
            errors.append(
                RowError(
                    number,
                    column["contact_date"],
                    f"{on.isoformat()} is before the release ({released.isoformat()})",
                )
            )
        if len(errors) == before:
            contact = check_contact(Contact(subject, on, mode, status, test))
    elif any(_cell(mapping, cells, f) for f in ("mode", "status", "test")):
        errors.append(
            RowError(
                number,
                column.get("contact_date", "contact_date"),
                "a contact's mode, status or test without its date",
            )
        )
    if len(errors) > before:
        return None
    release = Release(subject, released, station, bool(consent), consent_date)
    if consent_date is not None and not consent:
        errors.append(RowError(number, column["consent_date"], "a consent date without consent"))
        return None
    return _Row(number, release, contact)  # fmt: skip


def import_followups(
    store: SessionStore,
    path: str | os.PathLike[str],
    mapping: ImportMapping,
    *,
    by: str | None = None,
) -> ImportReport:
    """Check every row of the CSV at ``path``, then write all of it in one transaction, or
    nothing when any row is bad (the report lists every bad row)."""
    path = Path(path)
    report = ImportReport(file=path.name)
    read = _read(path, mapping)
    if isinstance(read, RowError):
        report.errors.append(read)
        return report
    report.rows = len(read)
    rows = [r for number, cells in read if (r := _parse_row(mapping, number, cells, report.errors))]
    releases: dict[tuple[str, date], tuple[int, Release]] = {}
    for row in rows:
        key = (row.release.subject, row.release.release_date)
        first = releases.setdefault(key, (row.number, row.release))
        if first[1] != row.release:
            report.errors.append(RowError(row.number, mapping.columns["station"],
                f"release of {key[0]} on {key[1].isoformat()} differs from row {first[0]} "
                "(station or consent)"))  # fmt: skip
    person = who(by)
    with store._transaction("importing follow-up records") as session:
        existing: dict[tuple[str, date], ReleaseRecord] = {}
        for (subject, day), (number, release) in releases.items():
            found = session.scalar(
                select(ReleaseRecord).join(Subject, Subject.id == ReleaseRecord.subject_id)
                .where(Subject.code == subject, ReleaseRecord.release_date == day)
            )  # fmt: skip
            if found is None:
                continue
            existing[(subject, day)] = found
            if found.station != release.station:
                report.errors.append(RowError(number, mapping.columns["station"],
                    f"{subject} released {day.isoformat()} is already recorded with station "
                    f"'{found.station}', not '{release.station}'"))  # fmt: skip
        if report.errors:
            report.errors.sort(key=lambda e: (e.row, e.column))
            session.rollback()
            return report
        made: dict[tuple[str, date], ReleaseRecord] = dict(existing)
        for key, (_, release) in releases.items():
            if key not in made:
                made[key] = write_release(session, release, person, "import")
                report.releases_added += 1
        report.releases_existing = len(existing)
        for row in rows:
            if row.contact is None:
                continue
            release_record = made[(row.release.subject, row.release.release_date)]
            c = row.contact
            duplicate = session.scalar(
                select(FollowupContactRecord.id).where(
                    FollowupContactRecord.release_id == release_record.id,
                    FollowupContactRecord.contact_date == c.contact_date,
                    FollowupContactRecord.mode == c.mode,
                    FollowupContactRecord.status == c.status,
                    FollowupContactRecord.test == c.test,
                )
            )
            if duplicate is not None:
                report.contacts_skipped += 1
                continue
            write_contact(session, c, person, "import", release=release_record)
            report.contacts_added += 1
    return report
