"""Who may do what: one table of role → actions, plus per-case scoping and sealing.

- judge, clerk, appeal_judge and admin reach every case of the court; a party only the cases it is
  granted (``CaseAccess``, until the grant expires) or takes part in (``Participant.user_id``); a
  terminal only the cases heard in the courtroom its token is bound to. A party changes a case (submits
  evidence) only where it takes part or holds a write grant: a read grant is read-only.
- sealed evidence and sealed transcript portions: judge and clerk only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from courtroom_api.errors import NotFoundError, PermissionDeniedError


class Action(enum.StrEnum):
    READ_CASE = "case.read"
    WRITE_CASE = "case.write"
    MANAGE_USERS = "user.manage"
    MANAGE_COURTROOMS = "courtroom.manage"
    CONTROL_HEARING = "hearing.control"
    VIEW_LIVE = "hearing.live"
    READ_TRANSCRIPT = "transcript.read"
    CORRECT = "transcript.correct"
    ANNOTATE = "transcript.annotate"
    SEAL = "seal"
    SIGN = "record.sign"
    UNLOCK = "record.unlock"
    READ_EVIDENCE = "evidence.read"
    UPLOAD_EVIDENCE = "evidence.upload"
    DISPLAY = "display.control"
    SEARCH = "search"
    READ_RECORDING = "recording.read"
    READ_AUDIT = "audit.read"


A = Action
_BENCH = {A.READ_CASE, A.WRITE_CASE, A.CONTROL_HEARING, A.VIEW_LIVE, A.READ_TRANSCRIPT, A.CORRECT, A.ANNOTATE,
          A.SEAL, A.SIGN, A.READ_EVIDENCE, A.UPLOAD_EVIDENCE, A.DISPLAY, A.SEARCH, A.READ_RECORDING}
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    "judge": frozenset(_BENCH | {A.UNLOCK, A.READ_AUDIT}),
    "clerk": frozenset(_BENCH),
    "party": frozenset({A.READ_CASE, A.VIEW_LIVE, A.READ_TRANSCRIPT, A.READ_EVIDENCE, A.UPLOAD_EVIDENCE,
                        A.READ_RECORDING}),
    "appeal_judge": frozenset({A.READ_CASE, A.READ_TRANSCRIPT, A.READ_EVIDENCE, A.SEARCH, A.READ_RECORDING}),
    "admin": frozenset({A.READ_CASE, A.WRITE_CASE, A.MANAGE_USERS, A.MANAGE_COURTROOMS, A.READ_AUDIT}),
    "terminal": frozenset({A.READ_CASE, A.VIEW_LIVE, A.READ_TRANSCRIPT, A.READ_EVIDENCE}),
}
# What changes a case: refused on a case the caller reaches through a read-only grant.
WRITE_ACTIONS = frozenset({A.WRITE_CASE, A.CONTROL_HEARING, A.CORRECT, A.ANNOTATE, A.SEAL, A.SIGN, A.UNLOCK,
                           A.UPLOAD_EVIDENCE, A.DISPLAY})
SEALED_ROLES = frozenset({"judge", "clerk"})
COURT_WIDE_ROLES = frozenset({"judge", "clerk", "appeal_judge", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as loaded from the users table for this request."""

    user_id: int
    login: str
    role: str
    display_name: str = ""
    courtroom_id: int | None = None
    side: str | None = None
    # The login (bearer token) this request came with, by its jti and iat: media links made for the
    # caller carry it, so that they end when that login is revoked.
    token_id: str = ""
    token_issued_at: float = 0.0

    @property
    def actor(self) -> str:
        """How the audit chain names this caller."""
        return f"user:{self.user_id}:{self.login}"

    @property
    def may_see_sealed(self) -> bool:
        return self.role in SEALED_ROLES

    def can(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.role, frozenset())


def require(principal: Principal, action: Action) -> None:
    """Raise :class:`PermissionDeniedError` unless the caller's role allows ``action``."""
    if not principal.can(action):
        raise PermissionDeniedError(f"role {principal.role!r} may not {action.value}")


def case_scope(principal: Principal, session: Session) -> frozenset[int] | None:
    """The case ids the caller may reach; None means every case."""
    from models import CaseAccess, Hearing, Participant

    if principal.role in COURT_WIDE_ROLES:
        return None
    if principal.role == "terminal":
        if principal.courtroom_id is None:
            return frozenset()
        rows = session.scalars(select(Hearing.case_id).where(Hearing.courtroom_id == principal.courtroom_id))
        return frozenset(rows)
    granted = session.scalars(select(CaseAccess.case_id).where(CaseAccess.user_id == principal.user_id, _current()))
    taking_part = session.scalars(select(Participant.case_id).where(Participant.user_id == principal.user_id))
    return frozenset(granted) | frozenset(taking_part)


def _current() -> ColumnElement[bool]:
    """A grant that has not expired."""
    from models import CaseAccess
    from models.base import utcnow

    return or_(CaseAccess.expires_at.is_(None), CaseAccess.expires_at > utcnow())


def _may_change(principal: Principal, session: Session, case_id: int) -> bool:
    """A party takes part in the case, or holds a current grant to change it."""
    from models import CaseAccess, Participant
    from models.enums import AccessLevel

    if session.scalar(select(Participant.id).where(Participant.user_id == principal.user_id,
                                                   Participant.case_id == case_id).limit(1)) is not None:
        return True
    return session.scalar(select(CaseAccess.id).where(
        CaseAccess.user_id == principal.user_id, CaseAccess.case_id == case_id,
        CaseAccess.level != AccessLevel.READ, _current()).limit(1)) is not None


def require_case(principal: Principal, session: Session, case_id: int, action: Action = Action.READ_CASE) -> None:
    """The caller may do ``action`` on case ``case_id``.

    A case outside the caller's scope is reported as not found, so its existence does not leak.
    """
    require(principal, action)
    scope = case_scope(principal, session)
    if scope is not None and case_id not in scope:
        raise NotFoundError(f"case {case_id} not found")
    if (scope is not None and principal.role != "terminal" and action in WRITE_ACTIONS
            and not _may_change(principal, session, case_id)):
        raise PermissionDeniedError(f"your access to case {case_id} is read-only")


def require_sealed_access(principal: Principal, sealed: bool, what: str) -> None:
    if sealed and not principal.may_see_sealed:
        raise NotFoundError(f"{what} not found")
