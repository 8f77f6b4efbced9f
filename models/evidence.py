"""Evidence filed in a case; the file itself lives in the blob store under ``blob_sha256``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column, utcnow
from models.dossier import ID, Case
from models.enums import EvidenceKind


class Evidence(Base):
    """An exhibit: a document, image, audio or video file submitted in a case."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("case_id", "exhibit_number", name="uq_evidence_case_id_exhibit_number"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    exhibit_number: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind))
    submitted_by_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    blob_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
