"""The ``search_grams`` form of a text: what the short-query index is built on.

Trigram indexes cannot answer 1- and 2-character Chinese queries (there is no trigram in them).
So each indexed text also gets a second form in which every CJK character is its own token,
separated by spaces, and the rest is lower-cased. A word-token index (FTS5 ``unicode61`` on
SQLite, ``to_tsvector('simple', …)`` on PostgreSQL) over that form answers a 1-character query as
one token and a 2-character query as a two-token phrase, both straight from the index.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ Extension A, compatibility ideographs), kana, hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"([{_CJK}])")
_SPACES = re.compile(r"\s+")


def is_cjk(char: str) -> bool:
    """True if ``char`` (one character) is a CJK ideograph, kana or hangul syllable."""
    return bool(_CJK_CHAR.fullmatch(char))


def gram_text(text: str) -> str:
    """Split CJK characters into single-character tokens; lower-case everything.

    >>> gram_text("原告张三 signed the Contract")
    '原 告 张 三 signed the contract'
    """
    spaced = _CJK_CHAR.sub(r" \1 ", text.lower())
    return _SPACES.sub(" ", spaced).strip()


def is_short_cjk_query(query: str) -> bool:
    """A 1- or 2-character query made only of CJK characters (trigrams cannot serve it)."""
    q = query.strip()
    return 1 <= len(q) <= 2 and all(is_cjk(c) for c in q)
