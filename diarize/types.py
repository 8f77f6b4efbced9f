"""Core records of speaker attribution."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """Who spoke from start to end (seconds from the start of the recording)."""

    start: float
    end: float
    speaker: str  # seat id, participant id, or "unknown speaker N"
    channel: int | None = None
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Attribution:
    """The seat, role and participant a segment is attributed to."""

    seat: str | None
    role: str | None
    participant_id: int | None = None
    participant_name: str | None = None
    confidence: float = 0.0
