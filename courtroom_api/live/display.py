"""The "now displayed" exhibit of each hearing: what the bench shows on the party screens.

The state lives in ``services.display`` (hearing id → ``schemas.DisplayState``) and every change goes out
on the hearing's live stream as a ``display`` event. A sealed exhibit is never on display: sealing one
that is takes it off every screen.
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

    state: DisplayState = services.display.get(hearing_id, DisplayState())
    if state.evidence_id is None or user.may_see_sealed:
        return state
    evidence = session.get(Evidence, state.evidence_id)
    return state if evidence is not None and not evidence.sealed else DisplayState()


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
