"""Search over more rows than the first recency window (PostgreSQL widens it; SQLite has none).

The window is shrunk to 2 ids so that a few dozen rows need several rounds; every answer must be
the one an unbounded query gives: the newest matches that pass the filters, sealed ones never.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

import models.search
import models.search_sql
from models import Case, Hearing, TranscriptSegment
from models.search import search_transcripts
from models.types import SearchQuery

TERM = "借款合同"
CASE = "(2024)吉2424民初9号"


@pytest.fixture
def rows(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """60 segments, oldest first: 3 old witness matches, filler, then matches (every 4th sealed)."""
    monkeypatch.setattr(models.search_sql, "FIRST_WINDOW_IDS", 2)
    made: dict[str, list[int]] = {"witness": [], "open": [], "sealed": []}
    with sessions.begin() as s:
        case = Case(case_number=CASE)
        s.add(case)
        s.flush()
        hearing = Hearing(case_id=case.id)
        s.add(hearing)
        s.flush()
        for i in range(60):
            witness, match, sealed = i < 3, i >= 40, i >= 40 and i % 4 == 0
            text = f"{TERM}第{i}条" if witness or match else f"无关的话{i}"
            seg = TranscriptSegment(
                hearing_id=hearing.id,
                start_s=float(i),
                end_s=i + 0.5,
                text=text,
                role="witness" if witness else "plaintiff",
                sealed=sealed,
            )
            s.add(seg)
            s.flush()
            if witness or match:
                made["witness" if witness else "sealed" if sealed else "open"].append(seg.id)
    return made


def _ids(sessions: sessionmaker[Session], **kwargs: object) -> list[int]:
    with sessions() as s:
        return [h.segment_id for h in search_transcripts(s, SearchQuery(text=TERM, **kwargs))]  # type: ignore[arg-type]


def test_newest_matches_without_sealed_ones(
    sessions: sessionmaker[Session], rows: dict[str, list[int]]
) -> None:
    newest = sorted(rows["open"], reverse=True)[:5]
    assert sorted(_ids(sessions, limit=5, rank_window=5), reverse=True) == newest


def test_old_matches_are_found_by_widening(
    sessions: sessionmaker[Session], rows: dict[str, list[int]]
) -> None:
    assert sorted(_ids(sessions, roles=frozenset({"witness"}))) == rows["witness"]
    one_case = {"case_number": CASE, "roles": frozenset({"witness"})}  # no windows for one case
    assert sorted(_ids(sessions, **one_case)) == rows["witness"]


def test_every_match_when_fewer_than_the_limit(
    sessions: sessionmaker[Session], rows: dict[str, list[int]]
) -> None:
    assert sorted(_ids(sessions, limit=100)) == sorted(rows["witness"] + rows["open"])
    everything = sorted(rows["witness"] + rows["open"] + rows["sealed"])
    assert sorted(_ids(sessions, limit=100, include_sealed=True)) == everything


@pytest.mark.parametrize("few_hearings", [0, 1000])
def test_hearing_filters_as_list_or_subquery(
    sessions: sessionmaker[Session],
    rows: dict[str, list[int]],
    monkeypatch: pytest.MonkeyPatch,
    few_hearings: int,
) -> None:
    monkeypatch.setattr(models.search, "FEW_HEARINGS", few_hearings)  # 0: always the subquery
    witness = frozenset({"witness"})
    assert sorted(_ids(sessions, roles=witness, case_number=CASE, limit=100)) == rows["witness"]
    undated = datetime(2000, 1, 1, tzinfo=UTC)  # the fixture's hearing has no date: never in a range
    assert _ids(sessions, date_from=undated) == []
    assert _ids(sessions, case_number="(2024)吉2424民初0号") == []


@pytest.mark.parametrize(
    "filters",
    [{}, {"roles": frozenset({"witness"})}, {"case_number": CASE}, {"case_number": CASE, "case_rank_window": 4}],
)
def test_pages_reach_every_match_once(
    sessions: sessionmaker[Session], rows: dict[str, list[int]], filters: dict[str, object]
) -> None:
    """Following each page's cursor reaches every match once, ranked windows past the newest one
    included; the last page says so. (Only the newest ``rank_window`` matches could be reached.)"""
    from models.search import search_transcript_page

    query = SearchQuery(text=TERM, limit=3, rank_window=5, **filters)  # type: ignore[arg-type]
    want = rows["witness"] if "roles" in filters else rows["witness"] + rows["open"]
    seen: list[int] = []
    with sessions() as s:
        for _ in range(len(want) + 2):
            page = search_transcript_page(s, query)
            assert len(page.hits) <= 3
            seen += [h.segment_id for h in page.hits]
            if page.next is None:
                break
            query = replace(query, page=page.next)
    assert sorted(seen) == sorted(want) and page.next is None
