"""Read the audit chain and verify it."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from courtroom_api.auth.policy import Action, require
from courtroom_api.deps import MAX_ID, CurrentUser, SessionDep
from courtroom_api.schemas import AuditEventPublic

router = APIRouter(prefix="/api/audit", tags=["audit"])

ANNOTATION_ACTIONS = ("annotation.add", "annotation.delete")


class AuditVerificationPublic(BaseModel):
    ok: bool
    events: int
    broken_event_id: int | None
    reason: str


@router.get("", response_model=list[AuditEventPublic])
def list_events(
    user: CurrentUser, session: SessionDep,
    object: Annotated[str | None, Query(max_length=200, description="e.g. hearing:12")] = None,  # noqa: A002
    action: Annotated[str | None, Query(max_length=100, description="e.g. record.sign")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
        "events older than this id: the next page is the one before the last id of this one"))] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> object:
    """The newest events first, ``limit`` at a time; page back with ``before_id`` (a court's chain grows
    past any limit, and the events a reviewer looks for are often old ones)."""
    from models import AuditEvent

    require(user, Action.READ_AUDIT)
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if object:
        stmt = stmt.where(_about(object))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    events = session.scalars(stmt).all()
    sealed = set() if user.may_see_sealed else _sealed_objects(session, [e.object for e in events])
    return [AuditEventPublic(id=e.id, actor=e.actor, action=e.action, object=e.object, occurred_at=e.occurred_at,
                             details={"sealed": True} if e.object in sealed else _without_secrets(
                                 e.details if user.may_see_sealed else _without_note_text(e)))
            for e in events]


def _without_secrets(details: Any) -> Any:
    """An event's details with every stream URL shown without its password (``capture.urls``): a start's
    plan keeps the URL whole, which a restart needs to open the stream again, but no reader of the
    trail needs the camera's password. The chain hashes the stored details, so it still verifies."""
    from capture.urls import without_secrets

    if isinstance(details, dict):
        return {k: _without_secrets(v) for k, v in details.items()}
    if isinstance(details, list):
        return [_without_secrets(v) for v in details]
    return without_secrets(details) if isinstance(details, str) and "://" in details else details


def _about(obj: str) -> ColumnElement[bool]:
    """Events on ``obj``; for a hearing, the annotations on it too: a note's events name the note
    (``annotation:7``), and one deleted is found only by the hearing it was on."""
    from models import AuditEvent

    about = AuditEvent.object == obj
    kind, _, ident = obj.partition(":")
    if kind == "hearing" and ident.isascii() and ident.isdigit() and int(ident) <= MAX_ID:
        about = or_(about, and_(AuditEvent.action.in_(ANNOTATION_ACTIONS),
                                AuditEvent.details["hearing_id"].as_integer() == int(ident)))
    return about


def _without_note_text(event: Any) -> dict[str, Any]:
    """An annotation's text for a reader who may not see sealed items (an administrator) as its sha256:
    the note may be on a sealed line, or for the bench only. Who noted what kind of thing where stays."""
    details = dict(event.details or {})
    if event.action in ANNOTATION_ACTIONS and isinstance(details.get("text"), str):
        details["text_sha256"] = hashlib.sha256(details.pop("text").encode()).hexdigest()
    return details


def _sealed_objects(session: Session, objects: list[str]) -> set[str]:
    """Which of ``objects`` ("segment:12", "evidence:3") are sealed now: an administrator reads who did
    what to them, not the text of a sealed line's corrections or a sealed exhibit's title."""
    from models import Evidence, TranscriptSegment

    out: set[str] = set()
    for prefix, model in (("segment", TranscriptSegment), ("evidence", Evidence)):
        ids = {int(o.split(":", 1)[1]) for o in objects if o.startswith(prefix + ":") and o.split(":", 1)[1].isdigit()}
        if ids:
            rows = session.scalars(select(model.id).where(model.id.in_(ids), model.sealed.is_(True)))
            out |= {f"{prefix}:{i}" for i in rows}
    return out


@router.get("/verify", response_model=AuditVerificationPublic)
def verify(user: CurrentUser, session: SessionDep) -> AuditVerificationPublic:
    from models.audit import verify_chain
    from models.db import one_snapshot

    require(user, Action.READ_AUDIT)
    with one_snapshot(session) as s:  # not a chain that grew between reading its events and its head
        result = verify_chain(s)
    return AuditVerificationPublic(ok=result.ok, events=result.events, broken_event_id=result.broken_event_id,
                                   reason=result.reason)
