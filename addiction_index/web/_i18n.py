"""The web app's language: per request, from the server's setting or the browser.

:func:`lang_of` picks the language of a request (``WebSettings.lang`` when the server was started
with ``--lang``, else the ``lang`` cookie set by a ``?lang=`` link, else ``Accept-Language``).
:func:`install` adds Jinja2's i18n extension to an environment with gettext callables that read
``lang`` from the template context, so one environment serves both languages at once, plus
locale filters (``fdate``, ``fdatetime``, ``num``, ``pct``) and ``t``, which translates a
word that comes from the data (a role, a status).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from starlette.requests import HTTPConnection

from addiction_index import i18n

LANG_COOKIE = "lang"


def lang_of(request: HTTPConnection) -> str:
    """The language of ``request`` (cached on ``request.state``)."""
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    lang = i18n.DEFAULT_LANG
    settings = getattr(request.app.state, "settings", None)
    forced = getattr(settings, "lang", None)
    try:
        if forced:
            lang = i18n.normalise(forced)
        elif request.query_params.get("lang") or request.cookies.get(LANG_COOKIE):
            lang = i18n.normalise(
                request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
            )
        else:
            lang = i18n.negotiate(request.headers.get("accept-language"))
    except ValueError:
        lang = i18n.negotiate(request.headers.get("accept-language"))
    request.state.lang = lang
    return lang


def tr(request: HTTPConnection) -> Any:
    """The ``gettext`` function of the request's language (bind it to ``_`` for extraction)."""
    return i18n.translator(lang_of(request)).gettext


def _lang(context: Any) -> str:
    lang = context.get("lang")
    if lang:
        return lang
    request = context.get("request")
    return lang_of(request) if request is not None else i18n.DEFAULT_LANG


@pass_context
def _gettext(context: Any, message: str) -> str:
    return i18n.translator(_lang(context)).gettext(message)


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return i18n.translator(_lang(context)).ngettext(singular, plural, n)


@pass_context
def _t(context: Any, value: Any) -> Any:
    """A value from the data (a role, a status, an exercise type) in the context's language; the
    words are marked in :mod:`addiction_index.web._vocabulary`. Anything else passes unchanged."""
    if not isinstance(value, str) or not value:
        return value
    return i18n.translator(_lang(context)).gettext(value)


@pass_context
def _fdate(context: Any, value: Any, fmt: str = "medium") -> str:
    return i18n.format_date(value, _lang(context), fmt)


@pass_context
def _fdatetime(context: Any, value: Any, fmt: str = "medium") -> str:
    return i18n.format_datetime(value, _lang(context), fmt)


@pass_context
def _num(context: Any, value: Any, digits: int | None = None) -> str:
    return i18n.format_decimal(value, _lang(context), digits)


@pass_context
def _pct(context: Any, value: Any, digits: int = 0) -> str:
    return i18n.format_percent(value, _lang(context), digits)


@pass_context
def _script_texts(context: Any, full: bool = False) -> dict[str, Any]:
    """The texts of the page's scripts: all of them on the live pages (``full``), else only
    app.js's (a coach's pages must not carry the words of the clinicians' pages)."""
    from addiction_index.web._vocabulary import script_texts

    texts = script_texts(_lang(context))
    if full:
        return texts
    return {"texts": {"idle_warning": texts["texts"]["idle_warning"]}}


@pass_context
def _page_lang(context: Any) -> str:
    return _lang(context)


def install(env: Environment) -> None:
    """Jinja2's i18n extension (newstyle gettext) and the locale filters on ``env``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(script_texts=_script_texts, page_lang=_page_lang)
    env.filters.update(t=_t, fdate=_fdate, fdatetime=_fdatetime, num=_num, pct=_pct)
