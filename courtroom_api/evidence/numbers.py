"""Exhibit numbers: how one is written, when two are the same, and the next one of a side (P-1, P-2, …).

A number is kept trimmed and NFKC-normalised: a Chinese input method's full-width mode types "Ｐ－１"
for "P-1", and a pasted number brings blanks along. Two numbers that differ only in case ("p-1", "P-1")
are the same exhibit number: a court reads them aloud alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

MAX_CHARS = 50  # the evidence.exhibit_number column


def normalize(number: str) -> str:
    """``number`` as filed: full-width and other compatibility forms as plain ones (NFKC), runs of blanks
    as one space, none at either end."""
    return " ".join(unicodedata.normalize("NFKC", number).split())


def _key(number: str) -> str:
    return normalize(number).casefold()


def same_as(number: str, taken: Iterable[str]) -> str | None:
    """The number among ``taken`` that is ``number`` (ignoring case and how it is written), if any."""
    key = _key(number)
    return next((existing for existing in taken if _key(existing) == key), None)


def next_number(taken: Iterable[str], prefix: str) -> str:
    """``PREFIX-n`` one past the highest n among ``taken`` (not their count: a number given by hand or a
    renumbered exhibit must not make the next one collide), however large."""
    head = f"{prefix}-".casefold()
    highest = 0
    for number in taken:
        key = _key(number)
        rest = key[len(head):]
        if key.startswith(head) and rest.isascii() and rest.isdigit():
            highest = max(highest, int(rest))
    return f"{prefix}-{highest + 1}"
