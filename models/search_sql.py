"""Per-dialect match clauses of the text search (see :mod:`models.search` for the public API).

A query is split into terms (whitespace; a double-quoted part is one term). Every term must match.
Terms of 3+ characters use the trigram index (FTS5 ``trigram`` on SQLite, ``pg_trgm`` GIN with
ILIKE on PostgreSQL); shorter terms (1-2 Chinese characters, or a 1-2 letter word) are token
lookups in the ``search_grams`` index (FTS5 ``unicode61`` on SQLite, ``tsvector`` GIN on
PostgreSQL), see :mod:`models.textgrams`. A short term that its tokens do not pin down ("5万" is
the tokens "5" and "万", see :func:`tokens_pin_down`) is then checked against the text, as a long
term's trigrams are.

The candidate query yields matching ids newest first, so that the caller can rank a bounded
window of matches instead of every match in the database. FTS5 streams them in that order. On
PostgreSQL neither plan is cheap on its own: walking the primary key backwards tests every row
until enough match (tens of thousands of rows for a term in 0.5 % of them), and the GIN bitmap
fetches every match in the table. :func:`postgres_newest_ids` therefore searches recency windows
(``id > newest - W``, a BitmapAnd of the text index and a BRIN index on ``id``), widening ``W``
until it holds ``limit`` matches. Those include the newest ``limit`` matches of the whole table,
exactly; a role filter is part of the same GIN scan (both GIN indexes also hold ``role``).

Both builders take an id range (``below_id``, ``from_id``), which later pages of a search use to
rank the next window of older matches (FTS5 bounds its rowid scan with it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, func, literal, literal_column, select, table, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.textgrams import is_cjk, query_tokens

TRIGRAM_MIN_CHARS = 3
FIRST_WINDOW_IDS = 8192  # newest ids searched first on PostgreSQL
MAX_WINDOW_GROWTH = 64  # a window at most this many times the last one


@dataclass(frozen=True, slots=True)
class TextTarget:
    """A searchable table: its ``id``, ``text`` and ``search_grams`` columns and FTS5 name prefix."""

    table: Table
    id: InstrumentedAttribute[int]
    text: InstrumentedAttribute[str]
    grams: InstrumentedAttribute[str]
    fts_prefix: str


# Full-width letters and digits (a Chinese input method's full-width mode) as the ASCII ones the
# transcripts hold. Not NFKC: that would also turn the text's own "，" and "：" into "," and ":".
_FULL_WIDTH_ALNUM = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                     for cp in range(r[0], r[1] + 1)}


# A Chinese input method types these quote marks (＂, “…”, 「…」, 『…』, and „ of German text) and
# this punctuation: a quoted phrase, and terms ended by 、，。；：！？ (a term "借款本金，" found nothing).
_QUOTES = str.maketrans(dict.fromkeys("\uff02\u201c\u201d\u201e\u300c\u300d\u300e\u300f", '"'))
_SEPARATORS = str.maketrans(dict.fromkeys("\u3001\uff0c\u3002\uff1b\uff1a\uff01\uff1f", " "))
# The same typed half-width (ASCII), and brackets ("借款,利息" found nothing); a comma or colon between
# digits is part of the number or time (20,000元, 10:30). "." is not one: 5.5万, No. 3.
_ASCII_SEPARATORS = re.compile(r"[;()!?]|(?<!\d)[,:]|[,:](?!\d)")
# Typed full-width (20，000元, 10：30 from a Chinese input method) they are the same number or time, as
# the transcripts write it; left to _SEPARATORS they split it into short terms found anywhere.
_FULL_WIDTH_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\uff0c\uff1a](?=\d)")
_HALF_WIDTH = {"\uff0c": ",", "\uff1a": ":"}


def split_terms(text: str) -> list[str]:
    """Terms of a query: whitespace-separated, except that "double quoted parts" stay whole.

    The Chinese quote marks (“…”, 「…」, 『…』, ＂) quote as " does; outside quotes, Chinese
    punctuation (、，。；：！？), its half-width forms (,;:!?) and brackets () separate terms as a blank
    does, but not a comma or colon between digits, of either width (20，000 is the term 20,000). Short terms with nothing indexable in
    them (e.g. a lone "%") are dropped: they would otherwise match nothing on one database and
    everything on the other. Full-width letters and digits (２０万, ＡＢＣ) are searched as the ASCII ones.
    """
    text = text.translate(_FULL_WIDTH_ALNUM).translate(_QUOTES)
    terms: list[str] = []
    for i, part in enumerate(text.split('"')):
        if i % 2:  # inside quotes: the phrase as typed, its punctuation included
            if part.strip():
                terms.append(" ".join(part.split()))
        else:
            part = _FULL_WIDTH_BETWEEN_DIGITS.sub(lambda m: _HALF_WIDTH[m.group()], part)
            terms.extend(_ASCII_SEPARATORS.sub(" ", part.translate(_SEPARATORS)).split())
    return [t for t in terms if len(t) >= TRIGRAM_MIN_CHARS or query_tokens(t)]


def tokens_pin_down(term: str) -> bool:
    """Whether a short term's index tokens (:func:`models.textgrams.query_tokens`) find just the lines
    that hold it: a 1-2 character Chinese term is one uni/bigram token, a short word one word token.
    A term mixing the two ("5万", "A股") or with punctuation ("a.") is several tokens or fewer
    characters, found anywhere in a line ("5万" in "5年内支付20万元"): such terms are checked
    against the text as well."""
    return query_tokens(term) == [term.lower()]


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def trigram_chunks(term: str) -> list[str]:
    """Non-overlapping trigrams covering ``term`` (the last one may overlap its neighbour).

    Matching these (AND) and then checking the row with LIKE is exact and several times faster
    than FTS5's phrase of every overlapping trigram, which reads all their position lists.
    """
    chunks = [term[i : i + 3] for i in range(0, len(term) - 2, 3)]
    if len(term) % 3:
        chunks.append(term[-3:])
    return chunks


def sqlite_candidates(
    target: TextTarget, terms: list[str], below_id: int | None = None, from_id: int | None = None
) -> Select:
    """``SELECT id, score`` (score = -bm25, higher is better) from one FTS5 table, newest first.

    Long terms drive the trigram table (see :func:`trigram_chunks`); short terms then only
    filter its rows (joining a second FTS5 table would re-run its MATCH for every row). Short
    terms alone drive the grams table.
    """
    long_terms = [t for t in terms if len(t) >= TRIGRAM_MIN_CHARS]
    short_terms = [t for t in terms if len(t) < TRIGRAM_MIN_CHARS]
    if long_terms:
        name = f"{target.fts_prefix}_fts"
        expression = " AND ".join(_fts5_string(c) for t in long_terms for c in trigram_chunks(t))
    else:
        name = f"{target.fts_prefix}_grams_fts"
        expression = " AND ".join(_fts5_string(tok) for t in short_terms for tok in query_tokens(t))
    score: ColumnElement[float] = (-literal_column(f"bm25({name})")).label("score")
    stmt = (
        select(target.id.label("id"), score)
        .select_from(table(name))
        .join(target.table, target.id == literal_column(f"{name}.rowid"))
        .where(literal_column(name).op("MATCH")(expression))
    )
    rowid: ColumnElement[int] = literal_column(f"{name}.rowid")
    if below_id is not None:
        stmt = stmt.where(rowid < below_id)
    if from_id is not None:
        stmt = stmt.where(rowid >= from_id)
    for term in long_terms:  # the chunks matched; this makes it the exact substring
        stmt = stmt.where(_contains(target, term))
    for term in short_terms:  # "5万": its tokens matched; this makes it "5万", not "5年…20万"
        if not tokens_pin_down(term):
            stmt = stmt.where(_contains(target, term))
    for term in short_terms if long_terms else ():
        if all(is_cjk(c) for c in term):  # within Chinese text, a substring is a uni/bigram token
            stmt = stmt.where(target.text.like(f"%{_like_escape(term)}%", escape="\\"))
        else:  # a short Latin word: whole-word match, as when it is searched alone
            grams = f"{target.fts_prefix}_grams_fts"
            tokens = " AND ".join(_fts5_string(tok) for tok in query_tokens(term))
            matching: Select[Any] = select(literal_column("rowid")).select_from(table(grams))
            stmt = stmt.where(target.id.in_(matching.where(literal_column(grams).op("MATCH")(tokens))))
    # Ordering by the FTS table's rowid lets FTS5 stream matches newest first and stop early.
    return stmt.order_by(rowid.desc())


def _contains(target: TextTarget, term: str) -> ColumnElement[bool]:
    """SQLite: ``text`` holds ``term``, letter case aside. LIKE (fast, in SQLite) folds ASCII only, so a
    term with other cased letters ("josé", "москва", which the trigram index matched folded) is checked
    by the connection's ``casefold_contains``."""
    if all(c.isascii() or c.lower() == c.upper() for c in term):  # "A股": its only cased letter is ASCII
        return target.text.like(f"%{_like_escape(term)}%", escape="\\")
    return func.casefold_contains(target.text, term) == true()


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def postgres_candidates(
    target: TextTarget, terms: list[str], below_id: int | None = None, from_id: int | None = None
) -> Select:
    """``SELECT id, score`` (score 0: ranked afterwards) via pg_trgm and the grams tsvector."""
    simple: ColumnElement[str] = literal_column("'simple'::regconfig")
    conditions: list[ColumnElement[bool]] = []
    tokens: list[str] = []
    for term in terms:
        if len(term) < TRIGRAM_MIN_CHARS:
            tokens.extend(query_tokens(term))
        if len(term) >= TRIGRAM_MIN_CHARS or not tokens_pin_down(term):  # see sqlite_candidates
            pattern = f"%{_like_escape(term)}%"
            # No letters with case (e.g. Chinese): LIKE, about twice as fast per row as ILIKE.
            caseless = term.lower() == term.upper()
            like = target.text.like if caseless else target.text.ilike
            conditions.append(like(pattern, escape="\\"))
    if tokens:
        # search_tsv: a PostgreSQL-only stored column, to_tsvector('simple', search_grams).
        tsv: ColumnElement[str] = literal_column(f"{target.table.name}.search_tsv")
        conditions.append(tsv.op("@@")(func.plainto_tsquery(simple, " ".join(tokens))))
    if below_id is not None:
        conditions.append(target.id < below_id)
    if from_id is not None:
        conditions.append(target.id >= from_id)
    stmt = select(target.id.label("id"), literal(0.0).label("score")).select_from(target.table)
    return stmt.where(and_(*conditions)).order_by(target.id.desc())


def postgres_rank(whole_query: str, text: InstrumentedAttribute[str]) -> ColumnElement[float]:
    """pg_trgm similarity of the query to the text: shorter, more on-topic texts rank higher."""
    return func.similarity(whole_query, text)


def postgres_newest_ids(
    session: Session,
    stmt: Select[Any],
    id_col: InstrumentedAttribute[int],
    enough: int,
    most: int,
    below_id: int | None = None,
) -> tuple[list[int], bool]:
    """Up to ``most`` ids of ``stmt`` (a candidate query, newest first), from the newest window
    of ids that holds at least ``enough`` of them (or from the whole table when none does), and
    whether they are all of its matches (only known when the windows reached the oldest row).

    Each round runs ``stmt`` on ``id > newest - window`` only (newest: under ``below_id``, which
    ``stmt`` is bounded by). Too few matches: the next window is sized from the match density
    seen so far (twice what it predicts, 2x to 64x the last one); the last round has no bound;
    rounds after the first use the index bitmap. Rare terms thus cost one or two bitmap scans of
    the whole index, common ones a scan of a few hundred newest rows.
    """
    high = session.scalar(select(func.max(id_col))) if below_id is None else below_id - 1
    if high is None:
        return [], True
    window, query = FIRST_WINDOW_IDS, stmt
    while window < high:
        ids = list(session.scalars(query.where(id_col > high - window).limit(most)))
        if len(ids) >= enough:
            return ids, False
        window *= min(MAX_WINDOW_GROWTH, max(2, ceil(2 * enough / max(len(ids), 1))))
        query = by_bitmap(stmt, id_col)
    ids = list(session.scalars(by_bitmap(stmt, id_col).limit(most)))
    return ids, len(ids) < most


def by_bitmap(stmt: Select[Any], id_col: InstrumentedAttribute[int]) -> Select[Any]:
    """``stmt`` (PostgreSQL, newest first) fetched through the index bitmap.

    Where matches are sparse among the newest rows, walking the primary key back from the newest
    (the planner's pick under a LIMIT when it assumes matches spread evenly) could test the whole
    window or table: 970,000 rows for an old date range. Sorting on an expression rules that plan
    out; the index bitmap fetches only the matches.
    """
    return stmt.order_by(None).order_by((id_col + 0).desc())
