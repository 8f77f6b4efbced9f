"""The words of court procedure, given to the model with every case's own vocabulary.

Whisper `base` hears a Mandarin courtroom's fixed terms as homophones when nothing in its prompt names
them (法庭 as 把停, 原告 as 人告, bench/RESULTS.md). These are the terms every hearing of the Civil and
Criminal Procedure Laws uses: the roles, the stages a presiding judge announces, the acts of the parties.
A court can replace or empty the list (``COURTROOM_TRANSCRIBE__GLOSSARY``). No English terms: "Your Honor,
plaintiff, objection …" in the English prompt cost WER on the demo hearing (0.017 → 0.042 streaming, 0.025 →
0.034 offline); English prompts stay as they were.
"""

from __future__ import annotations

COURT_TERMS: tuple[str, ...] = (
    "审判长", "审判员", "人民陪审员", "书记员", "原告", "被告", "第三人", "代理人", "公诉人", "辩护人",
    "开庭", "法庭调查", "法庭辩论", "最后陈述", "休庭", "宣判",
    "回避", "诉讼请求", "答辩", "举证", "质证", "证据", "调解", "判决", "裁定",
)


def with_glossary(glossary: tuple[str, ...] | list[str], *vocabularies: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """One prompt vocabulary: the glossary first, then the case's own words (nearest the audio), no repeats."""
    return tuple(dict.fromkeys(w.strip() for v in (glossary, *vocabularies) for w in v if w and w.strip()))
