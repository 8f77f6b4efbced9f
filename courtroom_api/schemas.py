"""Wire schemas of the REST API, in Create / Update / Public families per resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from courtroom_api.evidence import numbers
from models.enums import (
    AccessLevel,
    AnnotationKind,
    CaseStatus,
    EvidenceKind,
    HearingStatus,
    ParticipantRole,
    SegmentStatus,
    Side,
    UserRole,
    Visibility,
)

# Text without control characters (NUL is refused by PostgreSQL; a line break in a title or file name
# would end up in a download's Content-Disposition, a court record cannot hold a vertical tab): one line, or lines.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# A reason the audit keeps (a correction's, a seal's, an unlock's): LINES with something besides blanks.
REASON = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
MAX_OFFSET_S = 10_000_000.0  # a time in a hearing's audio, in seconds (115 days): finite, storable
# A name (a court's, a courtroom's, a participant's): ONE_LINE with something besides blanks (a courtroom
# named "　" was taken, and pickers, terminal bindings and the court record's head showed nothing).
NAME_LINE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
Name = Field(min_length=1, max_length=200, pattern=NAME_LINE)
MAX_ID = 2**53 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    role: UserRole


class MediaLinkRequest(BaseModel):
    path: str = Field(min_length=1, max_length=300, description="a file endpoint's path, e.g. /api/recordings/3/mixdown")


class MediaLink(BaseModel):
    path: str
    url: str = Field(description="the path with ?mt=<signed token>; valid for this path only, until expires_at")
    expires_at: datetime


# --- users -----------------------------------------------------------------------------------
class UserCreate(BaseModel):
    login: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: UserRole
    display_name: str = Field(default="", max_length=200, pattern=ONE_LINE)
    courtroom_id: DbId | None = None
    side: Side | None = None


class UserUpdate(BaseModel):
    """Fields left out stay as they are; ``courtroom_id`` and ``side`` may be set to null."""

    password: str | None = Field(default=None, min_length=8, max_length=200)
    role: UserRole | None = None
    display_name: str | None = Field(default=None, max_length=200, pattern=ONE_LINE)
    courtroom_id: DbId | None = None
    side: Side | None = None
    is_active: bool | None = None


class UserPublic(Orm):
    id: int
    login: str
    display_name: str
    role: UserRole
    courtroom_id: int | None
    side: Side | None
    is_active: bool


class GrantCreate(BaseModel):
    case_id: DbId
    # read, or write (submit evidence); sealed items stay the bench's whatever the grant ("sealed" is refused)
    level: AccessLevel = AccessLevel.READ
    expires_at: AwareDatetime | None = Field(None, description="the grant ends then (with its time zone)")


class GrantPublic(Orm):
    id: int
    case_id: int
    user_id: int
    level: AccessLevel
    granted_at: datetime
    expires_at: datetime | None = None


# --- courts and courtrooms --------------------------------------------------------------------
class CourtCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Name


class CourtUpdate(BaseModel):
    code: str | None = Field(default=None, min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_LINE)


class CourtPublic(Orm):
    id: int
    code: str
    name: str


class CourtroomCreate(BaseModel):
    court_id: DbId
    name: str = Name
    profile_name: str = Field(min_length=1, max_length=100)


class CourtroomUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_LINE)
    profile_name: str | None = Field(default=None, min_length=1, max_length=100)


class CourtroomPublic(Orm):
    id: int
    court_id: int
    name: str
    profile_name: str


# --- cases and participants -------------------------------------------------------------------
class CaseCreate(BaseModel):
    case_number: str = Field(min_length=1, max_length=100, pattern=ONE_LINE)
    court_id: DbId | None = None
    title: str = Field(default="", max_length=300, pattern=ONE_LINE)
    cause_of_action: str = Field(default="", max_length=200, pattern=ONE_LINE)
    procedure: str = Field(default="ordinary", max_length=50)
    filed_on: date | None = None


class CaseUpdate(BaseModel):
    title: str | None = Field(default=None, max_length=300, pattern=ONE_LINE)
    cause_of_action: str | None = Field(default=None, max_length=200, pattern=ONE_LINE)
    procedure: str | None = Field(default=None, max_length=50)
    status: CaseStatus | None = None
    filed_on: date | None = None


class CasePublic(Orm):
    id: int
    case_number: str
    court_id: int | None
    title: str
    cause_of_action: str
    procedure: str
    status: CaseStatus
    filed_on: date | None


class ParticipantCreate(BaseModel):
    name: str = Name
    role: ParticipantRole
    side: Side | None = None
    seat: str | None = Field(default=None, max_length=50)
    organization: str = Field(default="", max_length=200, pattern=ONE_LINE)
    represented_participant_id: DbId | None = None
    user_id: DbId | None = None


class ParticipantUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_LINE)
    role: ParticipantRole | None = None
    side: Side | None = None
    seat: str | None = Field(default=None, max_length=50)
    organization: str | None = Field(default=None, max_length=200, pattern=ONE_LINE)
    user_id: DbId | None = None


class ParticipantPublic(Orm):
    id: int
    case_id: int
    name: str
    role: ParticipantRole
    side: Side | None
    seat: str | None
    organization: str
    represented_participant_id: int | None
    user_id: int | None


# --- hearings -------------------------------------------------------------------------------
class HearingCreate(BaseModel):
    courtroom_id: DbId | None = None
    title: str = Field(default="", max_length=300, pattern=ONE_LINE)
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None


class HearingUpdate(BaseModel):
    courtroom_id: DbId | None = None
    title: str | None = Field(default=None, max_length=300, pattern=ONE_LINE)
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    status: Literal["scheduled", "cancelled"] | None = None


class HearingPublic(Orm):
    id: int
    case_id: int
    courtroom_id: int | None
    title: str
    status: HearingStatus
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class RecessPublic(HearingPublic):
    """The answer to a recess (休庭): the paused hearing. ``recording_held``: the recordings disk was full, and
    the server holds the recording's last seconds in memory until space is freed (``warning`` says so): the
    recess began all the same, a warning for the bench and the clerk, not an error."""

    recording_held: bool = False
    warning: str | None = None


class HearingListItem(HearingPublic):
    """A hearing in the court-wide list, with its case number for display."""

    case_number: str = ""


# The years a hearing can be held in: year 1 or 9999 is a typo, and converting it to UTC overflowed (a 500).
SCHEDULE_YEARS = range(1900, 2201)


class HearingStart(BaseModel):
    """Where the audio comes from; by default the courtroom's own hardware profile."""

    profile: str | None = Field(default=None, max_length=100, description="hardware profile name")
    source: Literal["profile", "device", "file", "stream"] = "profile"
    url: str | None = Field(default=None, max_length=2000, description="file path or stream URL")
    device: str | None = Field(default=None, max_length=200)
    speed: float = Field(default=1.0, gt=0, le=100, description="replay pace for files (1 = real time)")


class DisplayState(BaseModel):
    """What the bench shows on the party screens now."""

    evidence_id: DbId | None = None
    page: int | None = Field(default=None, ge=1)
    zoom: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=4, max_length=4, description="region [x, y, w, h] as fractions 0..1"
    )


# --- transcript -----------------------------------------------------------------------------
class WordPublic(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class SegmentPublic(Orm):
    id: int
    hearing_id: int
    seq: int | None
    start_s: float
    end_s: float
    text: str
    words: list[Any]
    language: str | None
    channel: int | None
    seat: str | None
    role: ParticipantRole | None
    participant_id: int | None
    participant_name: str | None = None
    confidence: float
    status: SegmentStatus
    sealed: bool
    revision: int = Field(description="how many times the line was corrected, its text or who said it (0: as transcribed)")


class SegmentCorrection(BaseModel):
    text: str = Field(min_length=1, max_length=20_000, pattern=LINES)
    reason: str = Field(min_length=1, max_length=2000, pattern=REASON)
    revision: int | None = Field(
        None, ge=0, le=1_000_000,
        description="the segment's `revision` the correction was made on; if someone corrected the line "
                    "since, nothing is changed and the answer is 409 (read the line again). Omitted: "
                    "the correction replaces whatever the text is now",
    )


class SegmentAttributionUpdate(BaseModel):
    role: ParticipantRole | None = None
    participant_id: DbId | None = None
    reason: str = Field(min_length=1, max_length=2000, pattern=REASON)


class SpeakerCorrection(BaseModel):
    """Who said the line: a participant of the hearing's case (the role is theirs unless given), or a
    role alone (``participant_id`` null: an unnamed witness, a voice diarization could not name)."""

    participant_id: DbId | None = None
    role: ParticipantRole | None = None
    reason: str = Field(min_length=1, max_length=2000, pattern=REASON)
    revision: int | None = Field(None, ge=0, le=1_000_000,
                                 description="as for a text correction: 409 if the line changed since")


class RevisionPublic(Orm):
    id: int
    segment_id: int
    before_text: str
    after_text: str
    author_id: int | None
    reason: str
    created_at: datetime
    diff: str = ""
    speaker_changed: bool = False
    before_role: ParticipantRole | None = None
    after_role: ParticipantRole | None = None
    before_participant_id: int | None = None
    after_participant_id: int | None = None


class SealRequest(BaseModel):
    sealed: bool = True
    reason: str = Field(min_length=1, max_length=2000, pattern=REASON)


class RangeSealRequest(SealRequest):
    start_s: float = Field(ge=0, le=MAX_OFFSET_S)
    end_s: float = Field(ge=0, le=MAX_OFFSET_S)


class SealResult(BaseModel):
    segment_ids: list[int]
    sealed: bool


class AnnotationCreate(BaseModel):
    kind: AnnotationKind
    segment_id: DbId | None = None
    start_s: float | None = Field(default=None, ge=0, le=MAX_OFFSET_S)
    end_s: float | None = Field(default=None, ge=0, le=MAX_OFFSET_S)
    text: str = Field(default="", max_length=5000, pattern=LINES)
    color: str | None = Field(default=None, max_length=20)
    visibility: Visibility = Visibility.PRIVATE


class AnnotationPublic(Orm):
    id: int
    hearing_id: int
    segment_id: int | None
    start_s: float | None
    end_s: float | None
    kind: AnnotationKind
    text: str
    color: str | None
    author_id: int
    visibility: Visibility
    created_at: datetime


class SignOff(BaseModel):
    note: str = Field(default="", max_length=2000, pattern=LINES)
    without_recording: bool = Field(
        False, description="sign although the hearing's recording is not filed (it cannot be: its directory "
                           "is lost or damaged; the note should say why); audited. Never while in recess")


class UnlockRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=REASON)


class RecordState(BaseModel):
    hearing_id: DbId
    locked: bool
    signatures: list[str] = Field(description="roles that signed since the last unlock (a change after a "
                                              "signature voids it: they sign again)")
    unchanged_since_signed: bool | None = Field(
        None, description="true: the transcript is exactly what every current signature signed (each keeps "
                          "the record's sha256); false: it changed since, e.g. behind the API; null: no signature")
    recording_lost: bool = Field(
        False, description="true: the hearing's recording is not filed and never can be (its directory is lost): "
                           "its record is signed with without_recording, saying why")


# --- evidence -------------------------------------------------------------------------------
class EvidencePublic(Orm):
    id: int
    case_id: int
    exhibit_number: str
    title: str
    description: str
    kind: EvidenceKind
    submitted_by_participant_id: int | None
    submitted_by_user_id: int | None
    blob_sha256: str
    mime_type: str
    size_bytes: int
    sealed: bool
    submitted_at: datetime


def _exhibit_title(value: str) -> str:
    if not value.strip():
        raise ValueError("an exhibit's title must say something (it is blank)")
    return value.strip()


def _exhibit_number(value: str) -> str:
    number = numbers.normalize(value)
    if not number:
        raise ValueError("an exhibit number must say something (it is blank)")
    if len(number) > numbers.MAX_CHARS:
        raise ValueError(f"an exhibit number has at most {numbers.MAX_CHARS} characters")
    return number


# Trimmed; a blank one is refused. A number is filed NFKC-normalised (full-width "Ｐ－１" as "P-1").
ExhibitTitle = Annotated[str, Field(min_length=1, max_length=300, pattern=ONE_LINE), AfterValidator(_exhibit_title)]
ExhibitNumber = Annotated[str, Field(min_length=1, max_length=50, pattern=ONE_LINE), AfterValidator(_exhibit_number)]


class EvidenceUpdate(BaseModel):
    title: ExhibitTitle | None = None
    description: str | None = Field(default=None, max_length=5000, pattern=LINES)
    exhibit_number: ExhibitNumber | None = None
    sealed: bool | None = None


class TileInfo(BaseModel):
    width: int
    height: int
    tile_px: int
    max_level: int
    url_template: str


class PagesInfo(BaseModel):
    pages: int
    url_template: str


# --- search ---------------------------------------------------------------------------------
class SearchHitPublic(BaseModel):
    case_id: int
    case_number: str
    hearing_id: int
    segment_id: int
    role: str | None
    participant: str | None
    start_s: float
    end_s: float
    snippet: str
    play_url: str
    # a sealed line (found only by those who may see sealed text): not to be quoted outside the bench
    sealed: bool = Field(description="the line is sealed (不公开): shown to the bench and clerks only")
    held_at: datetime | None = None  # when the hearing was held (started, else scheduled)
    held_on: date | None = None  # its day in the court's time zone (the day the from/to filter counts)


# --- recordings -----------------------------------------------------------------------------
class RecordingPublic(Orm):
    id: int
    hearing_id: int
    sample_rate: int
    channel_count: int
    channel_layout: list[Any]
    duration_s: float
    chain_head: str | None
    blob_sha256: str | None
    started_at: datetime | None
    finalized_at: datetime | None
    tracks: list[str] = Field(default_factory=list, description="per-seat track names")
    gaps: list[tuple[float, float]] = Field(
        default_factory=list, description="[start_s, end_s] stretches of the timeline with no audio (a restart, "
                                          "a source down): the files hold silence there")


class AuditEventPublic(Orm):
    id: int
    actor: str
    action: str
    object: str
    occurred_at: datetime
    details: dict[str, Any]
