"""Dates as centres write them: ``2026-12-01``, ``2026/12/01``, ``2026.12.01``, ``2026年12月1日``.

Year first only: ``01/12/2026`` is refused as ambiguous (1 December or January 12?). Months and
days may have one or two digits; spaces around the parts are allowed.
"""

from __future__ import annotations

import re
from datetime import date, datetime

__all__ = ["ACCEPTED_DATE_FORMATS", "parse_date"]

ACCEPTED_DATE_FORMATS = ("2026-12-01", "2026/12/01", "2026.12.01", "2026年12月1日")

_YEAR_FIRST = re.compile(r"^\s*(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*$")
_CHINESE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?\s*$")
_DAY_FIRST = re.compile(r"^\s*\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}\s*$")


def parse_date(value: object) -> date:
    """``value`` as a date; ValueError saying which formats are accepted."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip() if value is not None else ""
    accepted = ", ".join(ACCEPTED_DATE_FORMATS)
    if not text:
        raise ValueError(f"no date (expected a date like {accepted})")
    found = _YEAR_FIRST.match(text) or _CHINESE.match(text)
    if found is None:
        if _DAY_FIRST.match(text):
            raise ValueError(f"'{text}' is ambiguous (day or month first?): write the year first, "
                             f"like {accepted}")  # fmt: skip
        raise ValueError(f"'{text}' is not a date (expected a date like {accepted})")
    year, month, day = (int(p) for p in found.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a date: {exc}") from None
