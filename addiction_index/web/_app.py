"""The centre's web app: :func:`create_app` builds it around one store opened for its lifetime.

Pages are Jinja2 templates and the package's own static files (nothing from the internet); the
JSON API lives under ``/api`` with its OpenAPI schema at ``/openapi.json`` (for signed-in
staff). Errors show generic pages, and the access log names the route template, never the URL,
query string or body (see :class:`_GuardMiddleware`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.i18n import N_, normalise
from addiction_index.store import open_store
from addiction_index.store._exercise_log import ExerciseLog
from addiction_index.web._auth import LoginThrottle, WebSettings, purge_expired, require_access
from addiction_index.web._db import ensure_tables
from addiction_index.web._health import health_report
from addiction_index.web._i18n import LANG_COOKIE, install, tr
from addiction_index.web._live_hub import LiveHub
from addiction_index.web._models import Health
from addiction_index.web._warmup import warm_up

__all__ = ["create_app"]

HERE = Path(__file__).parent
logger = logging.getLogger("addiction_index.web")
access_logger = logging.getLogger("addiction_index.web.access")

_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip
_GENERIC = {
    400: N_("The request could not be understood."),
    401: N_("Please sign in."),
    403: N_("Your role does not give access to this page."),
    404: N_("There is nothing here."),
    405: N_("This method is not allowed here."),
    422: N_("Some fields are missing or invalid."),
    429: N_("Too many attempts; please wait a little and try again."),
    500: N_("Something went wrong on the server. The error has been logged without personal data."),
    503: N_("A required service is unavailable."),
}
_FAILED = N_("The request failed.")


def _lang_cookie(scope: Scope) -> bytes | None:
    """The Set-Cookie header of a ``?lang=`` link (None without one or for an unknown language)."""
    for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
        key, _, value = pair.partition("=")
        if key == "lang" and value:
            try:
                lang = normalise(value)
            except ValueError:
                return None
            return f"{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax".encode()
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"


class _GuardMiddleware:
    """Security headers and no-store caching on every response, an access log line naming the
    route template (never the path, query string, body or client address), and a generic 500
    page for any unhandled exception, logged by type and frame locations only (no message,
    no source text, no locals)."""

    def __init__(self, app: ASGIApp, templates: Jinja2Templates) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers += _HEADERS
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                    cookie = _lang_cookie(scope)
                    if cookie:
                        headers.append((b"set-cookie", cookie))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            error_id = secrets.token_hex(4)
            frames = "\n".join(  # where only: no message, no source text, no locals
                f"  {f.filename}:{f.lineno} in {f.name}"
                for f in traceback.extract_tb(exc.__traceback__)
            )
            logger.error(
                "unhandled %s on %s %s (error %s); frames:\n%s",
                type(exc).__name__, scope["method"], _route_template(scope), error_id, frames,
            )  # fmt: skip
            if state["status"]:  # the response had started: nothing more can be sent
                return
            response = _error_response(scope, 500, self.templates, error_id)
            await response(scope, receive, send_wrapper)
        finally:
            access_logger.info(
                "%s %s %d %.0f ms", scope["method"], _route_template(scope), state["status"],
                1000 * (time.perf_counter() - started),
            )  # fmt: skip


def _error_response(
    scope: Scope, status_code: int, templates: Jinja2Templates, error_id: str | None = None
) -> Response:
    message = _GENERIC.get(status_code, _FAILED)
    if scope["path"].startswith("/api/") or scope["path"] == "/openapi.json":
        body: dict[str, Any] = {"detail": message}  # the API stays in English
        if error_id:
            body["error_id"] = error_id
        return JSONResponse(body, status_code=status_code)
    request = Request(scope)
    message = tr(request)(message)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status_code": status_code, "message": message, "error_id": error_id, "user": None,
         "csrf": "", "statement": None},
        status_code=status_code,
    )  # fmt: skip


def create_app(db: str | None = None, *, settings: WebSettings | None = None) -> FastAPI:
    """The web app on the store ``db`` (a file, a URL, or None for the usual default).

    The store is opened when the app starts (lifespan) and closed when it stops.
    """
    from addiction_index.web._identity import load_identity_keys
    from addiction_index.web._routes_aftercare import router as aftercare_router
    from addiction_index.web._routes_api import router as api_router
    from addiction_index.web._routes_decisions import router as decisions_router
    from addiction_index.web._routes_live import router as live_router
    from addiction_index.web._routes_pages import login_router
    from addiction_index.web._routes_pages import router as pages_router

    settings = settings or WebSettings()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    install(templates.env)  # gettext of each request's language, locale filters
    templates.env.globals.update(NOT_A_DIAGNOSIS=NOT_A_DIAGNOSIS, version=__version__)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(db)
        try:
            ensure_tables(store)
            purge_expired(store, settings)
            app.state.store = store
            app.state.started = time.monotonic()
            app.state.throttle = LoginThrottle(
                store, settings.max_login_failures, settings.lockout_base_s, settings.lockout_max_s
            )
            app.state.exercise = ExerciseLog(store)
            app.state.identity_keys = None
            app.state.load_identity_keys = lambda: load_identity_keys(
                settings.identity_key, settings.identity_key_file
            )
            # live sessions open the same database (the URL with its password, not the masked one)
            app.state.hub = LiveHub(
                store.engine.url.render_as_string(hide_password=False), app.state.exercise
            )
            if settings.warm_up:
                await asyncio.to_thread(warm_up)
            logger.info("web app started on store %s", store.url)
            yield
        finally:
            if getattr(app.state, "hub", None) is not None:
                await app.state.hub.close()
            store.close()

    app = FastAPI(
        title="addiction-index centre",
        version=__version__,
        description="The centre's web app and JSON API. " + NOT_A_DIAGNOSIS,
        lifespan=lifespan,
        docs_url=None,  # the Swagger/ReDoc pages load scripts from a CDN: not offline
        redoc_url=None,
        openapi_url=None,  # served by an authenticated route instead
    )
    app.state.settings = settings
    app.state.templates = templates

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and not request.url.path.startswith("/api/"):
            return templates.TemplateResponse(
                request, "login.html", {"user": None, "csrf": "", "error": None,
                                        "statement": None}, status_code=401,
            )  # fmt: skip
        response = _error_response(request.scope, exc.status_code, templates)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # only where, never the values sent (they may be personal details)
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": _GENERIC[422], "fields": fields}, status_code=422)
        return _error_response(request.scope, 422, templates)

    app.include_router(login_router)
    app.include_router(pages_router)
    app.include_router(decisions_router)
    app.include_router(live_router)
    app.include_router(aftercare_router)
    app.include_router(api_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(_GuardMiddleware, templates=templates)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_access)])
    def openapi() -> JSONResponse:
        """The OpenAPI schema (signed-in staff only)."""
        return JSONResponse(app.openapi())

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> JSONResponse:
        """No sign-in, no personal data: database, disk space, live sessions, last backup,
        version and uptime; 200 for ok and warning, 503 for error (see ``_health``)."""
        from addiction_index.resources import data_root

        report, status_code = health_report(app.state, data_root())
        return JSONResponse(report.model_dump(mode="json"), status_code=status_code)

    return app
