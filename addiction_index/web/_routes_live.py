"""Live pages and their WebSockets: a clinician's assessment and cue presenter, the coaches'
zone monitor, and the ratings a coach logs from a tablet after a session.

Every WebSocket checks the role (through :func:`require_access`, closing with 1008) and the
``Origin`` header (the same host, or the socket is closed with 1008 before it is accepted), so a
page on another site cannot open a socket with a signed-in user's cookie.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    Form,
    HTTPException,
    Path,
    Request,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    status,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from addiction_index.errors import AddictionIndexError, InputError
from addiction_index.sessions._exercise_target import exercise_target
from addiction_index.web._accounts import User
from addiction_index.web._audit import audit
from addiction_index.web._auth import CurrentUser, require_access
from addiction_index.web._common import (
    Code,
    CsrfUser,
    exercise_of,
    render,
    require_resident,
    store_of,
)
from addiction_index.web._i18n import tr
from addiction_index.web._live_hub import LiveHub, LiveSessionConflict
from addiction_index.web._views import awaiting_ratings, today_cards

__all__ = ["router"]

LiveId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,32}$")]
router = APIRouter(dependencies=[Depends(require_access)], include_in_schema=False)

_DEVICE_PATTERN = r"^([a-z0-9-]+(@[0-9A-Fa-f:-]{11,40})?|lsl:[\w .-]{1,64})?$"


def hub_of(request: Request | WebSocket) -> LiveHub:
    return request.app.state.hub


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _number(name: str, text: str, low: float, high: float, default: float | None = None) -> float:
    text = text.strip()
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise InputError(name, None, f"a number from {low:g} to {high:g}")
    return value


def _error_text(request: Request, exc: AddictionIndexError) -> str:
    """The message of a refused form, without the value sent (it may be personal); the frame
    in the request's language, what was expected and other errors' texts in English."""
    if isinstance(exc, InputError):
        _ = tr(request)
        return _("%(field)s: expected %(expected)s") % {
            "field": exc.argument,
            "expected": exc.expected,
        }
    return str(exc)


# -- assessments ----------------------------------------------------------------------------------
@router.get("/residents/{code}/assess", response_class=HTMLResponse)
def assess_form(request: Request, user: CurrentUser, code: Code) -> Response:
    """Start an assessment: simulated devices, or Bluetooth/LSL devices by their arguments."""
    store = store_of(request)
    require_resident(store, code)
    live = hub_of(request).live_assessment_of(code)
    return render(request, "assess_new.html", user, code=code, live=live, error=None)


@router.post("/residents/{code}/assess", response_class=HTMLResponse)
async def assess_start(
    request: Request,
    user: CsrfUser,
    code: Code,
    mode: Annotated[str, Form(pattern="^(simulated|devices)$")] = "simulated",
    craving: Annotated[str, Form(max_length=8)] = "",
    seed: Annotated[str, Form(max_length=12)] = "",
    speed: Annotated[str, Form(max_length=8)] = "",
    eeg: Annotated[str, Form(max_length=80, pattern=_DEVICE_PATTERN)] = "",
    hr: Annotated[str, Form(max_length=80, pattern=_DEVICE_PATTERN)] = "",
    age: Annotated[str, Form(max_length=8)] = "",
    protocol: Annotated[str, Form(pattern="^(cue-reactivity|demo)$")] = "cue-reactivity",
) -> Response:
    """Start the assessment and open its live page."""
    _ = tr(request)
    store = store_of(request)
    await asyncio.to_thread(require_resident, store, code)
    hub = hub_of(request)
    try:
        if mode == "simulated":
            live = hub.start_simulated_assessment(
                code,
                started_by=user.username,
                craving=_number("craving", craving, 0, 100, 50.0),
                seed=int(_number("seed", seed, 0, 2**31 - 1, 0.0)),
                speed=_number("speed", speed, 1, 100, 1.0),
            )
        else:
            if not eeg and not hr:
                raise InputError("devices", None, "an EEG headband or a heart-rate strap")
            live = hub.start_device_assessment(
                code,
                started_by=user.username,
                devices=[("eeg", eeg or None), ("hr", hr or None)],
                age=int(_number("age", age, 12, 100)) if age.strip() else None,
                protocol=protocol,
            )
    except LiveSessionConflict:
        live = hub.live_assessment_of(code)
        return render(
            request,
            "assess_new.html",
            user,
            status.HTTP_409_CONFLICT,
            code=code,
            live=live,
            error=_("An assessment of this resident is already running."),
        )
    except AddictionIndexError as exc:
        return render(
            request,
            "assess_new.html",
            user,
            422,
            code=code,
            live=None,
            error=_("Could not start:") + " " + _error_text(request, exc),
        )
    await asyncio.to_thread(
        audit,
        store,
        user.username,
        user.role,
        "assessment_started",
        "subject",
        code,
        {"live_id": live.live_id, "simulated": live.simulated},
    )
    return _see_other(f"/live/assessments/{live.live_id}")


def _live_assessment(request: Request, live_id: str) -> Any:
    live = hub_of(request).assessments.get(live_id)
    if live is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return live


@router.get("/live/assessments/{live_id}", response_class=HTMLResponse)
def assessment_page(request: Request, user: CurrentUser, live_id: LiveId) -> Response:
    """The live assessment: devices, signal quality, traces, block and time left, craving."""
    live = _live_assessment(request, live_id)
    return render(request, "live_assessment.html", user, live=live, statement=True)


@router.get("/live/assessments/{live_id}/cues", response_class=HTMLResponse)
def cue_presenter(request: Request, user: CurrentUser, live_id: LiveId) -> Response:
    """The cue presenter, for the resident's screen (full-screen on a second display)."""
    live = _live_assessment(request, live_id)
    return render(request, "cue_presenter.html", user, live=live)


@router.get("/live/assessments/{live_id}/cues/{cue_set}/{number}")
def cue_picture_file(
    request: Request,
    user: CurrentUser,
    live_id: LiveId,
    cue_set: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")],
    number: Annotated[int, Path(ge=1, le=10_000)],
) -> Response:
    """Cue ``number`` of ``cue_set`` for the presenter (a set of the live protocol only)."""
    from fastapi.responses import FileResponse

    from addiction_index.web._cue_pictures import cue_picture

    live = _live_assessment(request, live_id)
    if cue_set not in {b["cues"]["set"] for b in live.schedule() if b["cues"]}:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    picture = cue_picture(cue_set, number)
    if picture is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(picture)


@router.post("/live/assessments/{live_id}/stop")
async def assessment_stop(request: Request, user: CsrfUser, live_id: LiveId) -> Response:
    """Stop the assessment now: what was recorded is kept, the session marked interrupted."""
    live = _live_assessment(request, live_id)
    if live.task is not None and not live.task.done():
        live.task.cancel()
        await asyncio.gather(live.task, return_exceptions=True)
    await asyncio.to_thread(
        audit,
        store_of(request),
        user.username,
        user.role,
        "assessment_stopped",
        "subject",
        live.subject,
        {"live_id": live.live_id},
    )
    return _see_other(f"/live/assessments/{live.live_id}")


def _check_origin(websocket: WebSocket) -> None:
    """Refuse a socket opened from another site (the cookie would otherwise be enough)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if not origin or not host or origin not in (f"http://{host}", f"https://{host}"):
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "cross-origin socket")


async def _send_from(websocket: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await queue.get())


async def _serve_socket(
    websocket: WebSocket, channel: Any, first: list[dict[str, Any]], on_message: Any = None
) -> None:
    """Send ``first`` then every message of ``channel``; pass what the page sends to
    ``on_message`` (a dict, already parsed) until the socket closes."""
    with channel.subscribe() as queue:
        await websocket.accept()
        for message in first:
            await websocket.send_json(message)
        sender = asyncio.create_task(_send_from(websocket, queue))
        try:
            while True:
                text = await websocket.receive_text()
                if on_message is None or len(text) > 4096:
                    continue
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    reply = on_message(json.loads(text))
                    if reply is not None:
                        await websocket.send_json(reply)
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)


@router.websocket("/ws/assessments/{live_id}")
async def assessment_socket(websocket: WebSocket, user: CurrentUser, live_id: LiveId) -> None:
    """The live assessment's messages (see :mod:`addiction_index.web._live_assessment`); the
    page sends craving ratings, clock pings and the cues the presenter showed."""
    _check_origin(websocket)
    live = hub_of(websocket).assessments.get(live_id)
    if live is None:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "no such live assessment")
    await asyncio.to_thread(
        audit,
        websocket.app.state.store,
        user.username,
        user.role,
        "live_assessment_viewed",
        "subject",
        live.subject,
        {"live_id": live.live_id},
    )

    def on_message(message: dict[str, Any]) -> dict[str, Any] | None:
        kind = message.get("type")
        if kind == "ping":  # the presenter's clock synchronisation
            return {
                "type": "pong",
                "id": message.get("id"),
                "now_s": live.session_now(),
                "speed": live.speed,
            }
        if kind == "rating":
            value = message.get("value")
            if value is not None and not (isinstance(value, int | float) and 0 <= value <= 100):
                return {
                    "type": "rating_refused",
                    "moment": message.get("moment"),
                    "reason": "a rating is a number from 0 to 100",
                }
            live.answer_rating(str(message["moment"]), None if value is None else float(value))
        elif kind == "cue_shown":
            live.record_cue_shown(
                str(message["block"]),
                int(message["number"]),
                float(message["session_t"]),
                float(message["scheduled_s"]),
            )
        return None

    await _serve_socket(websocket, live.channel, [live.hello()], on_message)


# -- exercise -------------------------------------------------------------------------------------
@router.get("/exercise/live", response_class=HTMLResponse)
def exercise_monitor(request: Request, user: CurrentUser) -> Response:
    """The coaches' zone monitor: every live exercise session, and today's residents to start."""
    store = store_of(request)
    audit(store, user.username, user.role, "exercise_monitor_opened")
    return _monitor(request, user, 200, None)


@router.post("/residents/{code}/exercise", response_class=HTMLResponse)
async def exercise_start(
    request: Request,
    user: CsrfUser,
    code: Code,
    mode: Annotated[str, Form(pattern="^(simulated|device)$")] = "simulated",
    speed: Annotated[str, Form(max_length=8)] = "",
    seed: Annotated[str, Form(max_length=12)] = "",
    script: Annotated[str, Form(max_length=200)] = "",
    minutes: Annotated[str, Form(max_length=8)] = "",
    device: Annotated[str, Form(max_length=80, pattern=_DEVICE_PATTERN)] = "",
) -> Response:
    """Start a monitored exercise session on the resident's prescribed zone."""
    _ = tr(request)
    store = store_of(request)
    await asyncio.to_thread(require_resident, store, code)
    hub = hub_of(request)
    try:
        target = await asyncio.to_thread(
            exercise_target,
            exercise_of(request),
            code,
            minutes=_number("minutes", minutes, 1, 180) if minutes.strip() else None,
        )
        if mode == "device" and not device:
            raise InputError(
                "device", None, "a heart-rate strap (hrm, polar-h10@ADDRESS, lsl:NAME)"
            )
        live = hub.start_exercise(
            code,
            target,
            simulated=mode == "simulated",
            speed=_number("speed", speed, 1, 100, 1.0),
            seed=int(_number("seed", seed, 0, 2**31 - 1, 0.0)),
            script=script.strip(),
            device=device or None,
        )
    except LiveSessionConflict:
        return _monitor_error(request, user, _("An exercise session of this resident is running."))
    except AddictionIndexError as exc:
        return _monitor_error(
            request, user, _("Could not start:") + " " + _error_text(request, exc)
        )
    await asyncio.to_thread(
        audit,
        store,
        user.username,
        user.role,
        "exercise_started",
        "subject",
        code,
        {"live_id": live.live_id, "simulated": live.simulated},
    )
    return _see_other("/exercise/live")


def _monitor(request: Request, user: User, status_code: int, error: str | None) -> Response:
    """The monitor page: today's cards to start from, and the sessions awaiting ratings."""
    cards = today_cards(store_of(request))
    waiting = awaiting_ratings(exercise_of(request), [c["code"] for c in cards])
    return render(request, "exercise_monitor.html", user, status_code, cards=cards,
                  waiting=waiting, error=error)  # fmt: skip


def _monitor_error(request: Request, user: User, error: str) -> Response:
    return _monitor(request, user, 422, error)


@router.post("/exercise/live/{live_id}/stop")
async def exercise_stop(request: Request, user: CsrfUser, live_id: LiveId) -> Response:
    """The coach stops the session (a manual stop, recorded as such)."""
    live = hub_of(request).exercises.get(live_id)
    if live is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    live.stop.set()
    await asyncio.to_thread(
        audit,
        store_of(request),
        user.username,
        user.role,
        "exercise_stopped",
        "subject",
        live.subject,
        {"live_id": live.live_id},
    )
    return _see_other("/exercise/live")


@router.post("/exercise/{exercise_id}/ratings", response_class=HTMLResponse)
def exercise_ratings(
    request: Request,
    user: CsrfUser,
    exercise_id: int,
    rpe: Annotated[str, Form(max_length=4)] = "",
    post_craving: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Log the resident's RPE (Borg 6-20) and post-session craving (0-100) after a session."""
    _ = tr(request)
    store = store_of(request)
    try:
        rpe_value = int(_number("rpe", rpe, 6, 20)) if rpe.strip() else None
        if rpe.strip() and float(rpe) != rpe_value:
            raise InputError("rpe", None, "a whole number from 6 to 20")
        craving = _number("post_craving", post_craving, 0, 100) if post_craving.strip() else None
        exercise_of(request).rate(exercise_id, rpe=rpe_value, post_craving=craving)
    except AddictionIndexError as exc:
        return _monitor_error(
            request, user, _("Ratings not saved:") + " " + _error_text(request, exc)
        )
    audit(
        store,
        user.username,
        user.role,
        "exercise_rated",
        "exercise_session",
        exercise_id,
        {
            "fields": [
                k for k, v in (("rpe", rpe_value), ("post_craving", craving)) if v is not None
            ]
        },
    )
    return _see_other("/exercise/live")


@router.websocket("/ws/exercise")
async def exercise_socket(websocket: WebSocket, user: CurrentUser) -> None:
    """Every live exercise session's heart rate, zone, cues, alerts and end."""
    _check_origin(websocket)
    hub = hub_of(websocket)
    tiles = [live.tile() for live in hub.exercises.values()]
    await _serve_socket(websocket, hub.exercise_channel, tiles)
