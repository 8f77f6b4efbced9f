"""The case's Mandarin terms put back where Whisper wrote a homophone (transcribe/homophones.py)."""

from __future__ import annotations

import numpy as np

from transcribe.decoder import DecodedWindow, DecodeOptions
from transcribe.homophones import TermCorrector, corrector
from transcribe.online import OnlineOptions, OnlineProcessor
from transcribe.types import Segment, Word

TERMS = ("原告", "被告", "休庭", "李娜", "还款", "法庭调查", "答辩", "审")


def tokens(*texts: str) -> tuple[Word, ...]:
    return tuple(Word(0.3 * i, 0.3 * i + 0.25, t, 0.9) for i, t in enumerate(texts))


def fixed(fix: TermCorrector, text: str) -> str:
    """The text as a decode of one token per character, corrected."""
    return "".join(w.text for w in fix.words(tokens(*text)))


def test_a_homophone_of_a_term_becomes_the_term() -> None:
    fix = TermCorrector(TERMS)
    assert fixed(fix, "下面由员告陈述诉讼请求。") == "下面由原告陈述诉讼请求。"  # yuán gào
    assert fixed(fix, "被告李纳已到庭，现在休停。") == "被告李娜已到庭，现在休庭。"
    assert fixed(fix, "有没有海款的凭证？") == "有没有还款的凭证？"  # 还 read hái as well as huán
    assert fixed(fix, "发停调查结束") == "法庭调查结束"  # the longer term, one character in common


def test_retroflex_and_nasal_blurs_of_a_term_become_the_term() -> None:
    """zh/ch/sh heard as z/c/s and -ng as -n (the fuzzy pinyin of input methods) still read as the term."""
    fix = TermCorrector((*TERMS, "诉讼请求", "审判长", "开庭"))
    assert fixed(fix, "我请求法庭驳回原告的书送请求。") == "我请求法庭驳回原告的诉讼请求。"  # shū sòng for sù sòng
    assert fixed(fix, "报告森判长") == "报告审判长"  # sēn for shěn
    assert fixed(fix, "现在开亭") == "现在开庭"  # exact: tíng
    assert fixed(fix, "现在开心") == "现在开心"  # xīn is neither tíng nor a blur of it
    assert fixed(fix, "书籍送到了") == "书籍送到了"  # no run reads as a term


def test_other_words_and_other_languages_stay() -> None:
    fix = TermCorrector(TERMS)
    for text in ("利息远高于法定标准。",  # yuǎn gāo: no character of 原告 in it
                 "他去大便了。",  # dà biàn sounds as 答辩 but shares no character
                 "原告、被告均已到庭。",  # the terms themselves
                 "身体",  # 审 is a term of one character: never looked for
                 "The plaintiff, Li Na, yuan gao."):
        assert fixed(fix, text) == text
    assert fixed(TermCorrector(()), "员告") == "员告"


def test_a_term_split_by_a_list_mark_is_read_over_it() -> None:
    """Prompted with a 、-separated vocabulary, Whisper sometimes writes 、 inside a term (陈述、苏、送请求 in a
    streaming decode of the bench hearing): the term is read over it, and the mark goes with the homophone."""
    fix = TermCorrector((*TERMS, "诉讼请求", "张伟"))
    assert fixed(fix, "下面由原告陈述、苏、送请求。") == "下面由原告陈述、诉讼请求。"
    assert fixed(fix, "员、告陈述") == "原告陈述"
    assert fixed(fix, "原、告陈述") == "原告陈述"  # written right, but split
    assert fixed(fix, "原告张伟、被告李娜、第三人") == "原告张伟、被告李娜、第三人"  # a list stays a list
    assert fixed(fix, "原告、员告") == "原告、原告"
    words = tokens("由", "员、", "告", "陈述")  # faster-whisper hangs the mark on the word before it
    assert [(w.text, w.start) for w in fix.words(words)] == [(w.text.rstrip("、").replace("员", "原"), w.start) for w in words]
    words = tokens("员", "、", "告")  # ... or leaves it a word of its own, which then goes
    assert [w.text for w in fix.words(words)] == ["原", "告"]


def test_a_term_across_tokens_is_rewritten_in_place_with_its_times() -> None:
    words = tokens("我", "请求", "员", "告", "还", "钱")
    fixed = corrector(TERMS).words(words)
    assert [w.text for w in fixed] == ["我", "请求", "原", "告", "还", "钱"]
    assert [(w.start, w.end, w.probability) for w in fixed] == [(w.start, w.end, w.probability) for w in words]
    assert fixed[3] is words[3]  # untouched tokens are the same objects
    seg = Segment(0.0, 1.75, "我请求员告还钱", words, 2, "plaintiff", "plaintiff", "zh")
    assert corrector(TERMS).segment(seg).text == "我请求原告还钱"


class _MandarinDecoder:
    """Writes 原告 as 员告 and then as 元告 (yuán gào both): LocalAgreement alone never agrees on them."""

    model_name = "scripted"
    multilingual = True

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, audio: np.ndarray, offset_s: float, options: DecodeOptions) -> DecodedWindow:
        self.calls += 1
        first = "员" if self.calls % 2 else "元"
        words = tuple(Word(offset_s + 0.3 * i, offset_s + 0.3 * i + 0.25, t, 0.9)
                      for i, t in enumerate([first, "告", "陈述", "。"]))
        return DecodedWindow(words, "zh", 1.0, len(audio) / 16000)


def test_a_seat_writes_the_term_into_partials_and_finals(zh_clip) -> None:
    speech = zh_clip[0]
    proc = OnlineProcessor(_MandarinDecoder(), OnlineOptions(language="zh", vocabulary=TERMS))  # type: ignore[arg-type]
    events = []
    for i in range(0, len(speech), 16000):
        proc.insert_audio_chunk(speech[i : i + 16000])
        events += proc.process_iter()
    events += proc.finish()
    finals = [e.segment.text for e in events if e.kind == "final"]
    assert finals and finals[0] == "原告陈述。"
    assert not [e for e in events if "员" in e.segment.text or "元" in e.segment.text]
