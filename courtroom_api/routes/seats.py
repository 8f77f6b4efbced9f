"""Who sits where during a hearing: the bench assigns a participant to a seat and dismisses them.

A witness called to the stand, counsel at the podium: each assignment holds from ``from_s`` until it
is dismissed (times in seconds of the hearing's recording). When the hearing is running, the live
seat attribution follows at once; every change is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from courtroom_api import record
from courtroom_api.access import audit, load_hearing
from courtroom_api.auth.policy import Action
from courtroom_api.deps import CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, NotFoundError, ValidationFailedError
from courtroom_api.schemas import DbId, Orm

router = APIRouter(prefix="/api", tags=["hearings"])
CLOSED = ("ended", "cancelled")


class SeatAssign(BaseModel):
    seat: str = Field(min_length=1, max_length=50, description="seat id of the courtroom profile")
    participant_id: DbId
    from_s: float | None = Field(default=None, ge=0, le=1e7,
                                 description="recording time; default: now in a running hearing, where the "
                                             "recording has reached in a recess, else 0")


class SeatDismiss(BaseModel):
    at_s: float | None = Field(default=None, ge=0, le=1e7,
                               description="recording time; default: now, or where the recording has reached in "
                                           "a recess (needed otherwise)")


class SeatAssignmentPublic(Orm):
    id: int
    hearing_id: int
    seat: str
    participant_id: int
    from_s: float
    to_s: float | None


def _live(services: Any, hearing_id: int) -> Any:
    """The running hearing's ``LiveAttribution`` (None when it is not running in this process)."""
    pipeline = services.hearings.get(hearing_id) if services.hearings is not None else None
    return getattr(pipeline, "seats", None)


def _now_s(services: Any, hearing: Any, live: Any) -> float | None:
    """"Now" in the hearing's recording: where the running hearing's audio is, or, in a recess, where the
    recording has reached (it goes on from there; a seat given then from 0 s left the one seated before
    with the microphone after the recess). None when the hearing records nothing yet or any more."""
    from capture.errors import CaptureError
    from capture.resume import committed_until_s

    if live is not None:
        return float(live.latest_s)
    if str(hearing.status) != "paused":
        return None
    recorder = services.hearings.recorder_of(hearing.id) if services.hearings is not None else None
    if recorder is not None:  # its recess's close is held (a full disk): more than the manifest holds
        return float(recorder.next_sample / recorder.sample_rate)
    try:
        return committed_until_s(services.settings.hearing_recording_dir(hearing.id))
    except CaptureError:
        return None


def _room_seats(services: Any, hearing: Any) -> set[str] | None:
    """The seats of the hearing's courtroom profile (None: no courtroom). A profile that is missing or
    cannot be read is a 409 naming it: no seat can be checked (a missing one was a 500)."""
    from courtroom_api.profiles import load_room_profile
    from hardware.errors import HardwareError

    if hearing.courtroom is None or not hearing.courtroom.profile_name:
        return None
    try:
        profile = load_room_profile(hearing.courtroom.profile_name, services.settings.profiles_dir)
        return {c.seat for c in profile.channels}
    except HardwareError as exc:
        raise ConflictError(f"courtroom {hearing.courtroom.name}'s profile cannot be used, so its seats are "
                            f"unknown: {exc}") from exc


@router.get("/hearings/{hearing_id}/seats", response_model=list[SeatAssignmentPublic])
def list_seats(hearing_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import SeatAssignment

    load_hearing(session, user, hearing_id)
    return session.scalars(select(SeatAssignment).where(SeatAssignment.hearing_id == hearing_id)
                           .order_by(SeatAssignment.from_s, SeatAssignment.id)).all()


@router.post("/hearings/{hearing_id}/seats", response_model=SeatAssignmentPublic, status_code=201)
def assign_seat(
    hearing_id: IdPath, body: SeatAssign, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> object:
    """Seat a participant from ``from_s`` on; they leave any other seat they were assigned to."""
    from courtroom_api.live.attribution import occupant_of
    from models import Participant, SeatAssignment

    # Locked before signed_heads' chain lock, as a seal or a sign-off locks it: the new row's foreign key
    # waited for a seal's lock while holding the chain the seal waited for.
    hearing = load_hearing(session, user, hearing_id, Action.CONTROL_HEARING, for_update=True)
    if str(hearing.status) in CLOSED:
        raise ConflictError(f"hearing is {hearing.status}; seats can no longer change")
    participant = session.get(Participant, body.participant_id)
    if participant is None or participant.case_id != hearing.case_id:
        raise ValidationFailedError(f"participant {body.participant_id} does not take part in this case")
    live = _live(services, hearing_id)
    seats = {c.seat for c in live.channels} if live is not None else _room_seats(services, hearing)
    if seats is not None and body.seat not in seats:
        raise ValidationFailedError(f"seat {body.seat!r} is not in this courtroom: {sorted(seats)}")
    now_s = _now_s(services, hearing, live) if body.from_s is None else None
    from_s = body.from_s if body.from_s is not None else (now_s if now_s is not None else 0.0)
    already = session.scalar(select(SeatAssignment).where(
        SeatAssignment.hearing_id == hearing_id, SeatAssignment.participant_id == participant.id,
        SeatAssignment.to_s.is_(None), SeatAssignment.seat == body.seat))
    if already is not None:  # a second open row: dismissing one left the other open in the dossier
        raise ConflictError(f"{participant.name} is already on seat {body.seat!r} since {already.from_s:.2f} s "
                            f"(assignment {already.id})")
    moved = session.scalars(select(SeatAssignment).where(  # locked before the chain, as a dismissal locks it
        SeatAssignment.hearing_id == hearing_id, SeatAssignment.participant_id == participant.id,
        SeatAssignment.to_s.is_(None), SeatAssignment.seat != body.seat).with_for_update()).all()
    signed = record.signed_heads(session, [hearing_id])  # who was seated is printed as present
    for old in moved:
        old.to_s = max(from_s, old.from_s)
    row = SeatAssignment(hearing_id=hearing_id, seat=body.seat, participant_id=participant.id, from_s=from_s)
    session.add(row)
    session.flush()
    record.ensure_heads_kept(session, signed, user, f"{participant.name}'s presence")
    audit(session, user, "seat.assign", f"hearing:{hearing_id}", assignment_id=row.id, seat=body.seat,
          participant_id=participant.id, from_s=from_s, moved_from=[old.id for old in moved])
    session.commit()
    if live is not None:
        for old in moved:
            live.dismiss(old.seat, old.participant_id, old.to_s)
        live.assign(occupant_of(row))
    return row


@router.post("/hearings/{hearing_id}/seats/{assignment_id}/dismiss", response_model=SeatAssignmentPublic)
def dismiss_seat(
    hearing_id: IdPath, assignment_id: IdPath, body: SeatDismiss, user: CurrentUser, session: SessionDep,
    services: ServicesDep,
) -> object:
    """End a seat assignment at ``at_s`` (a witness leaves the stand)."""
    from models import SeatAssignment

    hearing = load_hearing(session, user, hearing_id, Action.CONTROL_HEARING)
    row = session.get(SeatAssignment, assignment_id)
    if row is None or row.hearing_id != hearing_id:
        raise NotFoundError(f"seat assignment {assignment_id} not found in hearing {hearing_id}")
    if str(hearing.status) in CLOSED:
        raise ConflictError(f"hearing is {hearing.status}; seats can no longer change")
    if row.to_s is not None:
        raise ConflictError(f"seat assignment {assignment_id} was already dismissed at {row.to_s:.2f} s")
    live = _live(services, hearing_id)
    at_s = body.at_s if body.at_s is not None else _now_s(services, hearing, live)
    if at_s is None:
        raise ValidationFailedError("at_s is needed when the hearing is neither running nor in recess")
    if at_s < row.from_s:
        raise ValidationFailedError(f"at_s {at_s} is before the assignment began ({row.from_s} s)")
    row.to_s = at_s
    audit(session, user, "seat.dismiss", f"hearing:{hearing_id}", assignment_id=row.id, seat=row.seat,
          participant_id=row.participant_id, at_s=at_s)
    session.commit()
    if live is not None:
        live.dismiss(row.seat, row.participant_id, at_s)
    return row
