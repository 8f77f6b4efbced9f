"""The "now displayed" exhibit of each hearing: what the bench shows on the party screens.

The state lives in ``services.display`` (hearing id → ``schemas.DisplayState``) and every change goes out
on the hearing's live stream as a ``display`` event. A sealed exhibit is never on display: sealing one
that is takes it off every screen. Every change is audited (``display.set``), and a server that restarted
reads the state back from there when it is first asked for it (``current``): the screens went blank
mid-hearing and the bench's banner went. A hearing that ends shows nothing (``end``), whether or not the
server restarted since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from courtroom_api.access import audit
from courtroom_api.auth.policy import Principal
from courtroom_api.schemas import DisplayState


def shown_to(services: Any, session: Session, user: Principal, hearing_id: int) -> DisplayState:
    """The hearing's display as ``user`` may see it: blank where it names an exhibit sealed (or gone) and
    the user may not see sealed items."""
    from models import Evidence

    state = current(services, session, hearing_id)
    if state.evidence_id is None or user.may_see_sealed:
        return state
    evidence = session.get(Evidence, state.evidence_id)
    return state if evidence is not None and not evidence.sealed else DisplayState()


def current(services: Any, session: Session, hearing_id: int) -> DisplayState:
    """The hearing's display: this server's, else (none set since it started) the last audited one,
    unless the hearing has ended, or the exhibit is gone or was sealed since (sealed after a restart,
    ``take_down`` had no display here to blank)."""
    from models import Hearing
    from models.enums import HearingStatus

    hearing = session.get(Hearing, hearing_id)
    if hearing is None or hearing.status in (HearingStatus.ENDED, HearingStatus.CANCELLED):
        return DisplayState()  # (a PUT that was let in as the hearing ended may have set one since)
    state: DisplayState | None = services.display.get(hearing_id)
    if state is None:
        state = _last_audited(session, hearing_id)
        # A PUT (or a take-down) that came while this read keeps its newer state.
        state = services.display.setdefault(hearing_id, state)
    return state


def _last_audited(session: Session, hearing_id: int) -> DisplayState:
    from sqlalchemy import select

    from models import Evidence, Hearing
    from models.audit import AuditEvent

    blank = DisplayState()
    hearing = session.get_one(Hearing, hearing_id)
    last = session.scalar(select(AuditEvent).where(
        AuditEvent.action == "display.set", AuditEvent.object == f"hearing:{hearing_id}",
    ).order_by(AuditEvent.id.desc()).limit(1))
    if last is None or last.details.get("evidence_id") is None:
        return blank
    state = DisplayState.model_validate({k: last.details.get(k) for k in DisplayState.model_fields})
    evidence = session.get(Evidence, state.evidence_id)
    if evidence is None or evidence.sealed or evidence.case_id != hearing.case_id:
        return blank
    updates = session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "evidence.update", AuditEvent.object == f"evidence:{state.evidence_id}",
        AuditEvent.id > last.id))
    return blank if any(d.get("sealed") for d in updates) else state


def end(services: Any, session: Session, user: Principal | str, hearing_id: int) -> bool:
    """The hearing ends: its display goes blank (the party screens leave the exhibit with the hearing, and
    the bench's banner must not say they still see it). Audited in the caller's transaction when an exhibit
    was on display here; the caller publishes the blank ``display`` event once that is committed. Returns
    whether the display changed."""
    shown = services.display.pop(hearing_id, None)
    if shown is None or shown.evidence_id is None:
        return False
    blank = DisplayState()
    audit(session, user, "display.set", f"hearing:{hearing_id}", **blank.model_dump(), reason="hearing ended")
    return True


def take_down(services: Any, session: Session, user: Principal, evidence_id: int, reason: str) -> list[int]:
    """Take an exhibit off every hearing's display it is on (sealed now): the display goes blank on every
    screen, and the events that named it are redacted for viewers who may not see sealed items (replays,
    queues not yet sent). Audited in the caller's transaction; returns the hearings whose display changed."""
    blank = DisplayState()
    cleared = []
    for hearing_id, state in list(services.display.items()):
        if state.evidence_id != evidence_id:
            continue
        services.display[hearing_id] = blank
        audit(session, user, "display.set", f"hearing:{hearing_id}", **blank.model_dump(), reason=reason)
        cleared.append(hearing_id)
    for hearing_id in cleared:
        stream = services.hub.get(hearing_id)
        if stream is not None and not stream.closed:
            stream.publish("display", blank.model_dump())
    for stream in services.hub.streams():
        stream.redact_display(evidence_id, blank.model_dump())
    return cleared
