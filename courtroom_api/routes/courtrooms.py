"""Courts and courtrooms (each courtroom names its hardware profile)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from courtroom_api import record
from courtroom_api.access import audit, get_or_404
from courtroom_api.auth.policy import Action, require
from courtroom_api.deps import CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ValidationFailedError
from courtroom_api.schemas import (
    CourtCreate,
    CourtPublic,
    CourtroomCreate,
    CourtroomPublic,
    CourtroomUpdate,
    CourtUpdate,
)
from courtroom_api.services import Services

router = APIRouter(prefix="/api", tags=["courtrooms"])


@router.get("/courts", response_model=list[CourtPublic])
def list_courts(user: CurrentUser, session: SessionDep) -> object:
    from models import Court

    return session.scalars(select(Court).order_by(Court.id)).all()


@router.post("/courts", response_model=CourtPublic, status_code=201)
def create_court(body: CourtCreate, user: CurrentUser, session: SessionDep) -> object:
    from models import Court

    require(user, Action.MANAGE_COURTROOMS)
    court = Court(code=body.code, name=body.name)
    session.add(court)
    session.flush()
    audit(session, user, "court.create", f"court:{court.id}", code=body.code)
    session.commit()
    return court


@router.patch("/courts/{court_id}", response_model=CourtPublic)
def update_court(court_id: IdPath, body: CourtUpdate, user: CurrentUser, session: SessionDep) -> object:
    """Rename a court (a reorganisation, a typo in its name) or change its code. Its name is printed at
    the head of its hearings' records: refused (409) while a signed and locked one would print the new
    name, and a record one of the two has signed loses that signature, as for a courtroom."""
    from models import Case, Court, Hearing

    require(user, Action.MANAGE_COURTROOMS)
    court = get_or_404(session, Court, court_id, "court", for_edit=True)  # before the chain lock
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    held = session.scalars(select(Hearing.id).join(Case, Hearing.case_id == Case.id)
                           .where(Case.court_id == court_id)).all()
    record.edit_printed(session, court, changes, held, user, f"court {court_id} ({court.name})")
    audit(session, user, "court.update", f"court:{court_id}", **changes)
    session.commit()
    return court


def _check_profile(services: Services, name: str) -> None:
    """A room's profile is a profile's name (bundled or the court's own), checked when it is saved: a
    wrong one showed only when the judge started a hearing there, and a path made the server read it."""
    from courtroom_api.profiles import load_named
    from hardware.errors import HardwareError

    try:
        load_named(name, services.settings.profiles_dir)
    except HardwareError as exc:
        raise ValidationFailedError(f"profile_name: {exc}") from exc


@router.get("/courtrooms", response_model=list[CourtroomPublic])
def list_courtrooms(user: CurrentUser, session: SessionDep) -> object:
    from models import Courtroom

    return session.scalars(select(Courtroom).order_by(Courtroom.id)).all()


@router.post("/courtrooms", response_model=CourtroomPublic, status_code=201)
def create_courtroom(body: CourtroomCreate, user: CurrentUser, session: SessionDep, services: ServicesDep) -> object:
    from models import Court, Courtroom

    require(user, Action.MANAGE_COURTROOMS)
    get_or_404(session, Court, body.court_id, "court")
    _check_profile(services, body.profile_name)
    room = Courtroom(**body.model_dump())
    session.add(room)
    session.flush()
    audit(session, user, "courtroom.create", f"courtroom:{room.id}", **body.model_dump())
    session.commit()
    return room


@router.patch("/courtrooms/{courtroom_id}", response_model=CourtroomPublic)
def update_courtroom(courtroom_id: IdPath, body: CourtroomUpdate, user: CurrentUser, session: SessionDep,
                     services: ServicesDep) -> object:
    from models import Courtroom, Hearing

    require(user, Action.MANAGE_COURTROOMS)
    room = get_or_404(session, Courtroom, courtroom_id, "courtroom", for_edit=True)  # before the chain lock
    if body.profile_name is not None and body.profile_name != room.profile_name:  # (a form sends it back as is)
        _check_profile(services, body.profile_name)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    held = session.scalars(select(Hearing.id).where(Hearing.courtroom_id == courtroom_id)).all()
    # (the room's name is printed in its hearings' records)
    record.edit_printed(session, room, changes, held, user, f"courtroom {courtroom_id} ({room.name})")
    audit(session, user, "courtroom.update", f"courtroom:{courtroom_id}", **changes)
    session.commit()
    return room
