"""Stateless decoder: one audio window (≤ 30 s) + prompt + language → words with timestamps.

Holds no state between calls (design note 1), so windows from many rooms can share one model and,
later, one batched call behind a serving engine. Guards against invented text: no conditioning on
previous text, compression-ratio / no-speech thresholds, known subtitle-credit phrases dropped,
repetition loops cut. Mandarin is converted to simplified characters.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from transcribe.errors import AudioFormatError
from transcribe.types import Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from transcribe.whisper_window import RawWord

SAMPLE_RATE = 16000
MAX_WINDOW_S = 30.0
CONTEXT_GAP_S = 0.4  # silence between context utterances, and between the context and the window's own audio
ZH_PROMPT = "以下是普通话的句子。"

# Whisper learned these from subtitle credits; on silence or noise it "hears" them. A segment is dropped
# only when these phrases make up (nearly) all of its text: testimony may well contain 转发 or "the end."
HALLUCINATED_PHRASES = (
    "请不吝点赞", "订阅", "转发", "打赏", "支持明镜与点点栏目", "明镜与点点", "字幕由", "字幕志愿者", "社区提供",
    "谢谢观看", "感谢观看", "thank you for watching", "thanks for watching", "please subscribe", "subtitles by",
    "amara.org", "like and subscribe", "www.", "transcription by", "the end.",
    "普通话的句子", "以下是普通话",  # an echo of our own Mandarin prompt
)
CREDIT_SHARE_WEAK = 0.6  # Chinese credit phrases cover this share of a weakly heard segment's text: dropped
# A segment is weakly heard above this no-speech probability or below this average token log probability
# (-0.5 took in short clear answers: a clip's few tokens average lower).
WEAK_NO_SPEECH_PROB = 0.6
WEAK_AVG_LOGPROB = -1.0


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How to decode one window."""

    language: str | None = None  # "zh", "en", or None to detect
    prompt: str = ""  # context: committed text tail, case vocabulary
    beam_size: int = 5
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    min_word_probability: float = 0.0
    # Streaming decodes every second: no temperature fallback cascade (it multiplies the cost on
    # noise); loops and hallucinations are caught by the guards instead.
    temperatures: tuple[float, ...] = (0.0,)
    hotwords: tuple[str, ...] = field(default_factory=tuple)
    languages: tuple[str, ...] = ("zh", "en")  # candidates when ``language`` is None
    prefer_language: str | None = None  # detection keeps this one unless another has ``switch_share``
    switch_share: float = 0.9
    prompt_language: str | None = None  # language of ``prompt``: dropped if the window is detected as another
    # The encoder input is padded to at least this (then in 5 s steps), not always to Whisper's 30 s:
    # streaming windows hold a few seconds of speech and the encoder's cost grows with its input.
    min_window_s: float = 30.0
    # The window's first ``context_s`` seconds are context (speech heard before, then ``CONTEXT_GAP_S``
    # of silence): not returned. With ``heard`` (its utterances' (start_s, end_s, text) in window seconds,
    # their text at the prompt's end) the context is heard but not decoded again; without, decoded with the rest.
    context_s: float = 0.0
    heard: tuple[tuple[float, float, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DecodedWindow:
    """The decoder's answer for one window: words (absolute times) and the detected language."""

    words: tuple[Word, ...]
    language: str
    language_probability: float
    audio_s: float


_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_PUNCT = {",": "，", "?": "？", "!": "！", ";": "；", ":": "：", ".": "。"}


def to_simplified(text: str) -> str:
    """Simplified characters, and full-width punctuation after Chinese characters."""
    import zhconv

    text = str(zhconv.convert(text, "zh-cn"))
    return re.sub(r"(?<=[\u4e00-\u9fff])[,?!;:.]", lambda m: _ZH_PUNCT[m.group(0)], text)


_NOT_TEXT = re.compile(r"[\W_]+")  # punctuation and space: "Thanks for watching!" is "thanksforwatching"
_CREDIT_KEYS = tuple(sorted({_NOT_TEXT.sub("", p) for p in HALLUCINATED_PHRASES}, key=len, reverse=True))
# Only Chinese phrases count towards a share: a Latin one inside a run of letters is another word's part
# ("at the end", "the ending" held "theend").
_CJK_CREDIT_KEYS = tuple(k for k in _CREDIT_KEYS if k and not k.isascii())


def _credit_share(key: str, phrases: tuple[str, ...] = _CJK_CREDIT_KEYS) -> float:
    """The share of ``key``'s characters covered by ``phrases``."""
    covered = [False] * len(key)
    for phrase in phrases:
        at = key.find(phrase)
        while at >= 0:
            covered[at : at + len(phrase)] = [True] * len(phrase)
            at = key.find(phrase, at + 1)
    return sum(covered) / len(key)


def is_hallucination(text: str, no_speech_prob: float | None = None, avg_logprob: float | None = None) -> bool:
    """Text Whisper invents from subtitle credits and our own prompt, not speech.

    Only a segment that is essentially a credit phrase: the phrases, ignoring punctuation and space, are
    all of its text (and it is no one-word answer heard clearly: "转发。" is "forwarded."), or cover
    ``CREDIT_SHARE_WEAK`` of it and the decode heard it weakly (no-speech probability or average log
    probability; without them, only the first rule). A sentence that merely contains 转发, 订阅, 打赏,
    "the end." or "www." is testimony, kept.
    """
    key = _NOT_TEXT.sub("", text.lower())
    if not key:
        return False
    weak = (no_speech_prob is not None and no_speech_prob > WEAK_NO_SPEECH_PROB) \
        or (avg_logprob is not None and avg_logprob < WEAK_AVG_LOGPROB)
    if key in _CREDIT_KEYS or _credit_share(key, _CREDIT_KEYS) == 1.0:  # nothing but credit phrases
        return weak or len(key) >= 4
    return _credit_share(key) >= CREDIT_SHARE_WEAK and weak


def _key(word: Word) -> str:
    return word.text.strip().lower().strip(",.?!，。？！、")


SENTENCE_END = tuple(".?!。？！")


def drop_loops(words: list[Word], max_period: int = 24, repeats: int = 3, long_period: int = 4) -> list[Word]:
    """Cut a repetition loop: keep the text up to where it starts repeating itself.

    Whisper stuck in a loop repeats a word or a phrase until the window ends. A court never says the
    same phrase three times in a row, nor repeats a phrase of ``long_period`` words or more within as
    many words of it ("上面进行把停掉车上面进行转车上面进行转" is the decoder, not the judge); and a
    sentence repeated right after itself in no time at all is Whisper running on past the audio
    ("Please continue. Please continue." with the second copy squeezed into 0 s at the window's
    end). The price: a speaker who does repeat a four-word phrase that soon loses the second copy.
    """
    keys = [_key(w) for w in words]
    for i in range(len(keys)):
        for n in range(1, max_period + 1):
            if i + 2 * n > len(keys):
                break
            first = keys[i : i + n]
            if not any(first):
                continue
            if keys[i + n : i + 2 * n] == first and words[i + n - 1].text.strip().endswith(SENTENCE_END) \
                    and words[i + 2 * n - 1].end - words[i + n].start < 0.05 * n:
                return words[: i + n]  # the sentence again in no time: text past the audio's end
            if n >= long_period:
                # the phrase again, right after it or within n words of it: cut before the second copy
                again = next((j for j in range(i + n, min(i + 2 * n, len(keys) - n) + 1) if keys[j : j + n] == first),
                             None)
                if again is not None:
                    return words[:again]
            elif i + repeats * n <= len(keys) and all(
                    keys[i + r * n : i + (r + 1) * n] == first for r in range(1, repeats)):
                return words[: i + n]
    return words


def drop_unheard_tail(words: list[Word], end_s: float, near_s: float = 0.5) -> list[Word]:
    """Cut the words at the end of a window that Whisper squeezed into no time at all.

    A streaming window ends mid-speech, and Whisper runs on past its end with what it expects next:
    the case vocabulary from the prompt (借款合同纷 before the judge said it), the room's previous line
    (这比钱是原告的), "their rights and obligations." — each word with zero duration at the audio's
    end (~4 % of live decodes on the bench hearings). No audio was heard for them, so they are not
    shown, not even as a partial: the next decode hears the words when they are said.
    """
    cut = len(words)
    while cut and words[cut - 1].end - words[cut - 1].start < 0.01 and words[cut - 1].start >= end_s - near_s:
        cut -= 1
    return words[:cut]


def check_audio(audio: np.ndarray) -> np.ndarray:
    """Validate a mono window: (frames,) float32 finite samples, at most 30 s."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 1:
        raise AudioFormatError(f"decoder wants mono audio of shape (frames,), got {getattr(audio, 'shape', audio)!r}")
    if audio.dtype != np.float32:
        if not np.issubdtype(audio.dtype, np.floating):
            raise AudioFormatError(f"decoder wants float samples in [-1, 1], got dtype {audio.dtype}")
        audio = audio.astype(np.float32)
    if not np.all(np.isfinite(audio)):
        raise AudioFormatError("audio contains NaN or infinite samples")
    if len(audio) > MAX_WINDOW_S * SAMPLE_RATE + 1:
        raise AudioFormatError(f"window is {len(audio) / SAMPLE_RATE:.1f} s; the decoder takes at most {MAX_WINDOW_S} s")
    return audio


class Decoder:
    """Decodes windows with one shared faster-whisper model; safe to call from several threads."""

    def __init__(self, model: WhisperModel, model_name: str = "") -> None:
        self.model = model
        self.model_name = model_name
        self.multilingual = bool(getattr(model, "model", None) is None or model.model.is_multilingual)
        self._stats_lock = threading.Lock()
        self.windows_decoded = 0
        self.audio_decoded_s = 0.0

    def decode(self, audio: np.ndarray, offset_s: float, options: DecodeOptions) -> DecodedWindow:
        """Decode one window; word times are ``offset_s`` + time in the window. Runs in the caller's thread.

        With ``options.language`` None the language is read from the window's own encoder output
        (no second encoder pass), among ``options.languages``.
        """
        from transcribe.whisper_window import WindowRequest, decode_window

        audio = check_audio(audio)
        language = options.language if self.multilingual else "en"
        heard = options.heard if options.context_s > 0 else ()
        request = WindowRequest(
            language=language, languages=options.languages, prompt=options.prompt, hotwords=" ".join(options.hotwords),
            beam_size=options.beam_size, temperatures=options.temperatures,
            no_speech_threshold=options.no_speech_threshold, log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold, min_window_s=options.min_window_s,
            # Mandarin, given or detected, gets the simplified-Chinese prompt (else: traditional characters).
            language_prompts=(("zh", ZH_PROMPT),), prefer_language=options.prefer_language,
            switch_share=options.switch_share, prompt_language=options.prompt_language,
            heard=heard, start_s=options.context_s - CONTEXT_GAP_S / 2 if heard else 0.0)
        window = decode_window(self.model, audio, request)
        words: list[Word] = []
        for seg in window.segments:
            if is_hallucination(seg.text, seg.no_speech_prob, seg.avg_logprob) \
                    or seg.no_speech_prob > 0.8 and seg.avg_logprob < -0.7:
                continue
            if seg.compression_ratio > options.compression_ratio_threshold:
                continue  # a loop that the single-temperature decode could not escape
            for w in _after_context(seg.words, options.context_s):
                if w.probability < options.min_word_probability or "\ufffd" in w.text:
                    continue  # (a character cut in half by the token budget is no text)
                text = to_simplified(w.text) if window.language == "zh" else w.text
                start = max(w.start, options.context_s)
                words.append(Word(round(float(offset_s + start), 3), round(float(offset_s + max(w.end, start)), 3),
                                  text, round(float(w.probability), 4)))
        with self._stats_lock:
            self.windows_decoded += 1
            self.audio_decoded_s += len(audio) / SAMPLE_RATE
        words = drop_unheard_tail(words, offset_s + len(audio) / SAMPLE_RATE)
        return DecodedWindow(tuple(drop_loops(words)), window.language, window.language_probability,
                             len(audio) / SAMPLE_RATE)


def _after_context(words: tuple[RawWord, ...], context_s: float) -> tuple[RawWord, ...]:
    """The words of one Whisper segment that belong to the audio after the context.

    Whisper starts a segment at the silence between the context and the new audio, but word times
    at such a boundary stretch into the silence: a segment that starts in the gap is wholly new
    (its first word often starts early), and in a segment that starts in the context a word is new
    only if it starts after the gap's middle (the context's last word often ends late).
    """
    if context_s <= 0 or not words:
        return words
    if words[0].start >= context_s - CONTEXT_GAP_S:
        return words
    return tuple(w for w in words if w.start >= context_s - CONTEXT_GAP_S / 2)


def detect_language(decoder: Decoder | WhisperModel, audio: np.ndarray, allowed: tuple[str, ...]) -> tuple[str, float]:
    """The most probable language of a window among ``allowed`` (e.g. ("zh", "en")), from its first seconds."""
    from transcribe.whisper_window import detect_languages

    audio = check_audio(audio)
    model = decoder.model if isinstance(decoder, Decoder) else decoder
    return detect_languages(model, [audio], allowed)[0]


def vocabulary_prompt(vocabulary: tuple[str, ...] | list[str], language: str | None) -> str:
    """The case vocabulary as prompt text for one language: Chinese terms for Mandarin, the others
    for English. Chinese names in an English prompt make Whisper answer English speech in Chinese."""
    if language is None:
        return ""
    if language == "zh":
        return "、".join(w for w in vocabulary if _CJK.search(w))
    return ", ".join(w for w in vocabulary if not _CJK.search(w))


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    """Text of consecutive words as Whisper spells them (English words carry their leading space)."""
    return "".join(w.text for w in words).strip()
