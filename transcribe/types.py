"""Core records of the transcription stage. Times are float seconds from the start of the recording."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one seat's speech with its words."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    channel: int | None = None
    seat: str | None = None
    role: str | None = None
    language: str | None = None
    confidence: float = 0.0  # mean word probability
    engine: str = "faster-whisper"
    model: str = ""
    # Who spoke (set by diarize): the participant's display label ("张三" or "unknown speaker 2").
    speaker: str | None = None
    participant_id: int | None = None


EventKind = Literal["partial", "final", "revised"]


@dataclass(frozen=True, slots=True)
class TranscriptEvent:
    """What the transcriber emits for one seat.

    ``partial`` text may still change (an empty one takes the seat's provisional line back: its
    utterance was dropped, no final follows); ``final`` never changes afterwards; ``revised`` replaces an
    earlier final (e.g. after a diarization pass relabels the speaker) and names it by ``revises``.
    ``seq`` is monotonic per hearing so a reconnecting terminal can ask for everything after N.
    """

    kind: EventKind
    segment: Segment
    seq: int = 0
    stream: str = ""  # which room/seat stream produced it
    revises: int | None = None  # seq of the event this one revises
    emitted_at: float = 0.0  # wall clock (time.time()) when emitted
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)
