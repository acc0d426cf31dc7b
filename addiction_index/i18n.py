"""English and Simplified Chinese: message catalogues (gettext via Babel) and locale formatting.

The catalogue is ``addiction_index/locales/zh_CN/LC_MESSAGES/messages.po``; it is compiled in
memory on first use (``babel.messages.mofile``), so no ``.mo`` file has to be built or committed
and an editable install and a wheel behave the same. English is the source language (msgid).

Mark strings with ``_()`` / ``ngettext()`` in Python and ``{% trans %}`` / ``_()`` in templates;
strings kept in module-level tables are marked with :func:`N_` and translated where shown.
Units (bpm, µV, ms, min) stay symbols; only their numbers are formatted for the locale.
"""

from __future__ import annotations

import gettext as _gettext
import os
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANG",
    "LANGUAGES",
    "NOT_A_DIAGNOSIS",
    "N_",
    "babel_locale",
    "env_lang",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_percent",
    "format_unit",
    "gettext",
    "negotiate",
    "ngettext",
    "normalise",
    "not_a_diagnosis",
    "translator",
]

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANG = "en"
LANGUAGES = ("en", "zh-CN")  # BCP 47 tags, as in <html lang> and the instruments' texts
_BABEL = {"en": "en", "zh-CN": "zh_Hans_CN"}
_CATALOGUE = {"zh-CN": "zh_CN"}
_ALIASES = {
    "en": "en", "en-us": "en", "en-gb": "en", "zh": "zh-CN", "zh-cn": "zh-CN",
    "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN",
}  # fmt: skip


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate where it is shown)."""
    return message


# The statement every page and report carries (addiction_index.NOT_A_DIAGNOSIS), marked here
# because that module stays free of imports; a test checks the two are the same text.
NOT_A_DIAGNOSIS = N_(
    "Scores are for research and decision support, not diagnosis. "
    "The default index is not clinically validated."
)


def not_a_diagnosis(lang: str | None) -> str:
    """The not-a-diagnosis statement in ``lang``."""
    return gettext(lang, NOT_A_DIAGNOSIS)


def normalise(lang: str | None) -> str:
    """``lang`` as one of :data:`LANGUAGES` (``zh_CN``, ``zh-cn``, ``zh-Hans``, ``zh`` → ``zh-CN``;
    None or '' → English); ValueError for a language without a catalogue."""
    if not lang:
        return DEFAULT_LANG
    key = lang.strip().replace("_", "-").split(".")[0].lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("en-"):
        return "en"
    raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")


def env_lang() -> str:
    """The language of the command line: ``$ADDICTION_INDEX_LANG``, else English (``$LANG`` is
    not used: a Chinese desktop should not change scripted output unless asked)."""
    try:
        return normalise(os.environ.get("ADDICTION_INDEX_LANG"))
    except ValueError:
        return DEFAULT_LANG


@cache
def translator(lang: str | None) -> _gettext.NullTranslations:
    """The gettext translations of ``lang`` (English: the identity)."""
    lang = normalise(lang)
    if lang not in _CATALOGUE:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = LOCALES_DIR / _CATALOGUE[lang] / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=_CATALOGUE[lang])
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(lang: str | None, message: str) -> str:
    """``message`` in ``lang``."""
    return translator(lang).gettext(message)


def ngettext(lang: str | None, singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in ``lang``."""
    return translator(lang).ngettext(singular, plural, n)


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an HTTP ``Accept-Language`` header (English if none)."""
    from babel import negotiate_locale

    if not accept_language:
        return DEFAULT_LANG
    preferred: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            preferred.append((-q, i, tag.strip()))
    tags = [tag.replace("-", "_") for _, _, tag in sorted(preferred)]
    # Chinese as spoken in Guangdong, Hong Kong or written in "zh" alone: the simplified catalogue
    tags = [("zh_CN" if t.lower() in ("zh", "zh_hans", "zh_hans_cn") else t) for t in tags]
    found = negotiate_locale(tags, ["en", "zh_CN"], sep="_")
    return normalise(found) if found else DEFAULT_LANG


def babel_locale(lang: str | None) -> Any:
    """The :class:`babel.Locale` of ``lang``."""
    from babel import Locale

    return Locale.parse(_BABEL[normalise(lang)])


def _as_date(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        return (
            datetime.fromisoformat(text)
            if ("T" in text or " " in text)
            else date.fromisoformat(text)
        )
    return value


def format_date(value: date | datetime | str | None, lang: str | None, fmt: str = "medium") -> str:
    """A date for ``lang`` (``2026年11月23日`` / ``Nov 23, 2026``); ISO strings are accepted."""
    if value is None or value == "":
        return ""
    from babel.dates import format_date as _format_date

    parsed = _as_date(value)
    if isinstance(parsed, datetime):
        parsed = parsed.date()
    return _format_date(parsed, format=fmt, locale=babel_locale(lang))


def format_datetime(
    value: datetime | str | None, lang: str | None, fmt: str = "medium", tz: str = "UTC"
) -> str:
    """A date and time for ``lang`` (in ``tz``, UTC by default as on the reports)."""
    if value is None or value == "":
        return ""
    from babel.dates import format_datetime as _format_datetime

    parsed = _as_date(value)
    if not isinstance(parsed, datetime):
        parsed = datetime(parsed.year, parsed.month, parsed.day)
    return _format_datetime(parsed, format=fmt, tzinfo=tz, locale=babel_locale(lang))


def format_decimal(value: float | int | None, lang: str | None, digits: int | None = None) -> str:
    """A number for ``lang``, with ``digits`` decimals when given ('—' for None)."""
    if value is None:
        return "—"
    from babel.numbers import format_decimal as _format_decimal

    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return _format_decimal(value, format=pattern, locale=babel_locale(lang))


def format_percent(value: float | None, lang: str | None, digits: int = 0) -> str:
    """A fraction (0.42) as a percentage for ``lang`` ('—' for None)."""
    if value is None:
        return "—"
    from babel.numbers import format_percent as _format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _format_percent(value, format=pattern, locale=babel_locale(lang))


def format_unit(value: float | None, unit: str, lang: str | None, digits: int = 0) -> str:
    """A number with a unit symbol kept as is (``72 bpm``, ``12.5 µV``); '—' for None."""
    if value is None:
        return "—"
    return f"{format_decimal(value, lang, digits)} {unit}"
