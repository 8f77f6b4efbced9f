import numpy as np
import pytest

from transcribe.batch import BatchOptions, read_audio, transcribe_recording
from transcribe.decoder import CONTEXT_GAP_S, DecodeOptions, _after_context, join_words, to_simplified
from transcribe.errors import AudioFormatError
from transcribe.metrics import cer, wer
from transcribe.room import SeatSpec
from transcribe.whisper_window import RawWord

# Bounds measured on the synthetic fixtures with base int8 (see bench/RESULTS.md), with headroom.
EN_WER_MAX = 0.15  # measured 0.095 ("Council" for "Counsel", "cross examination" split)
ZH_CER_MAX = 0.20  # measured 0.10 (请备高 for 请被告)


def test_english_clip(base_decoder, en_clip) -> None:
    audio, ref = en_clip
    out = base_decoder.decode(audio, 10.0, DecodeOptions(language="en"))
    text = join_words(out.words)
    assert wer(ref["text"], text) <= EN_WER_MAX, text
    assert text[0].isupper() and text.rstrip()[-1] in ".?!"  # casing and punctuation
    assert all(10.0 <= w.start <= w.end <= 10.0 + len(audio) / 16000 + 0.05 for w in out.words)
    assert all(a.start <= b.start for a, b in zip(out.words, out.words[1:], strict=False))
    assert all(0.0 <= w.probability <= 1.0 for w in out.words)


def test_context_audio_is_heard_but_its_words_are_not_returned(base_decoder, zh_clip) -> None:
    """Speech heard before (here: the clip's second sentence, then silence) goes into the window as
    context; only the words of the audio after it come back, at their own times."""
    audio, _ = zh_clip  # 请被告回答法庭的问题。(0-2.6 s) 你是否收到了这笔钱？(2.7 s-)
    first, second = audio[: int(2.6 * 16000)], audio[int(2.7 * 16000) :]
    context = np.concatenate([second, np.zeros(int(CONTEXT_GAP_S * 16000), np.float32)])
    lead = len(context) / 16000
    out = base_decoder.decode(np.concatenate([context, first]), 20.0 - lead, DecodeOptions(language="zh", context_s=lead))
    text = join_words(out.words)
    assert cer("请被告回答法庭的问题", text.rstrip("。，")) <= 0.25, text  # the first sentence only
    assert "钱" not in text and "收到" not in text
    assert out.words and all(20.0 <= w.start <= w.end <= 20.0 + len(first) / 16000 + 0.05 for w in out.words)


def test_context_heard_with_its_text_is_not_decoded_again(base_decoder, zh_clip, monkeypatch) -> None:
    """Given the context's text (the room's finals), the decode starts after the context: its text ends the
    prompt, the first token is forced to the window's own audio, and only that audio's words come back."""
    from transcribe.whisper_window import _tokenizer

    audio, _ = zh_clip  # 请被告回答法庭的问题。(0-2.6 s) 你是否收到了这笔钱？(2.7 s-)
    first, second = audio[: int(2.6 * 16000)], audio[int(2.7 * 16000) :]
    lead = len(second) / 16000 + CONTEXT_GAP_S
    prompts: list[list[int]] = []
    generate = base_decoder.model.generate_with_fallback
    monkeypatch.setattr(base_decoder.model, "generate_with_fallback",
                        lambda enc, prompt, *rest: prompts.append(list(prompt)) or generate(enc, prompt, *rest))
    gap = np.zeros(int(CONTEXT_GAP_S * 16000), np.float32)
    heard = ((0.0, len(second) / 16000, "你是否收到了这笔钱？"),)
    out = base_decoder.decode(np.concatenate([second, gap, first]), 20.0 - lead,
                              DecodeOptions(language="zh", context_s=lead, prompt="你是否收到了这笔钱？", heard=heard))
    text = join_words(out.words)
    assert cer("请被告回答法庭的问题", text.rstrip("。，")) <= 0.25, text
    assert "钱" not in text and "收到" not in text
    assert out.words and all(20.0 - 0.25 <= w.start <= w.end <= 20.0 + len(first) / 16000 + 0.05 for w in out.words)
    tokenizer = _tokenizer(base_decoder.model, "zh")
    (prompt,) = prompts
    assert prompt[-1] == tokenizer.timestamp_begin + round((lead - CONTEXT_GAP_S / 2) / 0.02)  # decoding starts there
    assert "这笔钱" in tokenizer.decode([t for t in prompt if t < tokenizer.eot])


def test_words_at_the_context_boundary() -> None:
    """A segment that starts in the gap is new even if its first word starts early; in a segment that
    starts in the context, a word stretched into the gap is still context."""
    w = lambda a, b, t: RawWord(a, b, t, 0.9)  # noqa: E731
    starts_in_gap = (w(4.75, 5.3, " The"), w(5.3, 5.6, " court"))
    assert _after_context(starts_in_gap, 5.0) == starts_in_gap
    straddles = (w(3.0, 4.0, " a"), w(4.1, 5.2, " loan?"), w(5.1, 5.4, " The"), w(5.4, 5.6, " court"))
    assert [x.text for x in _after_context(straddles, 5.0)] == [" The", " court"]
    assert _after_context(straddles[:2], 0.0) == straddles[:2]  # no context: every word


def test_mandarin_clip_is_simplified_with_punctuation(base_decoder, zh_clip) -> None:
    audio, ref = zh_clip
    text = join_words(base_decoder.decode(audio, 0.0, DecodeOptions(language="zh")).words)
    assert cer(ref["text"], text) <= ZH_CER_MAX, text
    assert to_simplified(text) == text
    assert any(p in text for p in "，。？！"), text


def test_testimony_with_words_of_subtitle_credits_is_kept(base_decoder, whisper_base, en_credit_clip) -> None:
    """"to the end." and "www." are in Whisper's subtitle credits, but a sentence holding them is testimony:
    live and batch both keep it (both used to drop it without a trace)."""
    audio, ref = en_credit_clip
    live = join_words(base_decoder.decode(audio, 0.0, DecodeOptions(language="en")).words)
    segments = transcribe_recording(whisper_base, audio.reshape(-1, 1), [SeatSpec(0, "judge", "judge")],
                                    BatchOptions(language="en"))
    batch = " ".join(s.text for s in segments)
    for text in (live, batch):
        assert wer(ref["text"], text) <= 0.3, text
        assert "the end" in text.lower() and "www." in text.lower(), text


def test_credit_filter_drops_only_what_is_essentially_a_credit() -> None:
    from transcribe.decoder import is_hallucination

    confident, weak, short = (0.01, -0.2), (0.7, -1.2), (0.4, -0.6)  # short: a short clear clip's figures
    for said in ("被告把聊天记录转发给了原告。", "他每月订阅了这个服务。", "原告在直播中给被告打赏了五万元。",
                 "Please read the contract to the end.", "The invoice was sent from www.example.com.", "转发了。"):
        assert not is_hallucination(said, *confident), said
        assert not is_hallucination(said), said  # no quality figures: judged by the text alone
    assert not is_hallucination("转发。", *confident)  # a one-word answer, heard clearly
    for credit in ("谢谢观看！", "Thanks for watching!", " Thank you for watching.", "字幕由Amara.org社区提供",
                   "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "以下是普通话的句子。", "The end."):
        assert is_hallucination(credit, *confident), credit
        assert is_hallucination(credit, *weak) and is_hallucination(credit), credit
    assert is_hallucination("转发。", *weak) and not is_hallucination("转发。")
    assert is_hallucination("请订阅转发。", *weak) and not is_hallucination("请订阅转发。", *confident)
    # A short answer's few tokens average a low log probability; a Latin credit inside other words is
    # not one ("theend" in "at the end"): these were dropped as credits (found in review).
    for said in ("At the end.", "In the end.", "The ending?", "转发了。", "订阅了。"):
        assert not is_hallucination(said, *short), said


def _noise(seconds: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = int(seconds * 16000)
    rustle = np.zeros(n, np.float32)
    for _ in range(int(seconds / 2)):  # paper: short bursts of bright noise
        at, length = rng.integers(0, n - 8000), rng.integers(1600, 8000)
        rustle[at : at + length] += np.diff(rng.standard_normal(length + 1)).astype(np.float32) * 0.05
    return {
        "silence": np.zeros(n, np.float32),
        "room tone": (rng.standard_normal(n) * 10 ** (-65 / 20)).astype(np.float32),
        "noise": (rng.standard_normal(n) * 10 ** (-30 / 20)).astype(np.float32),
        "paper rustle": rustle,
    }


@pytest.mark.parametrize("language", ["zh", "en", None])
def test_sixty_seconds_without_speech_give_no_text(whisper_base, language) -> None:
    for name, audio in _noise(60.0, np.random.default_rng(7)).items():
        segments = transcribe_recording(whisper_base, audio.reshape(-1, 1), [SeatSpec(0, "judge", "judge")],
                                        BatchOptions(language=language))
        assert "".join(s.text for s in segments) == "", f"{name}: {segments}"


def test_decoder_guards_cut_loops_on_noise(base_decoder) -> None:
    # The raw decoder, without VAD in front, on rustle: whatever Whisper invents must not loop.
    rustle = _noise(12.0, np.random.default_rng(3))["paper rustle"]
    words = base_decoder.decode(rustle, 0.0, DecodeOptions(language="en")).words
    keys = [w.text.strip().lower() for w in words]
    assert not any(keys[i : i + 3] == [k] * 3 for i, k in enumerate(keys)), keys
    assert len(words) < 40, keys


def test_loop_guard_keeps_real_repetition_and_cuts_decoder_loops() -> None:
    from transcribe.decoder import drop_loops
    from transcribe.types import Word

    def words(text: str) -> list[Word]:
        return [Word(i * 0.2, i * 0.2 + 0.1, t, 0.9) for i, t in enumerate(text.split())]

    def kept(text: str) -> str:
        return " ".join(w.text for w in drop_loops(words(text)))

    assert kept("I do . I do .") == "I do . I do ."  # a short phrase twice is speech
    assert kept("no no no no no") == "no"  # three times is a loop
    assert kept("下 面 进 行 车 上 面 进 行 转 车 上 面 进 行 转") == "下 面 进 行 车 上 面 进 行 转"  # long phrase twice
    assert kept("上 面 进 行 把 停 掉 车 上 面 进 行 转") == "上 面 进 行 把 停 掉 车"  # ... or again soon after
    # A phrase a speaker comes back to after more words than it has is speech.
    speech = "the money was a gift and everybody in this court knows that the money was a gift"
    assert kept(speech) == speech
    # A sentence again in no time, past the end of the audio: Whisper's, not the speaker's.
    said = [Word(9.94, 10.32, " Please", 0.9), Word(10.32, 10.74, " continue.", 0.9)]
    past = [Word(10.84, 10.84, " Please", 0.5), Word(10.84, 10.84, " continue.", 0.5)]
    assert drop_loops(said + past) == said
    assert len(drop_loops(said + [Word(11.2, 11.6, " Please", 0.9), Word(11.6, 12.0, " continue.", 0.9)])) == 4


def test_invalid_audio_is_a_clear_error(base_decoder, tmp_path) -> None:
    with pytest.raises(AudioFormatError, match="mono audio of shape"):
        base_decoder.decode(np.zeros((16000, 2), np.float32), 0.0, DecodeOptions())
    with pytest.raises(AudioFormatError, match="NaN"):
        base_decoder.decode(np.full(16000, np.nan, np.float32), 0.0, DecodeOptions())
    with pytest.raises(AudioFormatError, match="at most 30"):
        base_decoder.decode(np.zeros(16000 * 31, np.float32), 0.0, DecodeOptions())
    with pytest.raises(AudioFormatError, match="float samples"):
        base_decoder.decode(np.zeros(16000, np.int16), 0.0, DecodeOptions())
    bogus = tmp_path / "not_audio.flac"
    bogus.write_text("this is not a recording")
    with pytest.raises(AudioFormatError, match="cannot read"):
        read_audio(bogus)
    with pytest.raises(AudioFormatError, match="no such audio file"):
        read_audio(tmp_path / "missing.wav")


def test_words_squeezed_into_no_time_at_the_window_end_are_dropped() -> None:
    from transcribe.decoder import drop_unheard_tail
    from transcribe.types import Word

    heard = [Word(8.28, 8.44, "被", 0.9), Word(8.44, 8.64, "告、", 0.9), Word(8.76, 8.94, "李娜、", 0.8)]
    ahead = [Word(9.08, 9.08, t, 0.5) for t in ("借", "款", "合", "同")]  # the prompt, past the audio's end
    assert drop_unheard_tail(heard + ahead, 9.10) == heard
    assert drop_unheard_tail(heard, 9.10) == heard
    # a word of no duration inside the window, with heard words after it, is not at the end
    inside = [Word(8.2, 8.2, "、", 0.9)] + heard
    assert drop_unheard_tail(inside, 9.10) == inside
    # nor one well before the end of the window's audio
    assert drop_unheard_tail([Word(3.0, 3.0, "No.", 0.9)], 9.10) == [Word(3.0, 3.0, "No.", 0.9)]
