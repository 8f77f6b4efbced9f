"""Hearings: CRUD, the live lifecycle (start / pause / stop) and the "now displayed" state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, case, func, select

from courtroom_api import record
from courtroom_api.access import audit, get_or_404, load_case, load_evidence, load_hearing
from courtroom_api.auth.policy import Action, case_scope
from courtroom_api.deps import MAX_ID, CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, NotFoundError, ValidationFailedError
from courtroom_api.evidence import renditions
from courtroom_api.evidence.sniff import TYPES
from courtroom_api.schemas import (
    SCHEDULE_YEARS,
    DisplayState,
    HearingCreate,
    HearingListItem,
    HearingPublic,
    HearingStart,
    HearingUpdate,
    RecessPublic,
)
from models.enums import HearingStatus

router = APIRouter(prefix="/api", tags=["hearings"])

# How far ahead a scheduled hearing counts as near: ranked before every other on the court-wide list.
NEAR_AHEAD = timedelta(hours=24)


@router.get("/hearings", response_model=list[HearingListItem])
def list_all_hearings(
    user: CurrentUser, session: SessionDep, services: ServicesDep,
    status: Annotated[HearingStatus | None, Query(description="only hearings in this state")] = None,
    courtroom_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="skip this many (the near ones, then the newest)")] = 0,
) -> list[HearingListItem]:
    """The hearings the caller may see across the court, ``limit`` at a time (after skipping ``offset``),
    each page listed oldest first. They are ranked: first every hearing in progress or in recess, however
    old; then the scheduled hearings of the court's today and the next 24 hours, soonest first; then the
    rest newest first. A hearing's time is its start, else its schedule, else when it was entered.

    The near ones first: a court that schedules weeks ahead has hundreds of hearings newer than today's,
    and the screens pick today's hearing from the first page (ranked newest first, today's was not on it).
    Newest, not oldest, for the rest: a court's list grows every day.
    A party sees only its own cases' hearings; a terminal only the hearings of its courtroom.
    """
    from courtroom_api.record import court_zone
    from models import Case, Hearing

    scope = case_scope(user, session)
    stmt = select(Hearing, Case.case_number).join(Case, Case.id == Hearing.case_id)
    if scope is not None:
        stmt = stmt.where(Hearing.case_id.in_(sorted(scope)))
    if user.role == "terminal":
        stmt = stmt.where(Hearing.courtroom_id == user.courtroom_id)
    if status is not None:
        stmt = stmt.where(Hearing.status == status)
    if courtroom_id is not None:
        stmt = stmt.where(Hearing.courtroom_id == courtroom_id)
    # Near: not yet held and due from the start of the court's today (one running late included) to a
    # day from now. One ranking for every page, live ones first, so paging lists nothing twice and skips
    # nothing (the live ones added to the first page on top of `limit` were listed again at their rank).
    now = datetime.now(UTC)
    today = now.astimezone(court_zone(services.settings.timezone)).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0)
    near = and_(Hearing.status == HearingStatus.SCHEDULED,
                Hearing.scheduled_start.between(today, now + NEAR_AHEAD))
    # A hearing's time: when it started, else when it is scheduled, else when it was entered (a hearing
    # cancelled years ago without a date is old, not "upcoming": ranked as upcoming, 500 of them hid
    # every hearing held).
    when = func.coalesce(Hearing.started_at, Hearing.scheduled_start, Hearing.created_at)
    live = Hearing.status.in_((HearingStatus.IN_PROGRESS, HearingStatus.PAUSED))
    ranked = stmt.order_by(case((live, 0), (near, 1), else_=2), case((near, Hearing.scheduled_start)).asc(),
                           when.desc(), Hearing.id.desc())
    rows = {h.id: (h, number) for h, number in session.execute(ranked.offset(offset).limit(limit))}

    def order(row: tuple[Any, str]) -> tuple[Any, ...]:  # the page oldest first
        h = row[0]
        return (h.started_at or h.scheduled_start or h.created_at, h.id)

    return [HearingListItem.model_validate({**HearingPublic.model_validate(h).model_dump(), "case_number": number})
            for h, number in sorted(rows.values(), key=order)]


@router.get("/cases/{case_id}/hearings", response_model=list[HearingPublic])
def list_hearings(case_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import Hearing

    load_case(session, user, case_id)
    stmt = select(Hearing).where(Hearing.case_id == case_id).order_by(Hearing.id)
    if user.role == "terminal":  # its own courtroom's hearings only (access.require_hearing)
        stmt = stmt.where(Hearing.courtroom_id == user.courtroom_id)
    return session.scalars(stmt).all()


def _court_times(changes: dict[str, Any], services: Any, current: Any = None) -> dict[str, Any]:
    """Scheduled times as the court's: one without a zone (what a date-time field sends) is the court's
    local time (``Settings.timezone``); the end not before the start, both in ``SCHEDULE_YEARS``."""
    from courtroom_api.record import court_zone

    zone = court_zone(services.settings.timezone)
    for key in ("scheduled_start", "scheduled_end"):
        if changes.get(key) is not None and changes[key].year not in SCHEDULE_YEARS:
            raise ValidationFailedError(f"{key} must be in the years {SCHEDULE_YEARS[0]} to {SCHEDULE_YEARS[-1]}")
        if changes.get(key) is not None and changes[key].tzinfo is None:
            changes[key] = changes[key].replace(tzinfo=zone)
    start = changes.get("scheduled_start", current.scheduled_start if current else None)
    end = changes.get("scheduled_end", current.scheduled_end if current else None)
    if start is not None and end is not None and end < start:
        raise ValidationFailedError("scheduled_end is before scheduled_start")
    return changes


@router.post("/cases/{case_id}/hearings", response_model=HearingPublic, status_code=201)
def create_hearing(case_id: IdPath, body: HearingCreate, user: CurrentUser, session: SessionDep,
                   services: ServicesDep) -> object:
    from courtroom_api.live.lifecycle import require_open_case
    from models import Courtroom, Hearing

    require_open_case(load_case(session, user, case_id, Action.WRITE_CASE))
    if body.courtroom_id is not None:
        get_or_404(session, Courtroom, body.courtroom_id, "courtroom")
    hearing = Hearing(case_id=case_id, **_court_times(body.model_dump(), services))
    session.add(hearing)
    session.flush()
    audit(session, user, "hearing.create", f"hearing:{hearing.id}", case_id=case_id, **body.model_dump())
    session.commit()
    return hearing


@router.get("/hearings/{hearing_id}", response_model=HearingPublic)
def get_hearing(hearing_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    return load_hearing(session, user, hearing_id)


@router.patch("/hearings/{hearing_id}", response_model=HearingPublic)
def update_hearing(hearing_id: IdPath, body: HearingUpdate, user: CurrentUser, session: SessionDep,
                   services: ServicesDep) -> object:
    from models import Courtroom

    # Locked: a cancellation and a start at once must not leave a running hearing marked cancelled.
    hearing = load_hearing(session, user, hearing_id, Action.WRITE_CASE, for_update=True)
    changes = _court_times(body.model_dump(exclude_unset=True), services, hearing)
    if changes.get("courtroom_id") is not None:
        # Key-share locked now, as the move's foreign key would after the chain lock: a start in that room
        # holds the room and waits for the chain.
        room = session.get(Courtroom, changes["courtroom_id"], with_for_update={"read": True, "key_share": True})
        if room is None:
            raise NotFoundError(f"courtroom {changes['courtroom_id']} not found")
    moved = changes.get("courtroom_id", hearing.courtroom_id) != hearing.courtroom_id
    if moved and hearing.status not in ("scheduled", "cancelled"):
        # Its recording was made with that room's array and its terminals follow that room.
        raise ConflictError(f"hearing is {hearing.status}; only a scheduled hearing can move to another courtroom")
    if "status" in changes and hearing.status not in ("scheduled", "cancelled"):
        raise ConflictError(f"hearing is {hearing.status}; only scheduled hearings can be rescheduled or cancelled")
    signed = record.signed_heads(session, [hearing_id])  # its room and (never opened) scheduled time are printed
    for key, value in changes.items():
        if key == "status" and value is None:
            continue
        setattr(hearing, key, value)
    record.ensure_heads_kept(session, signed, user, f"hearing {hearing_id}'s courtroom or time")
    audit(session, user, "hearing.update", f"hearing:{hearing_id}", **changes)
    session.commit()
    return hearing


@router.post("/hearings/{hearing_id}/start", response_model=HearingPublic)
async def start_hearing(hearing_id: IdPath, body: HearingStart, user: CurrentUser, services: ServicesDep) -> object:
    """Start recording and live transcription (profile + source: device, file or stream URL)."""
    from courtroom_api.live.lifecycle import start_hearing as start
    from courtroom_api.profiles import NAME

    if body.profile is not None and not NAME.fullmatch(body.profile):  # a name, never a file to read
        raise ValidationFailedError(f"profile {body.profile!r} is not a profile's name")
    return await start(services, user, hearing_id, body)


@router.post("/hearings/{hearing_id}/pause", response_model=RecessPublic)
async def pause_hearing(hearing_id: IdPath, user: CurrentUser, services: ServicesDep) -> object:
    """A recess: recording and live transcription stop, everything so far kept; start goes on with the same
    recording (the recess a gap in it), stop files it. On a full recordings disk the recess begins too, with
    ``recording_held`` and a warning: the recording's last seconds wait in the server's memory."""
    from courtroom_api.live.lifecycle import pause_hearing as pause

    recess = await pause(services, user, hearing_id)
    return RecessPublic.model_validate(recess.hearing).model_copy(
        update={"recording_held": recess.held_s is not None, "warning": recess.warning})


@router.post("/hearings/{hearing_id}/stop", response_model=HearingPublic)
async def stop_hearing(hearing_id: IdPath, user: CurrentUser, services: ServicesDep) -> object:
    """Stop: the recording is finalized and filed, the transcript persisted, the hearing closed."""
    from courtroom_api.live.lifecycle import stop_hearing as stop

    return await stop(services, user, hearing_id)


@router.get("/hearings/{hearing_id}/display", response_model=DisplayState)
def get_display(hearing_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep) -> DisplayState:
    from courtroom_api.live.display import shown_to

    load_hearing(session, user, hearing_id)
    return shown_to(services, session, user, hearing_id)


@router.put("/hearings/{hearing_id}/display", response_model=DisplayState)
def set_display(
    hearing_id: IdPath, body: DisplayState, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> DisplayState:
    """Show an exhibit (page, zoom region) on the party screens; pushed over the hearing's WebSocket."""
    hearing = load_hearing(session, user, hearing_id, Action.DISPLAY)
    if hearing.status in (HearingStatus.ENDED, HearingStatus.CANCELLED):
        # Its screens have left it: a display set now would be shown by the bench alone.
        raise ConflictError(f"hearing {hearing_id} is {hearing.status}: nothing can be shown on its party screens")
    if body.evidence_id is not None:
        evidence = load_evidence(session, user, body.evidence_id)
        if evidence.case_id != hearing.case_id:
            raise ValidationFailedError("the exhibit belongs to another case")
        if evidence.sealed:
            raise ConflictError("sealed evidence cannot be shown on the party screens")
        if not renditions.can_show(evidence.kind, evidence.mime_type):
            file_type = TYPES.get(evidence.mime_type)
            what = file_type.extensions[0] if file_type else evidence.mime_type
            raise ValidationFailedError(f"exhibit {evidence.exhibit_number} is a {what} file, which the screens cannot "
                                        "show: file it as a PDF to show it (it can be downloaded as it is)")
    from courtroom_api.live.filing import hearing_stream

    services.display[hearing_id] = body
    hearing_stream(services, hearing_id).publish("display", body.model_dump())
    audit(session, user, "display.set", f"hearing:{hearing_id}", **body.model_dump())
    session.commit()
    return body
