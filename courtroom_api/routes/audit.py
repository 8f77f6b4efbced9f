"""Read the audit chain and verify it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from courtroom_api.auth.policy import Action, require
from courtroom_api.deps import CurrentUser, SessionDep
from courtroom_api.schemas import AuditEventPublic

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditVerificationPublic(BaseModel):
    ok: bool
    events: int
    broken_event_id: int | None
    reason: str


@router.get("", response_model=list[AuditEventPublic])
def list_events(
    user: CurrentUser, session: SessionDep,
    object: Annotated[str | None, Query(max_length=200, description="e.g. hearing:12")] = None,  # noqa: A002
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> object:
    from models import AuditEvent

    require(user, Action.READ_AUDIT)
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if object:
        stmt = stmt.where(AuditEvent.object == object)
    return session.scalars(stmt).all()


@router.get("/verify", response_model=AuditVerificationPublic)
def verify(user: CurrentUser, session: SessionDep) -> AuditVerificationPublic:
    from models.audit import verify_chain

    require(user, Action.READ_AUDIT)
    result = verify_chain(session)
    return AuditVerificationPublic(ok=result.ok, events=result.events, broken_event_id=result.broken_event_id,
                                   reason=result.reason)
