"""Per-dialect match clauses of the text search (see :mod:`models.search` for the public API).

A query is split into terms (whitespace; a double-quoted part is one term). Every term must match.
Terms of 3+ characters use the trigram index (FTS5 ``trigram`` on SQLite, ``pg_trgm`` GIN with
ILIKE on PostgreSQL); shorter terms (1-2 Chinese characters, or a 1-2 letter word) use the
``search_grams`` word index (FTS5 ``unicode61`` phrase on SQLite, ``tsvector`` phrase on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, table, true
from sqlalchemy.orm import InstrumentedAttribute

from models.textgrams import gram_text

TRIGRAM_MIN_CHARS = 3


@dataclass(frozen=True, slots=True)
class TextTarget:
    """A searchable table: its ``id``, ``text`` and ``search_grams`` columns and FTS5 name prefix."""

    id: InstrumentedAttribute[int]
    text: InstrumentedAttribute[str]
    grams: InstrumentedAttribute[str]
    fts_prefix: str


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """What to join (SQLite: FTS subqueries giving ``id`` and ``score``), filter and rank by."""

    joins: tuple[tuple[object, ColumnElement[bool]], ...]
    where: ColumnElement[bool]
    rank: ColumnElement[float]


def split_terms(text: str) -> list[str]:
    """Terms of a query: whitespace-separated, except that "double quoted parts" stay whole."""
    terms: list[str] = []
    for i, part in enumerate(text.split('"')):
        if i % 2:  # inside quotes
            if part.strip():
                terms.append(" ".join(part.split()))
        else:
            terms.extend(part.split())
    return terms


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_subquery(name: str, expression: str) -> Select:
    fts = table(name)
    return (
        select(literal_column("rowid").label("id"), literal_column(f"bm25({name})").label("score"))
        .select_from(fts)
        .where(literal_column(name).op("MATCH")(expression))
    )


def sqlite_plan(target: TextTarget, terms: list[str]) -> MatchPlan:
    """FTS5: one trigram subquery for long terms, one word-token subquery for short ones."""
    long_terms = [t for t in terms if len(t) >= TRIGRAM_MIN_CHARS]
    short_terms = [gram_text(t) for t in terms if len(t) < TRIGRAM_MIN_CHARS]
    joins = []
    rank: ColumnElement[float] = literal_column("0.0")
    for suffix, parts in (("fts", long_terms), ("grams_fts", short_terms)):
        if not parts:
            continue
        name = f"{target.fts_prefix}_{suffix}"
        sub = _fts_subquery(name, " AND ".join(_fts5_phrase(p) for p in parts)).subquery(name + "_hits")
        joins.append((sub, sub.c.id == target.id))
        rank = rank - sub.c.score  # bm25: lower is better
    return MatchPlan(joins=tuple(joins), where=true(), rank=rank)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def postgres_plan(target: TextTarget, terms: list[str], whole_query: str) -> MatchPlan:
    """pg_trgm ILIKE for long terms, ``tsvector`` phrase match on ``search_grams`` for short ones."""
    simple = literal_column("'simple'::regconfig")  # a constant, so the expression index applies
    conditions: list[ColumnElement[bool]] = []
    for term in terms:
        if len(term) >= TRIGRAM_MIN_CHARS:
            conditions.append(target.text.ilike(f"%{_like_escape(term)}%", escape="\\"))
        else:
            tsv = func.to_tsvector(simple, target.grams)
            conditions.append(tsv.op("@@")(func.phraseto_tsquery(simple, gram_text(term))))
    # pg_trgm similarity of the whole query to the text: shorter, more on-topic segments first.
    rank = func.similarity(whole_query, target.text)
    return MatchPlan(joins=(), where=and_(*conditions), rank=rank)
