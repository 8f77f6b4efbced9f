"""Statute lookup for the bench: full-text search over the statutes a court imported."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from courtroom_api.access import get_or_404
from courtroom_api.deps import CurrentUser, IdPath, SessionDep

router = APIRouter(prefix="/api/statutes", tags=["statutes"])


class StatuteHitPublic(BaseModel):
    """A matching article; ``snippet`` is HTML-escaped text with ``<mark>`` around the terms."""

    id: int
    code: str
    article: str
    snippet: str
    rank: float


class StatutePublic(BaseModel):
    id: int
    code: str
    article: str
    text: str


@router.get("", response_model=list[StatuteHitPublic], summary="Search statutes (Mandarin and English)")
def search(
    _user: CurrentUser,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="search terms")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[StatuteHitPublic]:
    from models.search import search_statutes

    q = "".join(ch if ch.isprintable() else " " for ch in q)  # control characters (NUL…) are not text
    if not any(ch.isalnum() for ch in q):
        return []  # nothing searchable (punctuation or control characters only)
    return [StatuteHitPublic(id=h.statute_id, code=h.code, article=h.article, snippet=h.snippet, rank=h.rank)
            for h in search_statutes(session, q, limit=limit)]


@router.get("/{statute_id}", response_model=StatutePublic, summary="One statute article in full")
def get_statute(statute_id: IdPath, _user: CurrentUser, session: SessionDep) -> StatutePublic:
    from models import Statute

    row = get_or_404(session, Statute, statute_id, "statute")
    return StatutePublic(id=row.id, code=row.code, article=row.article, text=row.text)
