"""Core records of speaker attribution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """Who spoke from start to end (seconds from the start of the recording)."""

    start: float
    end: float
    speaker: str  # seat id, participant id, or "unknown speaker N"
    channel: int | None = None
    confidence: float = 1.0
    participant_id: int | None = None  # set when the speaker is an identified participant
    role: str | None = None  # that participant's role


@dataclass(frozen=True, slots=True)
class Attribution:
    """The seat, role and participant a segment is attributed to."""

    seat: str | None
    role: str | None
    participant_id: int | None = None
    participant_name: str | None = None
    confidence: float = 0.0
    channel: int | None = None  # the channel that carries the speech (may differ from the hint)
    speaker: str | None = None  # display label: participant name or "unknown speaker N"


@dataclass(frozen=True, slots=True)
class SeatOccupant:
    """A participant assigned to a seat from ``from_s`` until ``to_s`` (None: until the end)."""

    seat: str
    participant_id: int
    name: str
    role: str
    from_s: float = 0.0
    to_s: float | None = None

    def covers(self, t: float) -> bool:
        return self.from_s <= t and (self.to_s is None or t < self.to_s)


@dataclass(frozen=True, slots=True, eq=False)
class EnrolledVoice:
    """A participant's voiceprint: an L2-normalised CAM++ embedding ``(192,)``."""

    participant_id: int
    name: str
    role: str
    vector: np.ndarray  # (192,) float32, unit norm


@dataclass(frozen=True, slots=True)
class SeatDecision:
    """Which channel carries a stretch of speech, after compensating microphone bleed."""

    channel: int | None  # None: no speech found on any channel
    confidence: float  # share of the estimated source power held by ``channel``, 0..1
    hint_is_bleed: bool = False  # the hinted channel only carried bleed from ``channel``
