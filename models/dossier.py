"""Courts, courtrooms, cases, participants, users and their per-case access grants.

Also the records other parts of the system hang on a case: voiceprints (speaker enrolment),
statutes (searchable like transcripts) and the judge's private court notes.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, CreatedAt, enum_column, utcnow
from models.enums import AccessLevel, CaseStatus, ParticipantRole, Side, UserRole
from models.textgrams import gram_text

ID = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY = rowid on SQLite


class Court(CreatedAt, Base):
    """A court, e.g. code ``吉2424``."""

    __tablename__ = "courts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    courtrooms: Mapped[list[Courtroom]] = relationship(back_populates="court")


class Courtroom(CreatedAt, Base):
    """A physical courtroom; ``profile_name`` names its hardware profile (``room_id``)."""

    __tablename__ = "courtrooms"
    __table_args__ = (UniqueConstraint("court_id", "name", name="uq_courtrooms_court_id_name"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    profile_name: Mapped[str] = mapped_column(String(100))

    court: Mapped[Court] = relationship(back_populates="courtrooms")


class Case(CreatedAt, Base):
    """A case, e.g. number ``(2024)吉2424民初123号``."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    court_id: Mapped[int | None] = mapped_column(ForeignKey("courts.id", ondelete="SET NULL"), index=True)
    case_number: Mapped[str] = mapped_column(String(100), unique=True)
    # case_number_key(case_number), kept by the ORM: what a search's case filter compares, so that
    # "（2024）吉2424民初123号" as printed finds "(2024)吉2424民初123号" through an index
    number_key: Mapped[str | None] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    cause_of_action: Mapped[str] = mapped_column(String(200), default="")
    # Free text on purpose: procedures differ by case type (e.g. "ordinary", "summary", "small_claims").
    procedure: Mapped[str] = mapped_column(String(50), default="ordinary")
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.FILED)
    filed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participants: Mapped[list[Participant]] = relationship(
        back_populates="case", foreign_keys="Participant.case_id"
    )

    @validates("case_number")
    def _keep_number_key(self, _key: str, value: str) -> str:
        self.number_key = case_number_key(value)
        return value


def case_number_key(number: str) -> str:
    """A case number as a search compares it: NFKC (the full-width "（２０２４）" of a printed number as
    "(2024)"), without blanks (a trailing space, "（2024） 吉…"), letter case aside."""
    return "".join(unicodedata.normalize("NFKC", number).split()).casefold()


class Participant(CreatedAt, Base):
    """A person taking part in a case in one role; agents name the party they represent."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole))
    side: Mapped[Side | None] = mapped_column(enum_column(Side))
    seat: Mapped[str | None] = mapped_column(String(50))  # default seat id from the courtroom profile
    organization: Mapped[str] = mapped_column(String(200), default="")  # e.g. counsel's law firm
    represented_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    case: Mapped[Case] = relationship(back_populates="participants", foreign_keys=[case_id])
    represented: Mapped[Participant | None] = relationship(remote_side=[id])


class User(CreatedAt, Base):
    """A login. Terminal users are bound to a courtroom and (party screens) a side."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, see models.passwords
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole))
    courtroom_id: Mapped[int | None] = mapped_column(ForeignKey("courtrooms.id", ondelete="SET NULL"))
    side: Mapped[Side | None] = mapped_column(enum_column(Side))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tokens issued before this moment are refused (an admin ended all of the user's sessions).
    tokens_valid_after: Mapped[datetime | None] = mapped_column()

    grants: Mapped[list[CaseAccess]] = relationship(
        back_populates="user", foreign_keys="CaseAccess.user_id", cascade="all, delete-orphan"
    )


class CaseAccess(Base):
    """A per-case grant: ``user`` may read (or write, or see sealed parts of) ``case``."""

    __tablename__ = "case_access"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_access_case_id_user_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level: Mapped[AccessLevel] = mapped_column(enum_column(AccessLevel), default=AccessLevel.READ)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    case: Mapped[Case] = relationship()


class Voiceprint(CreatedAt, Base):
    """A speaker embedding of a participant; ``vector`` is ``dim`` little-endian float32 values."""

    __tablename__ = "voiceprints"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    dim: Mapped[int] = mapped_column(Integer)


STATUTE_CODE_MAX_CHARS = 200
STATUTE_ARTICLE_MAX_CHARS = 50


class Statute(CreatedAt, Base):
    """An article of a law, searchable like transcripts (see :func:`models.search.search_statutes`)."""

    __tablename__ = "statutes"
    __table_args__ = (UniqueConstraint("code", "article", name="uq_statutes_code_article"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(STATUTE_CODE_MAX_CHARS))  # the law, e.g. 中华人民共和国民法典
    article: Mapped[str] = mapped_column(String(STATUTE_ARTICLE_MAX_CHARS))  # e.g. 第五百七十七条
    text: Mapped[str] = mapped_column(Text)
    search_grams: Mapped[str] = mapped_column(Text, default="")

    @validates("text")
    def _keep_grams(self, _key: str, value: str) -> str:
        self.search_grams = gram_text(value)
        return value


class CourtNote(CreatedAt, Base):
    """The judge's private note on a case (optionally a hearing); only its author sees it."""

    __tablename__ = "court_notes"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    hearing_id: Mapped[int | None] = mapped_column(ForeignKey("hearings.id", ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
