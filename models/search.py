"""Transcript and statute search for appeal judges: Mandarin and English, SQLite and PostgreSQL.

See :mod:`models.search_sql` for how terms map onto the two databases' indexes. Ranking: recent
matches that pass the filters are ranked (BM25 on SQLite, pg_trgm similarity on PostgreSQL) and
the best ``limit`` returned. On SQLite these are the newest ``rank_window`` matches. On PostgreSQL
they are the matches in the newest window of ids that holds at least ``limit`` of them (at most
``rank_window``, the newest), see :func:`models.search_sql.postgres_newest_ids`: finding 200
matches there costs ten times as many rows as finding 20. Either way, with a case filter the
window usually holds every match; for very common words across the whole archive it keeps
latency bounded.
"""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, false, func, literal, select
from sqlalchemy.orm import Session

from models.dossier import Case, Participant, Statute
from models.errors import SearchError
from models.hearing import Hearing, TranscriptSegment
from models.search_sql import (
    TRIGRAM_MIN_CHARS,
    TextTarget,
    postgres_candidates,
    postgres_newest_ids,
    postgres_rank,
    split_terms,
    sqlite_candidates,
)
from models.textgrams import WORD_CHAR, is_cjk
from models.types import SearchHit, SearchQuery, StatuteHit

SNIPPET_CONTEXT_CHARS = 40
SNIPPET_WHOLE_CHARS = 160
MAX_LIMIT = 500
FEW_HEARINGS = 1000  # hearings a filter may leave for PostgreSQL to get them as a list of ids

SEGMENTS = TextTarget(
    TranscriptSegment.__table__,  # type: ignore[arg-type]
    TranscriptSegment.id,
    TranscriptSegment.text,
    TranscriptSegment.search_grams,
    "segment",
)
STATUTES = TextTarget(
    Statute.__table__,  # type: ignore[arg-type]
    Statute.id,
    Statute.text,
    Statute.search_grams,
    "statute",
)


def _candidates(session: Session, target: TextTarget, text: str) -> tuple[Select[Any], list[str], bool]:
    terms = split_terms(text)
    if not terms:
        raise SearchError(f"nothing to search for in {text!r}")
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_candidates(target, terms), terms, True
    return postgres_candidates(target, terms), terms, False


def _rank(cand: Any, is_sqlite: bool, terms: list[str], text_col: Any) -> ColumnElement[float]:
    return cand.c.score if is_sqlite else postgres_rank(" ".join(terms), text_col)


def search_transcripts(session: Session, query: SearchQuery) -> list[SearchHit]:
    """Ranked transcript segments matching ``query`` (best first), sealed ones only on request."""
    if query.allowed_case_ids is not None and not query.allowed_case_ids:
        return []
    stmt, terms, is_sqlite = _candidates(session, SEGMENTS, query.text)
    one_case = query.case_id is not None or query.case_number is not None
    cand = _window(
        session, SEGMENTS, _filter(session, stmt, query, is_sqlite), query.limit, query.rank_window, one_case
    )
    if cand is None:
        return []
    seg = TranscriptSegment
    rank = _rank(cand, is_sqlite, terms, seg.text)
    outer = (
        select(
            seg.id,
            seg.hearing_id,
            seg.role,
            seg.start_s,
            seg.end_s,
            seg.text,
            seg.sealed,
            Case.id.label("case_id"),
            Case.case_number,
            Participant.name.label("participant_name"),
            func.coalesce(Hearing.started_at, Hearing.scheduled_start).label("held_at"),
            rank.label("rank"),
        )
        .select_from(cand)
        .join(seg, seg.id == cand.c.id)
        .join(Hearing, Hearing.id == seg.hearing_id)
        .join(Case, Case.id == Hearing.case_id)
        .outerjoin(Participant, Participant.id == seg.participant_id)
        .order_by(rank.desc(), seg.id.desc())
        .limit(max(1, min(query.limit, MAX_LIMIT)))
    )
    return [
        SearchHit(
            case_number=row.case_number,
            case_id=row.case_id,
            hearing_id=row.hearing_id,
            segment_id=row.id,
            role=str(row.role) if row.role is not None else None,
            participant_name=row.participant_name,
            start_s=row.start_s,
            end_s=row.end_s,
            snippet=highlight(row.text, terms),
            rank=float(row.rank),
            sealed=row.sealed,
            held_at=row.held_at,
        )
        for row in session.execute(outer)
    ]


def _window(
    session: Session, target: TextTarget, stmt: Select[Any], limit: int, rank_window: int, narrow: bool
) -> Subquery | None:
    """The candidates to rank (see the module docstring) as a subquery ``(id, score)``; None if none.

    ``narrow``: a filter (one case) leaves few rows, so PostgreSQL skips the recency windows.
    """
    most = max(rank_window, limit)
    if session.get_bind().dialect.name == "sqlite":
        return stmt.limit(most).subquery("candidates")
    if narrow:
        ids = list(session.scalars(stmt.limit(most)))
    else:
        ids = postgres_newest_ids(session, stmt, target.id, limit, most)
    if not ids:
        return None
    picked = select(target.id.label("id"), literal(0.0).label("score")).where(target.id.in_(ids))
    return picked.subquery("candidates")


def _filter(session: Session, stmt: Select[Any], query: SearchQuery, is_sqlite: bool) -> Select[Any]:
    seg = TranscriptSegment
    if not query.include_sealed:
        stmt = stmt.where(seg.sealed == false())
    if query.roles:
        stmt = stmt.where(seg.role.in_(sorted(query.roles)))
    on_hearing = _hearing_conditions(query)
    if not on_hearing:
        return stmt
    hearing_ids = select(Hearing.id).where(*on_hearing)
    if not is_sqlite:
        # PostgreSQL: a short list of hearings goes in as values, so that the planner knows how
        # few rows they hold and ANDs their hearing_id bitmap with the text index's. As a join it
        # walked the newest rows instead: 0.2-1 s for hearings holding only the oldest rows.
        few = list(session.scalars(hearing_ids.limit(FEW_HEARINGS + 1)))
        if len(few) <= FEW_HEARINGS:
            return stmt.where(seg.hearing_id.in_(few))
    return stmt.where(seg.hearing_id.in_(hearing_ids))


def _hearing_conditions(query: SearchQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.case_id is not None:
        conditions.append(Hearing.case_id == query.case_id)
    if query.case_number is not None:
        case_ids = select(Case.id).where(Case.case_number == query.case_number).scalar_subquery()
        conditions.append(Hearing.case_id == case_ids)
    if query.allowed_case_ids is not None:
        conditions.append(Hearing.case_id.in_(sorted(query.allowed_case_ids)))
    held = func.coalesce(Hearing.started_at, Hearing.scheduled_start)
    if query.date_from is not None:
        conditions.append(held >= query.date_from)
    if query.date_to is not None:
        conditions.append(held <= query.date_to)
    return conditions


def search_statutes(session: Session, text: str, limit: int = 20, rank_window: int = 200) -> list[StatuteHit]:
    """Statute articles matching ``text`` (same term rules as transcripts), best first."""
    stmt, terms, is_sqlite = _candidates(session, STATUTES, text)
    cand = _window(session, STATUTES, stmt, limit, rank_window, False)
    if cand is None:
        return []
    rank = _rank(cand, is_sqlite, terms, Statute.text)
    outer = (
        select(Statute.id, Statute.code, Statute.article, Statute.text, rank.label("rank"))
        .select_from(cand)
        .join(Statute, Statute.id == cand.c.id)
        .order_by(rank.desc(), Statute.id)
        .limit(max(1, min(limit, MAX_LIMIT)))
    )
    return [
        StatuteHit(row.id, row.code, row.article, highlight(row.text, terms), float(row.rank))
        for row in session.execute(outer)
    ]


def highlight(text: str, terms: list[str]) -> str:
    """An HTML-escaped snippet of ``text`` with every (case-insensitive) term in ``<mark>``.

    Short texts are shown whole; long ones as a window around the first match (else around the
    first plain occurrence of a term, else the start), with ellipses.
    """
    # A short Latin word matches whole words only, as the search does ("is" is not marked in
    # "This"); its words end where the index's do, at Chinese characters too ("QQ" in "和QQ转账").
    pattern = re.compile("|".join(
        re.escape(t) if len(t) >= TRIGRAM_MIN_CHARS or all(is_cjk(c) for c in t)
        else f"(?<!{WORD_CHAR}){re.escape(t)}(?!{WORD_CHAR})"
        for t in sorted(set(terms), key=len, reverse=True)), re.I)
    matches = list(pattern.finditer(text))
    start, end = 0, len(text)
    if len(text) > SNIPPET_WHOLE_CHARS:
        found = matches[0] if matches else re.search("|".join(map(re.escape, terms)), text, re.I)
        if found:
            start = max(0, found.start() - SNIPPET_CONTEXT_CHARS)
            end = min(len(text), found.end() + SNIPPET_WHOLE_CHARS - SNIPPET_CONTEXT_CHARS)
        else:
            end = SNIPPET_WHOLE_CHARS
    out, pos = [], start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        out.append(html.escape(text[pos : m.start()]))
        out.append(f"<mark>{html.escape(m.group())}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix
