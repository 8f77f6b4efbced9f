"""Per-dialect match clauses of the text search (see :mod:`models.search` for the public API).

A query is split into terms (whitespace; a double-quoted part is one term). Every term must match.
Terms of 3+ characters use the trigram index (FTS5 ``trigram`` on SQLite, ``pg_trgm`` GIN with
ILIKE on PostgreSQL); shorter terms (1-2 Chinese characters, or a 1-2 letter word) are token
lookups in the ``search_grams`` index (FTS5 ``unicode61`` on SQLite, ``tsvector`` GIN on
PostgreSQL), see :mod:`models.textgrams`.

The candidate query yields matching ids newest first (the order both indexes deliver cheaply),
so that the caller can rank a bounded window of matches instead of every match in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, and_, func, literal, literal_column, select, table
from sqlalchemy.orm import InstrumentedAttribute

from models.textgrams import query_tokens

TRIGRAM_MIN_CHARS = 3


@dataclass(frozen=True, slots=True)
class TextTarget:
    """A searchable table: its ``id``, ``text`` and ``search_grams`` columns and FTS5 name prefix."""

    table: Table
    id: InstrumentedAttribute[int]
    text: InstrumentedAttribute[str]
    grams: InstrumentedAttribute[str]
    fts_prefix: str


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


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def sqlite_candidates(target: TextTarget, terms: list[str]) -> Select:
    """``SELECT id, score`` (score = -bm25, higher is better) from the FTS5 tables, newest first."""
    long_terms = [t for t in terms if len(t) >= TRIGRAM_MIN_CHARS]
    short_tokens = [tok for t in terms if len(t) < TRIGRAM_MIN_CHARS for tok in query_tokens(t)]
    matches = []
    if long_terms:
        matches.append((f"{target.fts_prefix}_fts", " AND ".join(_fts5_string(t) for t in long_terms)))
    if short_tokens:
        matches.append(
            (f"{target.fts_prefix}_grams_fts", " AND ".join(_fts5_string(t) for t in short_tokens))
        )
    first = matches[0][0]
    score: ColumnElement[float] = literal(0.0)
    stmt = select(target.id.label("id")).select_from(table(first))
    stmt = stmt.join(target.table, target.id == literal_column(f"{first}.rowid"))
    for name, expression in matches:
        if name != first:
            stmt = stmt.join(table(name), literal_column(f"{name}.rowid") == target.id)
        stmt = stmt.where(literal_column(name).op("MATCH")(expression))
        score = score - literal_column(f"bm25({name})")
    # Ordering by the driving FTS table's rowid lets FTS5 stream matches newest first and stop.
    return stmt.add_columns(score.label("score")).order_by(literal_column(f"{first}.rowid").desc())


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def postgres_candidates(target: TextTarget, terms: list[str]) -> Select:
    """``SELECT id, score`` (score 0: ranked afterwards) via pg_trgm and the grams tsvector."""
    simple = literal_column("'simple'::regconfig")
    conditions: list[ColumnElement[bool]] = []
    tokens: list[str] = []
    for term in terms:
        if len(term) >= TRIGRAM_MIN_CHARS:
            conditions.append(target.text.ilike(f"%{_like_escape(term)}%", escape="\\"))
        else:
            tokens.extend(query_tokens(term))
    if tokens:
        # search_tsv: a PostgreSQL-only stored column, to_tsvector('simple', search_grams).
        tsv = literal_column(f"{target.table.name}.search_tsv")
        conditions.append(tsv.op("@@")(func.plainto_tsquery(simple, " ".join(tokens))))
    stmt = select(target.id.label("id"), literal(0.0).label("score")).select_from(target.table)
    return stmt.where(and_(*conditions)).order_by(target.id.desc())


def postgres_rank(whole_query: str, text: InstrumentedAttribute[str]) -> ColumnElement[float]:
    """pg_trgm similarity of the query to the text: shorter, more on-topic texts rank higher."""
    return func.similarity(whole_query, text)
