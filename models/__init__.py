"""The dossier: SQLAlchemy models, migrations, audit chain, blob store and transcript search.

Importing this package registers every table on :data:`Base.metadata`.
"""

from models.audit import AuditEvent, AuditHead
from models.base import Base
from models.dossier import (
    Case,
    CaseAccess,
    Court,
    CourtNote,
    Courtroom,
    Participant,
    Statute,
    User,
    Voiceprint,
)
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
from models.evidence import Evidence
from models.hearing import (
    Annotation,
    Hearing,
    Recording,
    SealedRange,
    SeatAssignment,
    SegmentRevision,
    TranscriptSegment,
)
from models.revocation import RevokedToken
from models.server_lease import ServerLease

__all__ = [
    "AccessLevel",
    "Annotation",
    "AnnotationKind",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "CaseAccess",
    "CaseStatus",
    "Court",
    "CourtNote",
    "Courtroom",
    "Evidence",
    "EvidenceKind",
    "Hearing",
    "HearingStatus",
    "Participant",
    "ParticipantRole",
    "Recording",
    "RevokedToken",
    "ServerLease",
    "SealedRange",
    "SeatAssignment",
    "SegmentRevision",
    "SegmentStatus",
    "Side",
    "Statute",
    "TranscriptSegment",
    "User",
    "UserRole",
    "Visibility",
    "Voiceprint",
]
