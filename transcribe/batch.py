"""Batch transcription of a recording file: per seat for multi-channel files, one seat for mono.

Each seat's active spans (from the seat gate) are concatenated and decoded in one pass, so the
cost is that of the seat's speech, not of the file's length times its channels; times are mapped
back to the recording.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from transcribe.decoder import (
    HALLUCINATED_PHRASES,
    SAMPLE_RATE,
    ZH_PROMPT,
    detect_language,
    drop_loops,
    to_simplified,
)
from transcribe.errors import AudioFormatError
from transcribe.room import SeatSpec
from transcribe.seats import GateOptions, seat_spans
from transcribe.types import Segment, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


@dataclass(frozen=True, slots=True)
class BatchOptions:
    language: str | None = None  # "zh", "en" or None (detect per utterance among ``languages``)
    languages: tuple[str, ...] = ("zh", "en")
    beam_size: int = 5
    vocabulary: tuple[str, ...] = ()
    model_name: str = ""
    gate: GateOptions = GateOptions()


def read_audio(path: Path) -> np.ndarray:
    """A recording as (frames, channels) float32 at 16 kHz; clear errors for what cannot be read."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioFormatError(f"no such audio file: {path}")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        audio, rate = _decode_with_ffmpeg(path, exc)
    if audio.shape[0] == 0:
        raise AudioFormatError(f"{path} contains no audio frames")
    if rate != SAMPLE_RATE:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(rate), SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, int(rate) // g, axis=0).astype(np.float32)
    return np.ascontiguousarray(audio)


def _decode_with_ffmpeg(path: Path, cause: Exception) -> tuple[np.ndarray, int]:
    """Formats libsndfile does not read (mp3, m4a, video): mono through faster-whisper's decoder."""
    from faster_whisper.audio import decode_audio

    try:
        mono = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # av raises many error types for garbage input
        raise AudioFormatError(f"cannot read {path} as audio: {cause}; ffmpeg: {exc}") from exc
    if not len(mono):
        raise AudioFormatError(f"cannot read {path} as audio: {cause}; ffmpeg found no audio stream")
    return mono.reshape(-1, 1).astype(np.float32), SAMPLE_RATE


class _TimeMap:
    """Maps times in the concatenated speech back to the recording, span by span."""

    def __init__(self, spans: Sequence[tuple[float, float]]) -> None:
        self.spans = list(spans)
        self.concat_starts: list[float] = []
        t = 0.0
        for start, end in spans:
            self.concat_starts.append(t)
            t += end - start

    def span_of(self, t: float) -> int:
        return max(0, bisect.bisect_right(self.concat_starts, t) - 1)

    def word(self, w: object, zh: bool) -> tuple[int, Word]:
        """(span index, the word in recording time) — placed by its midpoint, clamped into its span."""
        start, end = float(w.start), float(max(w.start, w.end))  # type: ignore[attr-defined]
        i = self.span_of((start + end) / 2)
        orig_start, orig_end = self.spans[i]
        shift = orig_start - self.concat_starts[i]
        a = min(max(start + shift, orig_start), orig_end)
        b = min(max(end + shift, a), orig_end)
        text = w.word  # type: ignore[attr-defined]
        return i, Word(round(float(a), 3), round(float(b), 3), to_simplified(text) if zh else text,
                       round(float(w.probability), 4))  # type: ignore[attr-defined]


def transcribe_channel(model: WhisperModel, audio: np.ndarray, spans: Sequence[tuple[float, float]],
                       seat: SeatSpec | None, options: BatchOptions) -> list[Segment]:
    """Transcribe the given spans of one (frames,) channel; segments in recording time."""
    if not spans:
        return []
    pieces = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in spans]
    speech = np.concatenate(pieces)
    if len(speech) < SAMPLE_RATE // 10:
        return []
    to_orig = _TimeMap(spans)
    prompt = ", ".join(options.vocabulary)
    if options.language == "zh":
        prompt = ZH_PROMPT + prompt
    segments, info = model.transcribe(
        speech, language=options.language, beam_size=options.beam_size, word_timestamps=True,
        condition_on_previous_text=False, initial_prompt=prompt or None, vad_filter=False)
    out: list[Segment] = []
    for seg in segments:  # materialised here, in the caller's (worker) thread
        text = seg.text.strip()
        if not text or any(p in text.lower() for p in HALLUCINATED_PHRASES):
            continue
        zh = (seg.language if hasattr(seg, "language") and seg.language else info.language) == "zh"
        groups: dict[int, list[Word]] = {}
        for w in seg.words or ():
            i, word = to_orig.word(w, zh)
            groups.setdefault(i, []).append(word)
        for words in groups.values():  # a segment never spans two utterances of the seat
            words = drop_loops(words)
            if words:
                out.append(_segment(words, seat, "zh" if zh else info.language, options.model_name))
    return out


def _segment(words: list[Word], seat: SeatSpec | None, language: str, model_name: str) -> Segment:
    return Segment(
        start=words[0].start, end=words[-1].end, text="".join(w.text for w in words).strip(),
        words=tuple(words), channel=seat.channel if seat else 0, seat=seat.seat if seat else None,
        role=seat.role if seat else None, language=language,
        confidence=round(float(np.mean([w.probability for w in words])), 4), model=model_name)


def speech_spans(audio: np.ndarray, within: Sequence[tuple[float, float]] | None = None) -> list[tuple[float, float]]:
    """Silero VAD speech of a (frames,) channel, intersected with ``within`` spans when given."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(min_silence_duration_ms=600, speech_pad_ms=200, min_speech_duration_ms=150)
    speech = [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in get_speech_timestamps(audio, vad)]
    if within is None:
        return speech
    out = []
    for a, b in within:
        for s, e in speech:
            lo, hi = max(a, s), min(b, e)
            if hi - lo > 0.05:
                out.append((lo, hi))
    return out


def _transcribe_seat(model: WhisperModel, audio: np.ndarray, spans: Sequence[tuple[float, float]],
                     seat: SeatSpec | None, options: BatchOptions) -> list[Segment]:
    """One seat: with a fixed language one pass over all its speech; otherwise one pass per language.

    Whisper detects the language once per 30 s window, which mixes up a judge who switches between
    Mandarin and English; so each utterance's language is detected (among the court's languages)
    and the seat's utterances are decoded grouped by language.
    """
    if options.language is not None or not spans:
        return transcribe_channel(model, audio, spans, seat, options)
    by_language: dict[str, list[tuple[float, float]]] = {}
    for s, e in spans:
        piece = audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)][: 30 * SAMPLE_RATE]
        language, _ = detect_language(model, piece, options.languages)
        by_language.setdefault(language, []).append((s, e))
    segments: list[Segment] = []
    for language, group in by_language.items():
        segments += transcribe_channel(model, audio, group, seat, dataclasses.replace(options, language=language))
    return segments


def transcribe_recording(model: WhisperModel, audio: np.ndarray, seats: Sequence[SeatSpec],
                         options: BatchOptions) -> list[Segment]:
    """(frames, channels) recording → segments of every seat, ordered by start time."""
    if audio.ndim != 2:
        raise AudioFormatError(f"expected (frames, channels) audio, got shape {audio.shape}")
    by_channel = {s.channel: s for s in seats}
    if audio.shape[1] == 1:  # silence, room tone and noise never reach the model
        return _transcribe_seat(model, audio[:, 0], speech_spans(audio[:, 0]), by_channel.get(0), options)
    missing = [s.channel for s in seats if s.channel >= audio.shape[1]]
    if missing:
        raise AudioFormatError(f"seats name channels {missing} but the file has {audio.shape[1]} channels")
    spans = seat_spans(audio, options.gate)
    segments: list[Segment] = []
    for ch in range(audio.shape[1]):
        if ch in by_channel:
            voiced = speech_spans(audio[:, ch], spans[ch])  # loud is not enough: paper rustles too
            segments += _transcribe_seat(model, audio[:, ch], voiced, by_channel[ch], options)
    return sorted(segments, key=lambda s: (s.start, s.channel or 0))
