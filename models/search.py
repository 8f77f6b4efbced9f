"""Transcript and statute search for appeal judges: Mandarin and English, SQLite and PostgreSQL.

See :mod:`models.search_sql` for how terms map onto the two databases' indexes. Ranking: recent
matches that pass the filters are ranked (BM25 on SQLite, pg_trgm similarity on PostgreSQL) and
the best ``limit`` returned. On SQLite these are the newest ``rank_window`` matches. On PostgreSQL
they are the matches in the newest window of ids that holds at least ``limit`` of them (at most
``rank_window``, the newest), see :func:`models.search_sql.postgres_newest_ids`: finding 200
matches there costs ten times as many rows as finding 20. Either way, with a case filter the
window usually holds every match (up to ``case_rank_window`` of them are ranked together); for
very common words across the whole archive it keeps latency bounded.

Pages: the ranked window is handed out ``limit`` hits at a time, then the next window of older
matches (below the last one's oldest id) is ranked, and so on; :class:`models.types.SearchCursor`
says where a page starts. Telling whether more follow costs one more ranked row (on SQLite
also the window's size and bounds, counted over its candidates), and where a window is used up
without knowing whether older matches exist (a full one), one look for an older match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, false, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import NamedFromClause

from models.dossier import Case, Participant, Statute, case_number_key
from models.errors import SearchError
from models.hearing import Hearing, TranscriptSegment
from models.search_sql import (
    TRIGRAM_MIN_CHARS,
    TextTarget,
    by_bitmap,
    postgres_candidates,
    postgres_newest_ids,
    postgres_rank,
    split_terms,
    sqlite_candidates,
)
from models.statute_refs import StatuteReference, law_name, parse_reference
from models.textgrams import WORD_CHAR, is_cjk
from models.types import SearchCursor, SearchHit, SearchPage, SearchQuery, StatuteHit

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


@dataclass(frozen=True, slots=True)
class _Window:
    """Matches ranked together. SQLite: ``stmt`` yields them with their BM25 score (ranked in the
    same query); PostgreSQL: their ``ids`` (ranked by similarity). ``older``: whether older matches
    exist (None: not known); ``newest``: they are the newest ``most`` (fewer: there are no older)."""

    stmt: Select[Any] | None
    ids: list[int]
    older: bool | None
    newest: bool = False


@dataclass(frozen=True, slots=True)
class _Ranked:
    """Rows ``skip`` to ``skip + n`` of a window, best first, with their rank; how many matches the
    window holds, and its oldest and newest ids (None when no row came back)."""

    rows: list[tuple[Any, float]]
    size: int
    low_id: int | None
    high_id: int | None


def _candidates(
    session: Session, target: TextTarget, text: str, below_id: int | None = None, from_id: int | None = None
) -> tuple[Select[Any], list[str], bool]:
    terms = split_terms(text)
    if not terms:
        raise SearchError(f"nothing to search for in {text!r}")
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_candidates(target, terms, below_id, from_id), terms, True
    return postgres_candidates(target, terms, below_id, from_id), terms, False


def search_transcripts(session: Session, query: SearchQuery) -> list[SearchHit]:
    """Ranked transcript segments matching ``query`` (best first), sealed ones only on request."""
    return search_transcript_page(session, query).hits


def search_transcript_page(session: Session, query: SearchQuery) -> SearchPage:
    """A page of :func:`search_transcripts` (from ``query.page``) and where the next page starts.

    A page holds at most ``limit`` hits and never spans two windows (so it may hold fewer while
    more follow); following ``next`` reaches every match once.
    """
    if query.allowed_case_ids is not None and not query.allowed_case_ids:
        return SearchPage([], None)
    at = query.page or SearchCursor()
    stmt, terms, is_sqlite = _candidates(session, SEGMENTS, query.text, at.below_id, at.window_low_id)
    stmt = _filter(session, stmt, query, is_sqlite)
    one_case = query.case_id is not None or query.case_number is not None
    most = max(query.case_rank_window if one_case else query.rank_window, query.limit)
    limit = max(1, min(query.limit, MAX_LIMIT))
    if at.window_low_id is None:
        window, shown = _window(session, SEGMENTS, stmt, is_sqlite, limit + 1, most, one_case, at.below_id), 0
    else:  # the window under way, again
        window, shown = _again(session, SEGMENTS, stmt, is_sqlite, most, at.older), at.shown
    ranked = _rank(session, _hit_columns, SEGMENTS, window, terms, shown, limit + 1)
    hits = [_hit(row, rank, terms) for row, rank in ranked.rows[:limit]]
    low = ranked.low_id or at.window_low_id
    if low is None:  # no match
        return SearchPage(hits, None)
    older = False if window.older is None and window.newest and ranked.size < most else window.older
    if len(ranked.rows) > limit and ranked.high_id is not None:
        return SearchPage(hits, SearchCursor(ranked.high_id + 1, low, shown + limit, older))
    if older is None:
        older = _older_exists(session, query, low, is_sqlite or one_case)
    return SearchPage(hits, SearchCursor(below_id=low) if older else None)


def _hit_columns(candidates: NamedFromClause | None) -> Select:
    """The columns of a hit, from the segments or from ``candidates`` (a subquery with their ``id``)."""
    seg = TranscriptSegment
    stmt = select(
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
    )
    if candidates is None:
        stmt = stmt.select_from(seg)
    else:
        stmt = stmt.select_from(candidates).join(seg, seg.id == candidates.c.id)
    return (
        stmt.join(Hearing, Hearing.id == seg.hearing_id)
        .join(Case, Case.id == Hearing.case_id)
        .outerjoin(Participant, Participant.id == seg.participant_id)
    )


def _hit(row: Any, rank: float, terms: list[str]) -> SearchHit:
    return SearchHit(
        case_number=row.case_number,
        case_id=row.case_id,
        hearing_id=row.hearing_id,
        segment_id=row.id,
        role=str(row.role) if row.role is not None else None,
        participant_name=row.participant_name,
        start_s=row.start_s,
        end_s=row.end_s,
        snippet=highlight(row.text, terms),
        rank=rank,
        sealed=row.sealed,
        held_at=row.held_at,
    )


def _window(
    session: Session,
    target: TextTarget,
    stmt: Select[Any],
    is_sqlite: bool,
    enough: int,
    most: int,
    narrow: bool,
    below_id: int | None,
) -> _Window:
    """The newest window of candidates to rank (see the module docstring), at most ``most``.

    ``narrow``: a filter (one case) leaves few rows, so PostgreSQL skips the recency windows.
    """
    if is_sqlite:
        return _Window(stmt.limit(most), [], None, newest=True)
    if narrow:
        ids = list(session.scalars(stmt.limit(most + 1)))
        return _Window(None, ids[:most], len(ids) > most)
    ids, complete = postgres_newest_ids(session, stmt, target.id, enough, most + 1, below_id)
    return _Window(None, ids[:most], True if len(ids) > most else False if complete else None)


def _again(
    session: Session, target: TextTarget, stmt: Select[Any], is_sqlite: bool, most: int, older: bool | None
) -> _Window:
    """A window under way (``stmt`` is bounded to its ids) as its first page ranked it."""
    if is_sqlite:
        return _Window(stmt.limit(most), [], older)
    return _Window(None, list(session.scalars(by_bitmap(stmt, target.id).limit(most))), older)


def _older_exists(session: Session, query: SearchQuery, below_id: int, plain: bool) -> bool:
    """Whether a match older than ``below_id`` passes the filters (``plain``: no recency windows)."""
    stmt, _, is_sqlite = _candidates(session, SEGMENTS, query.text, below_id)
    stmt = _filter(session, stmt, query, is_sqlite)
    if plain:
        return session.execute(stmt.limit(1)).first() is not None
    return bool(postgres_newest_ids(session, stmt, SEGMENTS.id, 1, 1, below_id)[0])


def _rank(
    session: Session,
    columns: Callable[[NamedFromClause | None], Select],
    target: TextTarget,
    window: _Window,
    terms: list[str],
    skip: int,
    n: int,
    newest_first: bool = True,
) -> _Ranked:
    """Rows of ``columns`` for the window's matches ranked ``skip`` to ``skip + n`` (ties newest
    first, or oldest first); on SQLite one query, the window's size and ids counted alongside."""
    if window.stmt is not None:
        # The candidates computed once (MATERIALIZED) for the page and for the window's size and
        # bounds. (Window functions over the joined rows cost a fifth more than the page alone;
        # the counts as SQL text, not select() constructs, save building those on every search.)
        cand = window.stmt.cte("candidates").prefix_with("MATERIALIZED")
        rank: ColumnElement[float] = cand.c.score
        stmt = columns(cand).add_columns(
            literal_column("(SELECT count(*) FROM candidates)").label("window_size"),
            literal_column("(SELECT min(id) FROM candidates)").label("window_low"),
            literal_column("(SELECT max(id) FROM candidates)").label("window_high"),
        )
        tiebreak: ColumnElement[int] | InstrumentedAttribute[int] = cand.c.id
    elif window.ids:
        rank = postgres_rank(" ".join(terms), target.text)
        stmt = columns(None).where(target.id.in_(window.ids))
        tiebreak = target.id
    else:
        return _Ranked([], 0, None, None)
    stmt = stmt.add_columns(rank.label("rank")).order_by(rank.desc(), tiebreak.desc() if newest_first else tiebreak)
    rows = session.execute(stmt.offset(skip).limit(n)).all()
    ranked = [(row, float(row.rank)) for row in rows]
    if window.stmt is None:
        return _Ranked(ranked, len(window.ids), min(window.ids), max(window.ids))
    if not rows:
        return _Ranked([], 0, None, None)
    return _Ranked(ranked, rows[0].window_size, rows[0].window_low, rows[0].window_high)


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
        # Compared as case_number_key (indexed), so that the printed "（2024）…" finds "(2024)…"; also
        # as typed, for a case filed outside the ORM with no key (a bulk load: bench/search.py).
        same = or_(Case.number_key == case_number_key(query.case_number), Case.case_number == query.case_number)
        conditions.append(Hearing.case_id.in_(select(Case.id).where(same)))
    if query.allowed_case_ids is not None:
        conditions.append(Hearing.case_id.in_(sorted(query.allowed_case_ids)))
    held = func.coalesce(Hearing.started_at, Hearing.scheduled_start)
    if query.date_from is not None:
        conditions.append(held >= query.date_from)
    if query.date_to is not None:
        conditions.append(held <= query.date_to)
    return conditions


def search_statutes(session: Session, text: str, limit: int = 20, rank_window: int = 200) -> list[StatuteHit]:
    """Statute articles matching ``text``, best first: those it cites by article number and/or law
    name (see :mod:`models.statute_refs`) before those whose text matches (same term rules as
    transcripts)."""
    limit = max(1, min(limit, MAX_LIMIT))
    terms = split_terms(text)
    cited = _cited_statutes(session, parse_reference(text) or _named_law(session, text), limit)
    found: list[StatuteHit] = []
    if terms or not cited:  # no terms and nothing cited: SearchError, as for transcripts
        stmt, terms, is_sqlite = _candidates(session, STATUTES, text)
        window = _window(session, STATUTES, stmt, is_sqlite, limit, max(rank_window, limit), False, None)
        ranked = _rank(session, _statute_columns, STATUTES, window, terms, 0, limit, newest_first=False)
        found = [StatuteHit(row.id, row.code, row.article, highlight(row.text, terms), rank)
                 for row, rank in ranked.rows]
    top = max((hit.rank for hit in found), default=0.0)
    marks = terms or [text.strip()]
    first = [StatuteHit(row.id, row.code, row.article, highlight(row.text, marks), top + len(cited) - i)
             for i, row in enumerate(cited)]
    shown = {row.id for row in cited}
    return (first + [hit for hit in found if hit.statute_id not in shown])[:limit]


def _named_law(session: Session, text: str) -> StatuteReference | None:
    """A law named as it is printed, whatever its ending ("Civil Code of the People's Republic of China",
    …法（2023修正）): the query is a law's whole name, with or without the note in brackets that ends it;
    a word of a law's name ("Evidence" of "Evidence Rules") stays text search."""
    name = law_name(text)
    if len(name) < 2:
        return None
    pattern = f"{name.translate(_LIKE_ESCAPE).lower()}%"
    codes = session.scalars(select(Statute.code).where(func.lower(Statute.code).like(pattern, escape="\\"))
                            .distinct().limit(20)).all()
    whole = any(law_name(code).lower() == name.lower() for code in codes)
    return StatuteReference((), name) if whole else None


def _cited_statutes(session: Session, ref: StatuteReference | None, limit: int) -> list[Any]:
    """The articles ``ref`` names (a law's articles in their order when it names no article)."""
    if ref is None:
        return []
    stmt = _statute_columns(None)
    order: list[ColumnElement[Any]] = []
    if ref.articles:  # the article as the query writes it first (第…条 before Article N)
        stmt = stmt.where(Statute.article.in_(ref.articles))
        order.append(case({form: i for i, form in enumerate(ref.articles)}, value=Statute.article))
    if ref.law:
        # A Chinese name matches its characters in order (民诉法 → 中华人民共和国民事诉讼法); where
        # it is written out whole in the law's name that law comes first.
        escaped = ref.law.translate(_LIKE_ESCAPE)
        whole = func.lower(Statute.code).like(f"%{escaped.lower()}%", escape="\\")
        if any(is_cjk(ch) for ch in ref.law):
            stmt = stmt.where(Statute.code.like("%" + "%".join(_like_chars(ref.law)) + "%", escape="\\"))
        else:
            stmt = stmt.where(whole)
        order.append(case((whole, 0), else_=1))
    return list(session.execute(stmt.order_by(*order, Statute.id).limit(limit)).all())


_LIKE_ESCAPE = str.maketrans({"%": "\\%", "_": "\\_", "\\": "\\\\"})


def _like_chars(text: str) -> list[str]:
    """The characters of ``text`` (spaces left out) escaped for LIKE."""
    return [ch.translate(_LIKE_ESCAPE) for ch in text if not ch.isspace()]


def _statute_columns(candidates: NamedFromClause | None) -> Select:
    stmt = select(Statute.id, Statute.code, Statute.article, Statute.text)
    if candidates is None:
        return stmt.select_from(Statute)
    return stmt.select_from(candidates).join(Statute, Statute.id == candidates.c.id)


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
