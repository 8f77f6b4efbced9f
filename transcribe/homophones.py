"""The case's Mandarin terms put back where Whisper wrote a homophone of them.

Prompting the vocabulary (see ``glossary.py``) helps, yet the base model still writes 原告 (yuángào)
as 员告 (yuángào) seven times in one hearing, 休庭 as 休停, a party 李娜 as 李纳: the same syllables in
other characters. A run of characters that reads exactly as a vocabulary term (every character
shares a toneless pinyin reading with the term's character at its place, polyphones in all their
readings) and has at least one of its characters in place is that term. Terms of one character are
left alone (too many homophones), and so is anything that is not Chinese. Requiring a character in
common keeps whole other words out (远高于 stays, 答辩 does not take 大便); the price is a real word
one character off a term with its sound (调节 becomes 调解), which a clerk corrects as any other
mishearing, and 发停 for 法庭 is not mended.

"Reads as" is loose in the two ways Mandarin speech (and the model) most often blurs: the retroflex
initials zh / ch / sh against z / c / s, and the nasal finals -ng against -n — the "fuzzy pinyin" of
Chinese input methods (书送请求 for 诉讼请求 on the bench hearing). Of the 46,881 words of pypinyin's
phrase dictionary the court's terms rewrite 14 either way (调节, 调价, 调谐 → 调解, ...): none more.

A run is read over any 、 inside it: prompted with a 、-separated vocabulary, Whisper writes the mark
between a term's characters too (陈述、苏、送请求), and the mark goes with the homophone. In 200,000 random
pairs of those phrases written as a list ("A、B") the mark being read over rewrote 26 (失调、家用 → 失调解用).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

from transcribe.types import Segment, Word

_HAN = re.compile(r"[\u4e00-\u9fff]")
LIST_MARK = "、"


def readings(char: str) -> frozenset[str]:
    """Toneless pinyin readings of one Chinese character (empty for anything else); cached by ``sounds``."""
    from pypinyin import Style, pinyin

    if not _HAN.fullmatch(char):
        return frozenset()
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")[0])


_RETROFLEX = {"zh": "z", "ch": "c", "sh": "s"}


def _fuzzy(syllable: str) -> str:
    """One toneless syllable with zh/ch/sh read as z/c/s and a final -ng as -n."""
    if syllable[:2] in _RETROFLEX:
        syllable = _RETROFLEX[syllable[:2]] + syllable[2:]
    return syllable[:-1] if syllable.endswith("ng") and len(syllable) > 2 else syllable


@lru_cache(maxsize=8192)
def sounds(char: str) -> frozenset[str]:
    """A character's readings as ``_fuzzy`` hears them (empty for anything that is not Chinese)."""
    return frozenset(_fuzzy(r) for r in readings(char))


class TermCorrector:
    """Rewrites homophones of the terms in Mandarin words, character for character (times kept)."""

    def __init__(self, terms: Iterable[str]) -> None:
        # longest first: 法庭调查 before 法庭
        self.terms = tuple(sorted({t for t in terms if len(t) >= 2 and all(_HAN.fullmatch(c) for c in t)},
                                  key=lambda t: (-len(t), t)))
        self._sounds = tuple(tuple(sounds(c) for c in t) for t in self.terms)

    def words(self, words: Sequence[Word]) -> tuple[Word, ...]:
        """The words with homophones of terms rewritten; a term may span several words (tokens)."""
        chars = [c for w in words for c in w.text]
        matches = self._matches(chars)
        if not matches:
            return tuple(words)
        for places, term in matches:
            for at in range(places[0], places[-1] + 1):
                chars[at] = ""  # a 、 Whisper put inside the term goes with it
            for at, c in zip(places, term, strict=True):
                chars[at] = c
        out, at = [], 0
        for w in words:
            text = "".join(chars[at : at + len(w.text)])
            at += len(w.text)
            if text:  # (a word that was only such a 、 is gone)
                out.append(w if text == w.text else replace(w, text=text))
        return tuple(out)

    def segment(self, segment: Segment) -> Segment:
        from transcribe.decoder import join_words

        words = self.words(segment.words)
        if words == segment.words:
            return segment
        return replace(segment, words=words, text=join_words(words))

    def _matches(self, chars: Sequence[str]) -> list[tuple[tuple[int, ...], str]]:
        """(places, term) for each run of ``chars`` that reads as a term but is written otherwise: the
        places of the term's characters, read over any 、 between them (the vocabulary prompt is a
        、-separated list, and Whisper answers in kind: 陈述、苏、送请求 for 陈述诉讼请求)."""
        if not self.terms:
            return []
        heard = [sounds(c) for c in chars]
        places = [i for i, c in enumerate(chars) if c != LIST_MARK]
        taken = [False] * len(places)
        found = []
        for term, want in zip(self.terms, self._sounds, strict=True):
            n = len(term)
            for i in range(len(places) - n + 1):
                if not heard[places[i]] & want[0] or any(taken[i : i + n]):
                    continue  # (checked before the run is built: most places fail here, on every decode)
                run = tuple(places[i : i + n])
                if "".join(chars[k] for k in run) == term:
                    taken[i : i + n] = [True] * n  # the term itself: no shorter term is looked for in it
                    if run[-1] - run[0] >= n:
                        found.append((run, term))  # ... only its 、 goes
                elif any(chars[run[k]] == term[k] for k in range(n)) and all(
                        heard[run[k]] & want[k] for k in range(1, n)):
                    found.append((run, term))
                    taken[i : i + n] = [True] * n
        return found


@lru_cache(maxsize=64)
def corrector(vocabulary: tuple[str, ...]) -> TermCorrector:
    """One corrector per vocabulary (a room's seats share it)."""
    return TermCorrector(vocabulary)
