"""Statute references in a search query: 《民法典》第五百七十七条, 民诉法第150条, Article 577, 577.

Counsel cite an article by its number and law; the article's text rarely holds either. So a query
naming an article (第…条 in Chinese numerals or digits, ``Article N``, a bare number) and/or a law
(a name ending like one: …法, …法典, …条例, … Code, … Law) is read here into the ``article``
strings imported files use and the law name typed, for :func:`models.search.search_statutes` to
look up in the ``article`` and ``code`` columns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千万"
_CN_ARTICLE = re.compile(rf"第\s*([{_CN_NUM}0-9]+)\s*条(之[{_CN_NUM}0-9]+)?")
_EN_ARTICLE = re.compile(r"\b(?:article|art\.?)\s*(\d+)([a-z]?)\b", re.I)
_BARE_NUMBER = re.compile(r"\d{1,5}")
_LAW_NAME = re.compile(r"(?:法|法典|条例|规定|解释|\b(?:code|law|act))$", re.I)
_QUOTES = "《》〈〉<>“”\"'‘’「」()（）,，.。、:：;；"
_BRACKETED_END = re.compile(r"\s*[(（\[【][^()（）\[\]【】]*[)）\]】]?\s*$")


@dataclass(frozen=True, slots=True)
class StatuteReference:
    """What a query cites: ``articles`` (as files write the article, any of them, the likeliest
    first; empty: the law's articles) and ``law`` (the name as typed, ``""``: any law)."""

    articles: tuple[str, ...]
    law: str


def chinese_number(text: str) -> int | None:
    """The value of a number in Chinese numerals or digits (一百一十, 一百十, 五百零九, 577)."""
    if text.isdigit():
        return int(text)
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10000
            section = digit = 0
        else:
            return None
    return total + section + digit


def chinese_numerals(n: int) -> str:
    """``n`` (1-9999) as the statute books write it: 十, 一百一十, 五百零九, 一千二百六十."""
    out, zero = "", False
    for unit, value in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        d = n // value % 10
        if d == 0:
            zero = zero or bool(out)
            continue
        out += ("零" if zero else "") + "〇一二三四五六七八九"[d] + unit
        zero = False
    return out[1:] if out.startswith("一十") else out


def _article_forms(number: int, suffix: str) -> tuple[str, ...]:
    """The ways files write the article, the Chinese ones first."""
    forms = [f"第{number}条{suffix}"] + ([] if suffix else [f"Article {number}"])
    if 0 < number < 10000:
        forms.insert(0, f"第{chinese_numerals(number)}条{suffix}")
    return tuple(forms)


def _law(text: str) -> str:
    return text.strip().strip(_QUOTES + " ").replace("》", "").replace("《", "").strip()


def law_name(text: str) -> str:
    """A law's name as typed or as imported, compared whole: without quotes and without the note in
    brackets that ends it ("(English, unofficial)", "（2023修正）")."""
    name = _law(unicodedata.normalize("NFKC", text))
    return _BRACKETED_END.sub("", name) or name


def _law_around(query: str, match: re.Match[str]) -> str:
    """The law named before the article (民法典第…条), else after it when it reads as a law name
    (Article 577 of the Civil Code; not 第…条第一款)."""
    after = _law(re.sub(r"^\s*of\s+(?:the\s+)?", "", query[match.end():], flags=re.I))
    return _law(query[: match.start()]) or (after if _LAW_NAME.search(after) else "")


def parse_reference(query: str) -> StatuteReference | None:
    """The article and/or law ``query`` cites, or None when it reads as plain search text."""
    q = unicodedata.normalize("NFKC", query).strip()  # full-width digits and spaces as ASCII ones
    if m := _CN_ARTICLE.search(q):
        number = chinese_number(m.group(1))
        suffix = m.group(2) or ""
        if suffix and (n := chinese_number(suffix[1:])) and 0 < n < 10000:
            suffix = "之" + chinese_numerals(n)
        if number is None:
            return None
        return StatuteReference(_article_forms(number, suffix), _law_around(q, m))
    if m := _EN_ARTICLE.search(q):
        number, letter = int(m.group(1)), m.group(2).upper()
        forms = (f"Article {number}{letter}",) if letter else _article_forms(number, "")[::-1]
        return StatuteReference(forms, _law_around(q, m))
    if _BARE_NUMBER.fullmatch(q):
        return StatuteReference(_article_forms(int(q), ""), "")
    law = _law(q)
    if len(law) >= 2 and _LAW_NAME.search(law):
        return StatuteReference((), law)
    return None
