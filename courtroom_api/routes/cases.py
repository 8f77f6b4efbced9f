"""Cases and their participants."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from courtroom_api import record
from courtroom_api.access import audit, get_or_404, load_case
from courtroom_api.auth.policy import Action, case_scope, require
from courtroom_api.deps import CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, ValidationFailedError
from courtroom_api.routes.transcript import publish_revision
from courtroom_api.schemas import (
    CaseCreate,
    CasePublic,
    CaseUpdate,
    ParticipantCreate,
    ParticipantPublic,
    ParticipantUpdate,
)

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases", response_model=list[CasePublic])
def list_cases(
    user: CurrentUser, session: SessionDep,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9),
) -> object:
    from models import Case

    require(user, Action.READ_CASE)
    stmt = select(Case).order_by(Case.id).limit(limit).offset(offset)
    scope = case_scope(user, session)
    if scope is not None:
        stmt = stmt.where(Case.id.in_(scope))
    return session.scalars(stmt).all()


@router.post("/cases", response_model=CasePublic, status_code=201)
def create_case(body: CaseCreate, user: CurrentUser, session: SessionDep) -> object:
    from models import Case, Court

    require(user, Action.WRITE_CASE)
    if body.court_id is not None:
        get_or_404(session, Court, body.court_id, "court")
    _require_free_number(session, body.case_number)
    case = Case(**body.model_dump())
    session.add(case)
    session.flush()
    audit(session, user, "case.create", f"case:{case.id}", **body.model_dump())
    session.commit()
    return case


def _require_free_number(session: Session, number: str) -> None:
    """Refuse a number that is another case's as a search compares numbers (full-width forms, blanks and
    letter case aside): "（2024）吉2424民初123号" filed beside "(2024)吉2424民初123号" was a second case, and a
    search of either number found the lines of both."""
    from models import Case
    from models.audit import lock_chain
    from models.dossier import case_number_key

    lock_chain(session)  # (two clerks filing the twins at once: the second waits, then finds the first)
    same = or_(Case.number_key == case_number_key(number), Case.case_number == number)
    holder = session.scalars(select(Case).where(same).order_by(Case.id).limit(1)).first()
    if holder is not None:
        raise ConflictError(f"case number {number!r} is taken: case {holder.id} is filed as {holder.case_number!r} "
                            "(case numbers do not tell full-width from ASCII forms, blanks or letter case)")


@router.get("/cases/{case_id}", response_model=CasePublic)
def get_case(case_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    return load_case(session, user, case_id)


@router.patch("/cases/{case_id}", response_model=CasePublic)
def update_case(case_id: IdPath, body: CaseUpdate, user: CurrentUser, session: SessionDep) -> object:
    case = load_case(session, user, case_id, Action.WRITE_CASE, for_edit=True)  # before signed_heads' chain lock
    changes = body.model_dump(exclude_unset=True)
    signed = record.signed_heads(session, _hearing_ids(session, case_id))
    for key, value in changes.items():
        if value is None and key != "filed_on":
            continue
        setattr(case, key, value)
    record.ensure_heads_kept(session, signed, user, f"case {case.case_number}")
    audit(session, user, "case.update", f"case:{case_id}", **changes)
    session.commit()
    return case


@router.get("/cases/{case_id}/participants", response_model=list[ParticipantPublic])
def list_participants(case_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import Participant

    load_case(session, user, case_id)
    return session.scalars(select(Participant).where(Participant.case_id == case_id).order_by(Participant.id)).all()


def _hearing_ids(session, case_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    from models import Hearing

    return list(session.scalars(select(Hearing.id).where(Hearing.case_id == case_id)))


def _check_refs(session, case_id: IdPath, represented: int | None, user_id: int | None) -> None:  # type: ignore[no-untyped-def]
    from models import Participant, User

    if represented is not None:
        party = session.get(Participant, represented)
        if party is None or party.case_id != case_id:
            raise ValidationFailedError(f"participant {represented} is not a participant of case {case_id}")
    if user_id is not None and session.get(User, user_id) is None:
        raise ValidationFailedError(f"user {user_id} does not exist")


@router.post("/cases/{case_id}/participants", response_model=ParticipantPublic, status_code=201)
def add_participant(case_id: IdPath, body: ParticipantCreate, user: CurrentUser, session: SessionDep,
                    services: ServicesDep) -> object:
    from courtroom_api.live.attribution import refresh_rosters
    from models import Participant

    load_case(session, user, case_id, Action.WRITE_CASE)
    _check_refs(session, case_id, body.represented_participant_id, body.user_id)
    participant = Participant(case_id=case_id, **body.model_dump())
    session.add(participant)
    session.flush()
    audit(session, user, "participant.add", f"participant:{participant.id}", case_id=case_id,
          name=body.name, role=body.role.value)
    session.commit()
    refresh_rosters(services, case_id)
    return participant


@router.patch("/participants/{participant_id}", response_model=ParticipantPublic)
def update_participant(participant_id: IdPath, body: ParticipantUpdate, user: CurrentUser, session: SessionDep,
                       services: ServicesDep) -> object:
    from courtroom_api.live.attribution import refresh_rosters
    from models import Participant

    participant = get_or_404(session, Participant, participant_id, "participant", for_edit=True)
    load_case(session, user, participant.case_id, Action.WRITE_CASE)
    changes = body.model_dump(exclude_unset=True)
    _check_refs(session, participant.case_id, None, changes.get("user_id"))
    signed = record.signed_heads(session, _hearing_ids(session, participant.case_id))
    was = f"participant {participant_id} ({participant.name})"
    old_role = participant.role
    for key, value in changes.items():
        if value is None and key in ("name", "role", "organization"):
            continue
        setattr(participant, key, value)
    # Their lines carry the role they spoke in (a seat's occupant's): a corrected role (entered as the
    # plaintiff, is the defendant) is theirs on every line credited to them in it, each a speaker revision.
    # (A record that prints them is checked below: whoever spoke in it is in its head.)
    relabelled = _relabel_lines(session, participant, old_role, user.user_id, was)
    record.ensure_heads_kept(session, signed, user, was)
    audit(session, user, "participant.update", f"participant:{participant_id}", **changes,
          **({"lines_relabelled": len(relabelled)} if relabelled else {}))
    session.commit()
    refresh_rosters(services, participant.case_id)
    for segment in relabelled:
        publish_revision(services, segment, user, "speaker")
    return participant


def _relabel_lines(session, participant, old_role, author_id: int | None, was: str) -> list:  # type: ignore[no-untyped-def]
    """The lines credited to ``participant`` in ``old_role``, now credited in their new role."""
    from courtroom_api.speakers import credit_line
    from models import TranscriptSegment

    if participant.role == old_role:
        return []
    lines = list(session.scalars(select(TranscriptSegment).where(TranscriptSegment.participant_id == participant.id,
                                                                 TranscriptSegment.role == old_role)))
    for line in lines:
        credit_line(line, participant.role, participant.id, author_id, f"{was}: role {old_role} → {participant.role}")
    return lines
