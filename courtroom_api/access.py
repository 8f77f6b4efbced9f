"""Loading dossier objects for a caller: existence, case scope, role and seal checks in one step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from courtroom_api.auth.policy import Action, Principal, require_case, require_sealed_access
from courtroom_api.errors import NotFoundError


def audit(session: Session, who: Principal | str, action: str, obj: str, **details: Any) -> None:
    """Append to the audit chain in the caller's transaction (committed with the change itself)."""
    from models.audit import append_event

    actor = who.actor if isinstance(who, Principal) else who
    append_event(session, actor=actor, action=action, obj=obj, details=details)


def get_or_404(session: Session, model: Any, ident: int, what: str, *, for_update: bool = False,
               for_edit: bool = False) -> Any:
    """The row of ``model`` with primary key ``ident``, or NotFoundError("<what> <ident> not found").
    ``for_update``: locked until the transaction ends (PostgreSQL; SQLite's write sessions hold the whole
    database), read afresh, for a change that depends on the row's state (a hearing's status).
    ``for_edit``: locked, read afresh, as the row's own UPDATE locks it (FOR NO KEY UPDATE: rows that
    refer to it can still be added), for an edit that takes the audit chain's lock after it. Every writer
    locks the rows it changes before the chain (a hearing, its room, its case, then the chain): one that
    took the chain first and the row second deadlocked with a stop, a start or a seal."""
    lock = {"key_share": True} if for_edit else (for_update or None)
    row = session.get(model, ident, with_for_update=lock, populate_existing=for_update or for_edit)
    if row is None:
        raise NotFoundError(f"{what} {ident} not found")
    return row


def load_case(session: Session, p: Principal, case_id: int, action: Action = Action.READ_CASE, *,
              for_update: bool = False, for_edit: bool = False) -> Any:
    from models import Case

    case = get_or_404(session, Case, case_id, "case", for_update=for_update, for_edit=for_edit)
    require_case(p, session, case.id, action)
    return case


def _require_case_of(p: Principal, session: Session, case_id: int, action: Action, what: str) -> None:
    """``require_case`` for an object of the case, reported as that object not found: "case 7 not
    found" for segment 512 would tell an outsider that the segment exists, and in which case."""
    try:
        require_case(p, session, case_id, action)
    except NotFoundError:
        raise NotFoundError(f"{what} not found") from None


def require_hearing(p: Principal, session: Session, hearing: Any, action: Action, what: str) -> None:
    """The caller may do ``action`` on ``hearing`` (and so on ``what``, an object of it): its case is in
    scope, and a terminal reaches the hearings held in its own courtroom only, not the rest of their
    cases' (a case heard in two rooms, a past hearing's transcript). Refused as ``what`` not found."""
    _require_case_of(p, session, hearing.case_id, action, what)
    if p.role == "terminal" and hearing.courtroom_id != p.courtroom_id:
        raise NotFoundError(f"{what} not found")


def load_hearing(session: Session, p: Principal, hearing_id: int, action: Action = Action.READ_CASE, *,
                 for_update: bool = False) -> Any:
    from models import Hearing

    hearing = get_or_404(session, Hearing, hearing_id, "hearing", for_update=for_update)
    require_hearing(p, session, hearing, action, f"hearing {hearing_id}")
    return hearing


def load_segment(session: Session, p: Principal, segment_id: int, action: Action) -> Any:
    from models import TranscriptSegment

    segment = get_or_404(session, TranscriptSegment, segment_id, "segment")
    require_hearing(p, session, segment.hearing, action, f"segment {segment_id}")
    require_sealed_access(p, segment.sealed, f"segment {segment_id}")
    return segment


def load_evidence(session: Session, p: Principal, evidence_id: int, action: Action = Action.READ_EVIDENCE) -> Any:
    from models import Evidence

    evidence = get_or_404(session, Evidence, evidence_id, "evidence")
    _require_case_of(p, session, evidence.case_id, action, f"evidence {evidence_id}")
    require_sealed_access(p, evidence.sealed, f"evidence {evidence_id}")
    return evidence
