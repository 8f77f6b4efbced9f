"""Hearings and what they produce: recordings, seat assignments, transcript segments, revisions,
range seals, annotations. Times inside a hearing are float seconds from the start of its recording."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, CreatedAt, enum_column, utcnow
from models.dossier import ID, Case, Courtroom, Participant
from models.enums import AnnotationKind, HearingStatus, ParticipantRole, SegmentStatus, Visibility
from models.textgrams import gram_text


class Hearing(CreatedAt, Base):
    """One sitting of a case in a courtroom."""

    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    courtroom_id: Mapped[int | None] = mapped_column(ForeignKey("courtrooms.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[HearingStatus] = mapped_column(enum_column(HearingStatus), default=HearingStatus.SCHEDULED)
    scheduled_start: Mapped[datetime | None] = mapped_column(index=True)
    scheduled_end: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[Case] = relationship()
    courtroom: Mapped[Courtroom | None] = relationship()
    recordings: Mapped[list[Recording]] = relationship(back_populates="hearing")


class Recording(CreatedAt, Base):
    """The multi-channel recording of a hearing.

    ``channel_layout``: list of ``{"channel": int, "seat": str, "role": str}``;
    ``segment_files``: list of ``{"path": str, "sha256": str, "start_s": float, "duration_s": float}``;
    ``chain_head``: hash of the last segment in the recording's own tamper-evidence chain.
    """

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"), index=True)
    sample_rate: Mapped[int] = mapped_column(Integer)
    channel_count: Mapped[int] = mapped_column(Integer)
    channel_layout: Mapped[list[Any]] = mapped_column(JSON, default=list)
    segment_files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    chain_head: Mapped[str | None] = mapped_column(String(64))
    blob_sha256: Mapped[str | None] = mapped_column(String(64))  # finalized file in the blob store
    started_at: Mapped[datetime | None] = mapped_column()
    finalized_at: Mapped[datetime | None] = mapped_column()

    hearing: Mapped[Hearing] = relationship(back_populates="recordings")


class SeatAssignment(Base):
    """Who sits at ``seat`` from ``from_s`` until ``to_s`` (open-ended when None) in a hearing."""

    __tablename__ = "seat_assignments"
    __table_args__ = (Index("ix_seat_assignments_hearing_seat", "hearing_id", "seat", "from_s"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    seat: Mapped[str] = mapped_column(String(50))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    from_s: Mapped[float] = mapped_column(Float, default=0.0)
    to_s: Mapped[float | None] = mapped_column(Float)

    participant: Mapped[Participant] = relationship()


class TranscriptSegment(CreatedAt, Base):
    """One transcribed utterance.

    ``words``: list of ``{"start": s, "end": s, "word": str, "probability": p}``.
    ``search_grams`` is derived from ``text`` (see :mod:`models.textgrams`) whenever ``text`` is
    set through the ORM; code that inserts rows with bulk SQL must fill it with ``gram_text``.
    ``revision`` counts the corrections of ``text`` or of who said it (0: as transcribed). It is the row's version: every
    ORM update of a segment is made only while the row still has the revision it was read with, so
    two clerks correcting one line at once cannot both write over the same text (the later gets
    ``StaleDataError``); a correction bumps it explicitly, other changes (seal, seq) leave it.
    """

    __tablename__ = "transcript_segments"
    __table_args__ = (
        Index("ix_transcript_segments_hearing_start", "hearing_id", "start_s"),
        Index("ix_transcript_segments_hearing_seq", "hearing_id", "seq"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    seq: Mapped[int | None] = mapped_column(Integer)  # the hearing's event sequence number
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[int | None] = mapped_column(Integer)
    seat: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[ParticipantRole | None] = mapped_column(enum_column(ParticipantRole), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    engine: Mapped[str] = mapped_column(String(50), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[SegmentStatus] = mapped_column(enum_column(SegmentStatus), default=SegmentStatus.DRAFT)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    search_grams: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    hearing: Mapped[Hearing] = relationship()
    participant: Mapped[Participant | None] = relationship()
    __mapper_args__ = {"version_id_col": revision, "version_id_generator": False}
    revisions: Mapped[list[SegmentRevision]] = relationship(
        back_populates="segment", order_by="SegmentRevision.id", cascade="all, delete-orphan"
    )

    @validates("text")
    def _keep_grams(self, _key: str, value: str) -> str:
        self.search_grams = gram_text(value)
        return value


class SegmentRevision(CreatedAt, Base):
    """A correction of a segment's text or of who said it: before, after, who, why, when (``created_at``).
    A change of speaker keeps the text (before = after) and both speakers; a text correction leaves
    the speaker columns empty."""

    __tablename__ = "segment_revisions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("transcript_segments.id", ondelete="CASCADE"), index=True
    )
    before_text: Mapped[str] = mapped_column(Text)
    after_text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # (ids as they were, no foreign key: the revision keeps its history if a participant is removed)
    before_role: Mapped[ParticipantRole | None] = mapped_column(enum_column(ParticipantRole))
    after_role: Mapped[ParticipantRole | None] = mapped_column(enum_column(ParticipantRole))
    before_participant_id: Mapped[int | None] = mapped_column(ID)
    after_participant_id: Mapped[int | None] = mapped_column(ID)
    speaker_changed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    segment: Mapped[TranscriptSegment] = relationship(back_populates="revisions")


class SealedRange(CreatedAt, Base):
    """A stretch ``[start_s, end_s]`` of a hearing's recording sealed by time: every line said in it is
    sealed, also one filed after the seal (a held final retried, transcription behind the audio), and
    its audio is silent for those who may not see sealed lines, whether or not a line was filed there.
    Who sealed it (``sealed_by_id``), when (``created_at``) and why; unsealing shrinks, splits or
    removes it."""

    __tablename__ = "sealed_ranges"
    __table_args__ = (Index("ix_sealed_ranges_hearing_start", "hearing_id", "start_s"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    sealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")


class Annotation(CreatedAt, Base):
    """A highlight, note, bookmark or tag on a segment or on a time range of a hearing."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segments.id", ondelete="CASCADE"), index=True
    )
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[AnnotationKind] = mapped_column(enum_column(AnnotationKind))
    text: Mapped[str] = mapped_column(Text, default="")  # the note, or the tag's label
    color: Mapped[str | None] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.PRIVATE)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
