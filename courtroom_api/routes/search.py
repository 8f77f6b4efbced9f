"""Transcript search for appeal judges (and the bench), respecting case access and seals."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter

from courtroom_api.auth.policy import Action, case_scope, require
from courtroom_api.deps import ServicesDep, oauth2_scheme, principal_from_token
from courtroom_api.errors import ValidationFailedError
from courtroom_api.record import court_zone
from courtroom_api.schemas import SCHEDULE_YEARS, SearchHitPublic
from courtroom_api.services import Services
from models.enums import ParticipantRole
from models.types import SearchCursor, SearchQuery

router = APIRouter(prefix="/api", tags=["search"])
_HITS = TypeAdapter(list[SearchHitPublic])
NEXT_CURSOR_HEADER = "X-Next-Cursor"  # where the next page starts; absent on the last page
_CURSOR = re.compile(r"(\d{0,16})\.(\d{0,16})\.(\d{1,7})\.([01]?)")


def cursor_text(cursor: SearchCursor) -> str:
    """A page cursor as sent in ``X-Next-Cursor`` (opaque to clients: ids and a count)."""
    older = "" if cursor.older is None else str(int(cursor.older))
    return f"{cursor.below_id or ''}.{cursor.window_low_id or ''}.{cursor.shown}.{older}"


def parse_cursor(text: str) -> SearchCursor:
    """The cursor of :func:`cursor_text`; a ValidationFailedError for anything else."""
    m = _CURSOR.fullmatch(text)
    if m is None:
        raise ValidationFailedError("cursor: pass the X-Next-Cursor header of the last page as it came")
    below, low, shown, older = m.groups()
    return SearchCursor(int(below) if below else None, int(low) if low else None, int(shown),
                        None if not older else older == "1")


def play_url(hearing_id: int, start_s: float) -> str:
    """Where the recording plays from this moment (the hearing's player resolves the recording)."""
    return f"/api/hearings/{hearing_id}/play?t={start_s:.2f}"


@router.get("/search", response_model=list[SearchHitPublic])
async def search(
    services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)],
    q: Annotated[str, Query(min_length=1, max_length=200, description="words to find (中文 or English)")],
    role: Annotated[list[ParticipantRole] | None, Query(description="only these speaker roles")] = None,
    case: Annotated[str | None, Query(max_length=100, description="case id or case number")] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=60, description=(
        "the next page: the X-Next-Cursor header of the last one (same query and filters)"))] = None,
) -> Response:
    """Hits with case number, hearing, role, participant, time offset, a ``<mark>``ed snippet, a play link
    and whether the line is sealed (found only by those who may see sealed lines).

    ``case``: a case id, or a case number as printed or typed (full-width brackets and digits, blanks
    aside: "（2024）吉2424民初123号 " is "(2024)吉2424民初123号"). A case the caller may not see, or
    none of that number, gives no hits (200), never a 404 that would tell the two apart.

    Best first, up to ``limit`` a page; while more hits follow, the response's ``X-Next-Cursor``
    header says where the next page starts (a page may hold fewer than ``limit`` hits then).

    The hot path of appeal work: authentication, the query and the JSON body are done in one
    worker-thread hop (the event loop, which also serves the live hearings, only sends the bytes).
    """
    if from_ and to and to < from_:
        raise ValidationFailedError(f"to ({to}) is before from ({from_}): no day is in that range")
    # No hearing is held before 1900 or after 2200 (the years a hearing may be scheduled in): from such a
    # day is from the first hearing, to it is to the last (0001-01-01 in the court's zone overflowed UTC, a 500).
    from_ = from_ if from_ and from_.year >= SCHEDULE_YEARS[0] else None
    to = to if to and to.year <= SCHEDULE_YEARS[-1] else None
    q = "".join(ch if ch.isprintable() else " " for ch in q)  # control characters (NUL…) are not text
    case = (case or "").strip() or None  # a number pasted with a blank after it is that number
    # (isdigit() is also true of ① and ², which int() refuses: those are case numbers, not ids)
    case_id = int(case) if case and case.isascii() and case.isdigit() and len(case) < 16 else None
    zone = court_zone(services.settings.timezone)
    query = SearchQuery(
        text=q, roles=frozenset(r.value for r in role or ()), case_id=case_id,
        case_number=case if case and case_id is None else None,
        # the court's days (a hearing at 07:30 in Beijing is on that day, not the day before in UTC)
        date_from=datetime.combine(from_, time.min, tzinfo=zone) if from_ else None,
        date_to=datetime.combine(to, time.max, tzinfo=zone) if to else None,
        limit=limit, page=parse_cursor(cursor) if cursor else None,
    )
    body, after = await asyncio.to_thread(_search, services, token, query, zone)
    headers = {NEXT_CURSOR_HEADER: cursor_text(after)} if after else None
    return Response(body, media_type="application/json", headers=headers)


def _search(
    services: Services, token: str | None, query: SearchQuery, zone: tzinfo
) -> tuple[bytes, SearchCursor | None]:
    from models.search import search_transcript_page

    with services.sessions() as session:
        user = principal_from_token(token, services, session)
        require(user, Action.SEARCH)
        if not any(ch.isalnum() for ch in query.text):
            return b"[]", None  # nothing searchable (punctuation or control characters only)
        query = replace(query, include_sealed=user.may_see_sealed, allowed_case_ids=case_scope(user, session))
        page = search_transcript_page(session, query)
        return _HITS.dump_json([
            SearchHitPublic(
                case_id=h.case_id, case_number=h.case_number, hearing_id=h.hearing_id, segment_id=h.segment_id,
                role=h.role, participant=h.participant_name, start_s=h.start_s, end_s=h.end_s, snippet=h.snippet,
                play_url=play_url(h.hearing_id, h.start_s), sealed=h.sealed, held_at=h.held_at,
                held_on=h.held_at.astimezone(zone).date() if h.held_at else None,
            )
            for h in page.hits
        ]), page.next
