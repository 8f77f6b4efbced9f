"""One encoder pass per window: bucketed encoder input, language from the window itself (real model)."""

from dataclasses import replace

import numpy as np
import pytest

from transcribe.decoder import ZH_PROMPT, DecodeOptions, detect_language, join_words, to_simplified
from transcribe.metrics import cer, wer
from transcribe.whisper_window import (
    WindowRequest,
    decode_batch,
    detect_languages,
    encoder_frames,
    max_tokens,
    split_by_timestamps,
)

EN_WER_MAX = 0.15  # as for the full 30 s window (test_decoder.py); measured 0.095 at both lengths
ZH_CER_MAX = 0.20


def test_encoder_input_is_the_audio_plus_padding_in_5_s_steps() -> None:
    assert encoder_frames(150, 10.0) == 1000  # 1.5 s of audio: the 10 s minimum
    assert encoder_frames(950, 10.0) == 1500  # 9.5 s: at least 1 s of padding after the audio
    assert encoder_frames(2400, 10.0) == 2500
    assert encoder_frames(2450, 10.0) == 3000
    assert encoder_frames(2999, 10.0) == 3000  # never past Whisper's 30 s
    assert encoder_frames(150, 30.0) == 3000  # 30 s minimum: exactly what WhisperModel.transcribe encodes


def test_split_keeps_the_unfinished_tail_of_the_window() -> None:
    ts = 50_000  # timestamp_begin; <|t|> is ts + t / 0.02
    eot = 49_999
    tokens = [ts, 1, 2, ts + 100, ts + 100, 3, 4, ts + 200, ts + 210, 5, 6, eot]
    pieces = split_by_timestamps(tokens, ts, eot, duration_s=5.0)
    assert [(p["start"], p["end"]) for p in pieces] == [(0.0, 2.0), (2.0, 4.0), (4.2, 5.0)]
    assert pieces[-1]["tokens"] == [5, 6]  # cut mid-sentence by the window: kept, to be confirmed next time


def test_token_budget_grows_with_the_window() -> None:
    assert max_tokens(1.0) < 64 < max_tokens(10.0) < max_tokens(30.0) <= 440


@pytest.mark.parametrize("min_window_s", [10.0, 30.0])
def test_short_encoder_window_transcribes_as_well(base_decoder, en_clip, zh_clip, min_window_s) -> None:
    audio, ref = en_clip
    en = base_decoder.decode(audio, 5.0, DecodeOptions(language="en", min_window_s=min_window_s))
    assert wer(ref["text"], join_words(en.words)) <= EN_WER_MAX, join_words(en.words)
    assert all(5.0 <= w.start <= w.end <= 5.0 + len(audio) / 16000 + 1e-6 for w in en.words)
    audio, ref = zh_clip
    zh = join_words(base_decoder.decode(audio, 0.0, DecodeOptions(language="zh", min_window_s=min_window_s)).words)
    assert cer(ref["text"], zh) <= ZH_CER_MAX, zh


def test_language_is_read_from_the_window_being_decoded(base_decoder, en_clip, zh_clip) -> None:
    en = base_decoder.decode(en_clip[0], 0.0, DecodeOptions(language=None, min_window_s=10.0))
    zh = base_decoder.decode(zh_clip[0], 0.0, DecodeOptions(language=None, min_window_s=10.0))
    assert (en.language, zh.language) == ("en", "zh")
    assert en.language_probability > 0.9 and zh.language_probability > 0.9
    text = join_words(zh.words)
    assert cer(zh_clip[1]["text"], text) <= ZH_CER_MAX and to_simplified(text) == text, text  # zh prompt applied
    # A clear English sentence is English even where the seat spoke Mandarin a moment ago.
    again = base_decoder.decode(en_clip[0], 0.0, DecodeOptions(language=None, prefer_language="zh", min_window_s=10.0))
    assert again.language == "en"


def test_language_of_many_pieces_in_one_batch(base_decoder, en_clip, zh_clip) -> None:
    pieces = [en_clip[0], zh_clip[0], en_clip[0][16000:], zh_clip[0][8000:]]
    assert [lang for lang, _ in detect_languages(base_decoder.model, pieces, ("zh", "en"))] == ["en", "zh", "en", "zh"]
    assert detect_language(base_decoder, zh_clip[0], ("zh", "en"))[0] == "zh"
    assert detect_language(base_decoder, np.ascontiguousarray(en_clip[0][:48000]), ("zh", "en"))[0] == "en"


def test_a_batch_decodes_each_window_in_its_own_language(base_decoder, en_clip, zh_clip) -> None:
    """Windows of two languages and a silent one in one encoder call and beam search: each in its language.

    (Silence never reaches the model in the pipeline, the gate and VAD keep it out; here it checks that a
    window of another length and content in the batch does not disturb the others.)"""
    request = WindowRequest(language=None, languages=("zh", "en"), min_window_s=5.0,
                            language_prompts=(("zh", ZH_PROMPT),))
    silence = np.zeros(3 * 16000, np.float32)
    en, zh, _ = decode_batch(base_decoder.model, [en_clip[0], zh_clip[0], silence], request)
    assert (en.language, zh.language) == ("en", "zh")
    en_text = "".join(w.text for s in en.segments for w in s.words)
    zh_text = "".join(w.text for s in zh.segments for w in s.words)
    assert wer(en_clip[1]["text"], en_text) <= EN_WER_MAX, en_text
    assert cer(zh_clip[1]["text"], to_simplified(zh_text)) <= ZH_CER_MAX, zh_text
    for result, clip in ((en, en_clip), (zh, zh_clip)):
        words = [w for s in result.segments for w in s.words]
        assert all(0 <= a.start <= a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))
        assert words[-1].end <= len(clip[0]) / 16000 + 1e-6
    # A fixed language is kept for every window of the batch.
    assert {r.language for r in decode_batch(base_decoder.model, [en_clip[0], zh_clip[0]],
                                             replace(request, language="zh"))} == {"zh"}
