"""What an export is made of: plain records built by the API from the dossier, free of ORM objects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

# Role → label shown in the court record (Chinese first, as a court record is written).
ROLE_LABELS: dict[str, str] = {
    "presiding_judge": "审判长",
    "judge": "审判员",
    "peoples_assessor": "人民陪审员",
    "clerk": "书记员",
    "plaintiff": "原告",
    "defendant": "被告",
    "third_party": "第三人",
    "agent": "代理人",
    "prosecutor": "公诉人",
    "witness": "证人",
    "expert": "鉴定人",
    "interpreter": "翻译人员",
}

SEALED_TEXT = "【不公开内容 sealed】"
SEALED_MARK = "【不公开 sealed】"  # before a sealed line's text in the bench's copy


def role_label(role: str | None, participant_name: str | None = None) -> str:
    """``审判长`` or ``原告 张三``; unknown roles are shown as they are, none as ``未识别``."""
    label = ROLE_LABELS.get(role or "", role or "未识别")
    return f"{label} {participant_name}" if participant_name else label


@dataclass(frozen=True, slots=True)
class ExportWord:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class ExportSegment:
    """One transcript segment as exported; times are seconds from the start of the recording."""

    segment_id: int
    start: float
    end: float
    text: str
    role: str | None = None
    participant_name: str | None = None
    seat: str | None = None
    channel: int | None = None
    sealed: bool = False
    status: str = "draft"
    words: tuple[ExportWord, ...] = ()

    @property
    def label(self) -> str:
        return role_label(self.role, self.participant_name)


@dataclass(frozen=True, slots=True)
class RecordHeader:
    """The head of a court record."""

    court: str
    case_number: str
    cause: str = ""
    courtroom: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    participants: tuple[str, ...] = ()  # "原告 张三", ...
    zone: str = "UTC"  # the time zone the header's and signatures' times are in
    signed_by: tuple[str, ...] = ()  # "书记员 李四 2024-05-01 10:00"


@dataclass(frozen=True, slots=True)
class RecordingGap:
    """A stretch of the hearing's timeline the recording holds no audio for (a restart, a dead source)."""

    start: float
    end: float
    recess: bool = False  # the hearing in recess (休庭), not audio lost


# Gaps at least this long are printed in the record and end a speaker's turn; shorter ones (a dropped
# block) stay in the recording's manifest.
MIN_GAP_SHOWN_S = 1.0


@dataclass(frozen=True, slots=True)
class CourtRecord:
    header: RecordHeader
    segments: tuple[ExportSegment, ...] = field(default_factory=tuple)
    gaps: tuple[RecordingGap, ...] = field(default_factory=tuple)


def redact(segments: tuple[ExportSegment, ...], may_see_sealed: bool) -> tuple[ExportSegment, ...]:
    """Replace sealed segments' text (and words) for readers who may not see sealed content."""
    if may_see_sealed:
        return segments
    return tuple(replace(s, text=SEALED_TEXT, words=()) if s.sealed else s for s in segments)


def marked(text: str, sealed: bool) -> str:
    """A sealed line's text as printed: marked in the bench's copy (a clerk filing or printing it must see
    what may not go to the parties), the placeholder as it is in theirs."""
    return f"{SEALED_MARK}{text}" if sealed and text != SEALED_TEXT else text


def clock(seconds: float, sep: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or with ``sep=","`` (SRT)."""
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


# A speaker's consecutive segments at most this far apart, with nobody else speaking between them,
# are one turn of the court record. Live transcription hands a long sentence out in two or three
# finals (bounded latency); the record reads as the speaker spoke.
TURN_GAP_S = 3.0
_CJK_EDGE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True, slots=True)
class Turn:
    """Consecutive segments of one speaker, as one paragraph of the court record."""

    start: float
    end: float
    label: str
    text: str
    segment_ids: tuple[int, ...]
    sealed: bool = False


def speaker_turns(segments: tuple[ExportSegment, ...], gaps: tuple[RecordingGap, ...] = ()) -> list[Turn]:
    """Segments (in time order) → turns. A sealed segment stays a turn of its own, so that what is
    sealed is exactly what the reader sees marked; a turn never runs across a gap in the recording (two
    halves of a sentence joined seamlessly would hide that audio is missing between them)."""
    turns: list[Turn] = []
    previous: ExportSegment | None = None
    shown = [g for g in gaps if g.end - g.start >= MIN_GAP_SHOWN_S]
    for s in segments:
        if previous is not None and not (s.sealed or previous.sealed) \
                and (s.role, s.participant_name, s.seat) == (previous.role, previous.participant_name, previous.seat) \
                and previous.start <= s.start <= previous.end + TURN_GAP_S \
                and not any(previous.start < g.end and g.start < s.start for g in shown):
            t = turns[-1]
            turns[-1] = replace(t, end=max(t.end, s.end), text=join_text(t.text, s.text),
                                segment_ids=(*t.segment_ids, s.segment_id))
        else:
            turns.append(Turn(s.start, s.end, s.label, s.text, (s.segment_id,), s.sealed))
        previous = s
    return turns


def join_text(a: str, b: str) -> str:
    """Two pieces of speech as one: a space between words, none next to Chinese characters."""
    a, b = a.rstrip(), b.lstrip()
    if not a or not b:
        return a + b
    return a + ("" if _CJK_EDGE.match(a[-1]) or _CJK_EDGE.match(b[0]) else " ") + b
