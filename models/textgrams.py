"""The ``search_grams`` form of a text: what the short-query index is built on.

Trigram indexes cannot answer 1- and 2-character Chinese queries (there is no trigram in them).
So each indexed text also gets a second form holding, as space-separated tokens, every CJK
character (unigram), every pair of adjacent CJK characters (bigram) and the lower-cased non-CJK
words. A word-token index over it (FTS5 ``unicode61`` on SQLite, ``to_tsvector('simple', …)``
GIN on PostgreSQL) answers a 1- or 2-character Chinese query as a single token lookup, exactly
and without re-checking rows.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ Extension A, compatibility ideographs), kana, hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"\w+")
# One character of an indexed word, as a regex class: a letter or digit outside the CJK runs
# ("_" too ends a word for FTS5 and PostgreSQL). "QQ" is a word of "通过微信和QQ转账".
WORD_CHAR = f"[^\\W_{_CJK}]"


def is_cjk(char: str) -> bool:
    """True if ``char`` (one character) is a CJK ideograph, kana or hangul syllable."""
    return bool(_CJK_CHAR.fullmatch(char))


def gram_text(text: str) -> str:
    """Unigrams and bigrams of the CJK runs, then the lower-cased other words.

    >>> gram_text("原告张三 signed the Contract")
    '原 告 张 三 原告 告张 张三 signed the contract'
    """
    lowered = text.lower()
    runs = _CJK_RUN.findall(lowered)
    unigrams = [c for run in runs for c in run]
    bigrams = [run[i : i + 2] for run in runs for i in range(len(run) - 1)]
    words = _WORD.findall(_CJK_RUN.sub(" ", lowered))
    return " ".join(unigrams + bigrams + words)


def query_tokens(term: str) -> list[str]:
    """Tokens of ``search_grams`` that a short term (under 3 characters) must all have.

    A 1- or 2-character Chinese term is itself one token (a unigram or a bigram).
    """
    term = term.lower()
    if term and all(is_cjk(c) for c in term) and len(term) <= 2:
        return [term]
    # (a lone "_" is a \w word here but a separator to FTS5 and PostgreSQL: it would match nothing)
    return [token for token in gram_text(term).split() if token.strip("_")]
