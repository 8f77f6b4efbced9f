"""The judge's court notes: private to their author, kept with the case in the dossier.

Only judges write notes, and a note is visible to nobody but its author (not even another judge
of the same case): anyone else gets "not found". Changes are audited without the note's text, so
the audit chain does not leak what the judge wrote.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from courtroom_api.access import audit, load_case, load_hearing
from courtroom_api.auth.policy import Principal
from courtroom_api.deps import CurrentUser, IdPath, SessionDep
from courtroom_api.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from courtroom_api.schemas import LINES, DbId

router = APIRouter(prefix="/api", tags=["notes"])
NOTE_ROLES = frozenset({"judge"})


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, pattern=LINES)
    hearing_id: DbId | None = None


class NoteUpdate(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, pattern=LINES)


class NotePublic(BaseModel):
    id: int
    case_id: int
    hearing_id: int | None
    text: str
    created_at: datetime
    updated_at: datetime


def _require_note_role(user: Principal) -> None:
    if user.role not in NOTE_ROLES:
        raise PermissionDeniedError(f"role {user.role!r} may not keep court notes")


def _own_note(session, user: Principal, note_id: int):  # type: ignore[no-untyped-def]
    from models import CourtNote

    _require_note_role(user)
    note = session.get(CourtNote, note_id)
    if note is None or note.author_id != user.user_id:
        raise NotFoundError(f"note {note_id} not found")
    load_case(session, user, note.case_id)
    return note


@router.get("/cases/{case_id}/notes", response_model=list[NotePublic], summary="My court notes on a case")
def list_notes(case_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    from models import CourtNote

    _require_note_role(user)
    load_case(session, user, case_id)
    stmt = (select(CourtNote).where(CourtNote.case_id == case_id, CourtNote.author_id == user.user_id)
            .order_by(CourtNote.updated_at.desc(), CourtNote.id.desc()))
    return session.scalars(stmt).all()


@router.post("/cases/{case_id}/notes", response_model=NotePublic, status_code=201, summary="Add a court note")
def add_note(case_id: IdPath, body: NoteCreate, user: CurrentUser, session: SessionDep) -> object:
    from models import CourtNote

    _require_note_role(user)
    load_case(session, user, case_id)
    if body.hearing_id is not None and load_hearing(session, user, body.hearing_id).case_id != case_id:
        raise ValidationFailedError(f"hearing {body.hearing_id} is not a hearing of case {case_id}")
    note = CourtNote(case_id=case_id, hearing_id=body.hearing_id, author_id=user.user_id, text=body.text)
    session.add(note)
    session.flush()
    audit(session, user, "note.create", f"note:{note.id}", case_id=case_id, chars=len(body.text))
    session.commit()
    return note


@router.patch("/notes/{note_id}", response_model=NotePublic, summary="Edit my court note")
def update_note(note_id: IdPath, body: NoteUpdate, user: CurrentUser, session: SessionDep) -> object:
    note = _own_note(session, user, note_id)
    note.text = body.text
    audit(session, user, "note.update", f"note:{note.id}", case_id=note.case_id, chars=len(body.text))
    session.commit()
    return note


@router.delete("/notes/{note_id}", status_code=204, summary="Delete my court note")
def delete_note(note_id: IdPath, user: CurrentUser, session: SessionDep) -> Response:
    note = _own_note(session, user, note_id)
    audit(session, user, "note.delete", f"note:{note.id}", case_id=note.case_id)
    session.delete(note)
    session.commit()
    return Response(status_code=204)
