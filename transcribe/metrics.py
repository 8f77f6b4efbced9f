"""Error rates of transcripts: WER for English (words), CER for Mandarin (characters).

Plain edit distance with light normalisation (case, punctuation, digits 0-9 as words, British
spelling), so tests, benchmarks and after-hearing quality reports agree on one definition.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_DIGITS = dict(zip("0123456789", "zero one two three four five six seven eight nine".split(), strict=True))
_SPELLING = {"honour": "honor"}


def normalise_en(text: str) -> list[str]:
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    return [_SPELLING.get(_DIGITS.get(w, w), _DIGITS.get(w, w)) for w in words]


def normalise_zh(text: str) -> list[str]:
    return list(re.sub(r"[^\u4e00-\u9fff]", "", text))


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str) -> float:
    ref = normalise_en(reference)
    return edit_distance(ref, normalise_en(hypothesis)) / max(1, len(ref))


def cer(reference: str, hypothesis: str) -> float:
    ref = normalise_zh(reference)
    return edit_distance(ref, normalise_zh(hypothesis)) / max(1, len(ref))


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """CER for Mandarin, WER otherwise."""
    return cer(reference, hypothesis) if language == "zh" else wer(reference, hypothesis)


def speaker_error_rate(pairs: Sequence[tuple[str, str]], language: str) -> float:
    """Error rate of a role-labelled transcript: each speaker's text against what that speaker said
    (``pairs`` of reference and hypothesis, one per speaker), edits summed over speakers. A word written
    in another speaker's lines counts twice, missing from one and inserted in the other: the
    concatenated minimum-permutation WER of CHiME-6 (cpWER) with the speakers known (seats)."""
    split = normalise_zh if language == "zh" else normalise_en
    edits = sum(edit_distance(split(r), split(h)) for r, h in pairs)
    return edits / max(1, sum(len(split(r)) for r, _ in pairs))
