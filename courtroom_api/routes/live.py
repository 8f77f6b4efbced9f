"""The live WebSocket of a hearing: ``/ws/hearings/{id}?after=N&epoch=E&token=…``.

Messages are JSON text frames ``{"seq", "type", "t", "data"}``; types: ``transcript.partial``,
``transcript.final``, ``transcript.revised``, ``meter``, ``alarm``, ``display``, ``status``, and
the control messages ``hello`` (first frame: ``last_seq`` and the stream's ``epoch``), ``reset`` (events
after N were evicted, or the server restarted and seqs continue from the last persisted final, or ``epoch``
names an earlier stream: reload the transcript over REST and follow from its ``last_seq`` and ``epoch``) and ``closed`` (with ``resume_after``). Close codes: 4401 bad token (also
when it is revoked or expires while the stream is open), 4404 no such hearing (or no access, also
when it is withdrawn), 4408 the client fell behind (reconnect with
``after=resume_after``), 1000 the hearing's stream ended.

A ``transcript.partial`` is a seat's provisional line, replaced by the next partial or the final of its
``channel``; one with empty ``text`` takes that line back (its utterance was dropped, no final follows),
and a ``status`` ``paused`` or ``ended`` takes every provisional line back.

An ``alarm`` is ``{"kind", "active", "message", …}``: ``active: false`` ends that kind's alarm, and
``clears: [kind, …]`` ends those kinds' (``write_resumed`` ends ``disk_full``/``write_error``,
``source_reopened`` ends ``source_error``). The alarms in force come right after ``hello`` on a new
socket (and after a ``reset``), with the seqs they were raised at: a page loaded later shows them too. Its
message names no stream password and no server path (``events.scrub``: parties and terminals get it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from courtroom_api import sealed_ranges
from courtroom_api.access import load_hearing
from courtroom_api.auth.policy import Action, Principal
from courtroom_api.deps import IdPath, principal_from_token
from courtroom_api.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    SubscriberClosedError,
)
from courtroom_api.live import display
from courtroom_api.live.events import seat_table
from courtroom_api.live.filing import last_persisted_seq
from courtroom_api.live.hub import Subscriber
from courtroom_api.schemas import DisplayState
from courtroom_api.services import Services
from models.enums import HearingStatus

if TYPE_CHECKING:
    from models import Hearing

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
SEND_TIMEOUT_S = 10.0
QUEUE_EVENTS = 256


def _viewer(services: Services, session: Session, token: str | None, hearing_id: int) -> tuple[Principal, Hearing]:
    """The caller and the hearing, if the caller may watch it live (a terminal: only in its courtroom)."""
    user = principal_from_token(token, services, session)
    return user, load_hearing(session, user, hearing_id, Action.VIEW_LIVE)


def _authorize(services: Services, token: str | None,
               hearing_id: IdPath) -> tuple[Principal, str, int, list[tuple[float, float]], DisplayState]:
    """The caller, the hearing's status, for a fresh stream the last persisted event seq and the
    hearing's range seals, and the display (read back from the audit trail after a restart)."""
    with services.sessions() as session:
        user, hearing = _viewer(services, session, token, hearing_id)
        return (user, str(hearing.status), last_persisted_seq(session, hearing_id),
                sealed_ranges.stored(session, hearing_id), display.current(services, session, hearing_id))


def _still_viewer(services: Services, token: str | None, hearing_id: int) -> Principal:
    with services.sessions() as session:
        return _viewer(services, session, token, hearing_id)[0]


async def _access_ends(services: Services, token: str | None, hearing_id: int, sub: Subscriber) -> tuple[int, str]:
    """(close code, reason) once the viewer may no longer watch: the token was revoked or expired, the
    user disabled, or the case's access withdrawn. Checked every ``live_recheck_seconds``, so a
    stolen terminal's stream ends within that time of its login being revoked. A viewer whose role
    no longer lets them see sealed content gets it redacted from then on (events not yet sent too)."""
    while True:
        await asyncio.sleep(services.settings.auth.live_recheck_seconds)
        try:
            user = await asyncio.to_thread(_still_viewer, services, token, hearing_id)
        except AuthenticationError as exc:
            return 4401, str(exc)
        except (NotFoundError, PermissionDeniedError) as exc:
            return 4404, str(exc)
        except SQLAlchemyError as exc:  # the database busy or away: check again later, never drop the viewer
            log.warning("live access re-check of hearing %s failed, checked again later: %s", hearing_id, exc)
            continue
        sub.may_see_sealed = sub.may_see_sealed and user.may_see_sealed


def _control(type_: str, **data: object) -> str:
    return json.dumps({"seq": None, "type": type_, "data": data}, ensure_ascii=False)


@router.websocket("/ws/hearings/{hearing_id}")
async def hearing_socket(
    websocket: WebSocket, hearing_id: IdPath, after: int | None = Query(None, ge=0),
    epoch: str | None = Query(None, max_length=64), token: str | None = None,
) -> None:
    services: Services = websocket.app.state.services
    await websocket.accept()
    try:
        user, status, last_seq, sealed, shown = await asyncio.to_thread(_authorize, services, token, hearing_id)
    except AuthenticationError as exc:
        await websocket.close(code=4401, reason=str(exc)[:120])
        return
    except (NotFoundError, PermissionDeniedError) as exc:
        await websocket.close(code=4404, reason=str(exc)[:120])
        return
    stream = services.hub.get(hearing_id)
    if stream is None:
        stream = services.hub.stream(hearing_id, start_seq=last_seq, sealed_ranges=sealed)
        if status == HearingStatus.ENDED:
            # It ended before this process started (or its stream was let go): nothing will ever close a
            # new stream, so it is over from the start and the viewer gets ``closed`` (the dossier is the record).
            stream.close()
    if shown.evidence_id is not None and not stream.has_display:
        # Restored after a restart: the stream has had no display event to send a new screen.
        stream.publish("display", shown.model_dump())
    sub = stream.subscribe(after=after, epoch=epoch, max_queue=QUEUE_EVENTS, may_see_sealed=user.may_see_sealed)
    # The running hearing's channel → seat table too: a screen that joins after the start (the clerk
    # console follows a hearing once it notices it started) missed the "started" event that carried it.
    pipeline = services.hearings.get(hearing_id) if services.hearings is not None else None
    profile = getattr(pipeline, "profile", None)
    seats = seat_table(profile) if profile is not None else None
    await websocket.send_text(_control("hello", hearing_id=hearing_id, status=status, last_seq=stream.last_seq,
                                       epoch=stream.epoch, role=user.role, seats=seats))
    receiver = asyncio.create_task(_drain_incoming(websocket))
    access = asyncio.create_task(_access_ends(services, token, hearing_id, sub))
    try:
        await _pump(websocket, sub, receiver, access)
    finally:
        receiver.cancel()
        access.cancel()
        stream.unsubscribe(sub)


async def _drain_incoming(websocket: WebSocket) -> None:
    """Read (and ignore) client frames so a disconnect is noticed while we wait for events. Binary frames
    too: ``receive_text`` raised KeyError on one, and the socket dropped without a close frame."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _pump(websocket: WebSocket, sub: Subscriber, receiver: asyncio.Task[None],
                access: asyncio.Task[tuple[int, str]]) -> None:
    while not receiver.done():
        getter = asyncio.ensure_future(sub.next())
        done, _ = await asyncio.wait({getter, receiver, access}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            if access in done:
                code, reason = access.result()
                with contextlib.suppress(Exception):
                    await websocket.close(code=code, reason=reason[:120])
            return
        try:
            event = getter.result()
        except SubscriberClosedError as exc:
            code = 4408 if sub.lagged else 1000
            with contextlib.suppress(Exception):
                await websocket.send_text(_control("closed", reason=exc.reason, resume_after=exc.last_seq))
                await websocket.close(code=code, reason=exc.reason[:120])
            return
        try:
            await asyncio.wait_for(websocket.send_text(event.wire_for(sub.may_see_sealed)), SEND_TIMEOUT_S)
        except (TimeoutError, WebSocketDisconnect, RuntimeError):
            return
