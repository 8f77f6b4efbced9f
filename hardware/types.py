"""Core records of a courtroom's hardware profile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SourceKind = Literal["device", "ffmpeg", "replay"]
TerminalKind = Literal["bench", "party", "clerk"]

# The roles and sides the dossier knows (``models.enums.ParticipantRole`` and ``Side``; a test keeps
# them equal). Written out here because hardware sits below the dossier and does not import it.
SEAT_ROLES: frozenset[str] = frozenset({
    "presiding_judge", "judge", "peoples_assessor", "clerk", "plaintiff", "defendant", "third_party",
    "agent", "prosecutor", "witness", "expert", "interpreter",
})
TERMINAL_SIDES: frozenset[str] = frozenset({
    "bench", "plaintiff", "defendant", "third_party", "prosecution", "neutral",
})
MAX_CHANNELS = 256  # more than any courtroom array; a larger index is a typo
# The dossier files each final, seat assignment and participant's seat under its seat name in a
# String(50) column (a test keeps them equal): PostgreSQL refuses a longer one, every final of that seat.
MAX_SEAT_CHARS = 50
# A filed recording's listening mix is its track named "mixdown" (``/tracks/mixdown``, ``/play``): a
# seat of that name would take its place.
MIXDOWN_SEAT = "mixdown"


@dataclass(frozen=True, slots=True)
class SeatChannel:
    """One microphone channel: which seat it serves and that seat's default role."""

    channel: int  # 0-based channel index in the source
    seat: str  # e.g. "judge", "plaintiff", "witness"
    role: str  # default role of whoever sits there, e.g. "presiding_judge"
    gain_db: float = 0.0
    label: str = ""  # human label shown on terminals, e.g. "审判长 Presiding judge"


@dataclass(frozen=True, slots=True)
class AudioSourceSpec:
    """Where a room's audio comes from."""

    kind: SourceKind
    device: str | int | None = None  # sounddevice name or index (kind == "device")
    url: str | None = None  # stream URL (kind == "ffmpeg") or file path (kind == "replay")
    speed: float = 1.0  # replay pace: 1.0 = real time
    start_s: float = 0.0  # replay from this far into the file (a hearing resumed after a restart)


@dataclass(frozen=True, slots=True)
class Terminal:
    id: str
    kind: TerminalKind
    side: str | None = None  # for party screens: "plaintiff", "defendant", ...


@dataclass(frozen=True, slots=True)
class CourtroomProfile:
    room_id: str
    name: str
    source: AudioSourceSpec
    sample_rate: int
    channels: tuple[SeatChannel, ...]
    terminals: tuple[Terminal, ...] = ()
    path: Path | None = None  # the TOML file it was loaded from

    @property
    def channel_count(self) -> int:
        return max((c.channel for c in self.channels), default=-1) + 1

    def seat_of(self, channel: int) -> SeatChannel | None:
        return next((c for c in self.channels if c.channel == channel), None)


@dataclass(frozen=True, slots=True)
class InputDevice:
    """An audio input device of this machine, as PortAudio lists it."""

    index: int
    name: str
    host_api: str
    channels: int  # maximum input channels
    default_sample_rate: float
    is_default: bool = False
