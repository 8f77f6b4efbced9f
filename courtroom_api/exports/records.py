"""What an export is made of: plain records built by the API from the dossier, free of ORM objects."""

from __future__ import annotations

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
    signed_by: tuple[str, ...] = ()  # "书记员 李四 2024-05-01 10:00"


@dataclass(frozen=True, slots=True)
class CourtRecord:
    header: RecordHeader
    segments: tuple[ExportSegment, ...] = field(default_factory=tuple)


def redact(segments: tuple[ExportSegment, ...], may_see_sealed: bool) -> tuple[ExportSegment, ...]:
    """Replace sealed segments' text (and words) for readers who may not see sealed content."""
    if may_see_sealed:
        return segments
    return tuple(replace(s, text=SEALED_TEXT, words=()) if s.sealed else s for s in segments)


def clock(seconds: float, sep: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or with ``sep=","`` (SRT)."""
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"
