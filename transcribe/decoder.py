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

SAMPLE_RATE = 16000
MAX_WINDOW_S = 30.0
ZH_PROMPT = "以下是普通话的句子。"

# Whisper learned these from subtitle credits; on silence or noise it "hears" them.
HALLUCINATED_PHRASES = (
    "请不吝点赞", "订阅", "转发", "打赏", "字幕由", "字幕志愿者", "明镜与点点", "谢谢观看", "感谢观看",
    "thank you for watching", "thanks for watching", "please subscribe", "subtitles by", "amara.org",
    "like and subscribe", "www.", "transcription by", "the end.",
    "普通话的句子", "以下是普通话",  # an echo of our own Mandarin prompt
)


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


@dataclass(frozen=True, slots=True)
class DecodedWindow:
    """The decoder's answer for one window: words (absolute times) and the detected language."""

    words: tuple[Word, ...]
    language: str
    language_probability: float
    audio_s: float


_ZH_PUNCT = {",": "，", "?": "？", "!": "！", ";": "；", ":": "：", ".": "。"}


def to_simplified(text: str) -> str:
    """Simplified characters, and full-width punctuation after Chinese characters."""
    import zhconv

    text = str(zhconv.convert(text, "zh-cn"))
    return re.sub(r"(?<=[\u4e00-\u9fff])[,?!;:.]", lambda m: _ZH_PUNCT[m.group(0)], text)


def _is_hallucination(text: str) -> bool:
    low = text.strip().lower()
    return any(p in low for p in HALLUCINATED_PHRASES)


def _key(word: Word) -> str:
    return word.text.strip().lower().strip(",.?!，。？！、")


def drop_loops(words: list[Word], max_period: int = 24, repeats: int = 3) -> list[Word]:
    """Cut a repetition loop: at the first n-word run repeated ``repeats`` times, keep one copy.

    Whisper stuck in a loop repeats a word or a phrase until the window ends; a court never says
    the same phrase three times in a row.
    """
    keys = [_key(w) for w in words]
    for i in range(len(keys)):
        for n in range(1, max_period + 1):
            if i + repeats * n > len(keys):
                break
            first = keys[i : i + n]
            if all(keys[i + r * n : i + (r + 1) * n] == first for r in range(1, repeats)) and any(first):
                return words[: i + n]
    return words


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
        """Decode one window; word times are ``offset_s`` + time in the window. Runs in the caller's thread."""
        audio = check_audio(audio)
        language = options.language if self.multilingual else "en"
        prompt = options.prompt
        if language == "zh" and ZH_PROMPT not in prompt:
            prompt = (ZH_PROMPT + prompt).strip()
        segments, info = self.model.transcribe(
            audio, language=language, task="transcribe", beam_size=options.beam_size,
            initial_prompt=prompt or None, condition_on_previous_text=False, word_timestamps=True,
            no_speech_threshold=options.no_speech_threshold, log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold, vad_filter=False,
            hotwords=" ".join(options.hotwords) or None, without_timestamps=False,
            temperature=list(options.temperatures),
        )
        words: list[Word] = []
        for seg in segments:  # materialise the lazy generator here, in the worker thread
            if _is_hallucination(seg.text) or seg.no_speech_prob > 0.8 and seg.avg_logprob < -0.7:
                continue
            if seg.compression_ratio > options.compression_ratio_threshold:
                continue  # a loop that the single-temperature decode could not escape
            for w in seg.words or ():
                if w.probability < options.min_word_probability:
                    continue
                text = to_simplified(w.word) if info.language == "zh" else w.word
                words.append(Word(round(float(offset_s + w.start), 3), round(float(offset_s + max(w.end, w.start)), 3),
                                  text, round(float(w.probability), 4)))
        with self._stats_lock:
            self.windows_decoded += 1
            self.audio_decoded_s += len(audio) / SAMPLE_RATE
        return DecodedWindow(tuple(drop_loops(words)), info.language, float(info.language_probability),
                             len(audio) / SAMPLE_RATE)


def detect_language(decoder: Decoder | WhisperModel, audio: np.ndarray, allowed: tuple[str, ...]) -> tuple[str, float]:
    """The most probable language of a window among ``allowed`` (e.g. ("zh", "en"))."""
    audio = check_audio(audio)
    model = decoder.model if isinstance(decoder, Decoder) else decoder
    if not model.model.is_multilingual:
        return "en", 1.0
    _, _, probs = model.detect_language(audio=audio)
    ranked = [(lang, p) for lang, p in probs if not allowed or lang in allowed]
    lang, prob = max(ranked, key=lambda lp: lp[1]) if ranked else (probs[0][0], probs[0][1])
    return lang, float(prob)


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    """Text of consecutive words as Whisper spells them (English words carry their leading space)."""
    return "".join(w.text for w in words).strip()
