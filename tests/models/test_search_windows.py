"""Search over more rows than the first recency window (PostgreSQL widens it; SQLite has none).

The window is shrunk to 2 ids so that a few dozen rows need several rounds; every answer must be
the one an unbounded query gives: the newest matches that pass the filters, sealed ones never.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

import models.search_sql
from models import Case, Hearing, TranscriptSegment
from models.search import search_transcripts
from models.types import SearchQuery

TERM = "借款合同"


@pytest.fixture
def rows(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """60 segments, oldest first: 3 old witness matches, filler, then matches (every 4th sealed)."""
    monkeypatch.setattr(models.search_sql, "FIRST_WINDOW_IDS", 2)
    made: dict[str, list[int]] = {"witness": [], "open": [], "sealed": []}
    with sessions.begin() as s:
        case = Case(case_number="(2024)吉2424民初9号")
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


def test_every_match_when_fewer_than_the_limit(
    sessions: sessionmaker[Session], rows: dict[str, list[int]]
) -> None:
    assert sorted(_ids(sessions, limit=100)) == sorted(rows["witness"] + rows["open"])
    everything = sorted(rows["witness"] + rows["open"] + rows["sealed"])
    assert sorted(_ids(sessions, limit=100, include_sealed=True)) == everything
