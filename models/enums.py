"""Closed vocabularies of the dossier, stored as their string values.

Stored as plain strings (no database CHECK or native ENUM type) so that adding a value later is a
code change, not a migration, and the same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum


class ParticipantRole(enum.StrEnum):
    PRESIDING_JUDGE = "presiding_judge"
    JUDGE = "judge"
    PEOPLES_ASSESSOR = "peoples_assessor"
    CLERK = "clerk"
    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    THIRD_PARTY = "third_party"
    AGENT = "agent"  # counsel / agent ad litem of a named party
    PROSECUTOR = "prosecutor"
    WITNESS = "witness"
    EXPERT = "expert"
    INTERPRETER = "interpreter"


class Side(enum.StrEnum):
    """Which side of the case a participant (or a party terminal) belongs to."""

    BENCH = "bench"
    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    THIRD_PARTY = "third_party"
    PROSECUTION = "prosecution"
    NEUTRAL = "neutral"  # witnesses, experts, interpreters


class UserRole(enum.StrEnum):
    JUDGE = "judge"
    CLERK = "clerk"
    PARTY = "party"
    APPEAL_JUDGE = "appeal_judge"
    ADMIN = "admin"
    TERMINAL = "terminal"


class CaseStatus(enum.StrEnum):
    FILED = "filed"
    SCHEDULED = "scheduled"
    IN_HEARING = "in_hearing"
    ADJOURNED = "adjourned"
    CLOSED = "closed"
    ARCHIVED = "archived"


class HearingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    ENDED = "ended"
    CANCELLED = "cancelled"


class SegmentStatus(enum.StrEnum):
    DRAFT = "draft"
    CORRECTED = "corrected"
    SIGNED = "signed"


class AnnotationKind(enum.StrEnum):
    HIGHLIGHT = "highlight"
    NOTE = "note"
    BOOKMARK = "bookmark"
    TAG = "tag"


class Visibility(enum.StrEnum):
    PRIVATE = "private"  # the author only
    BENCH = "bench"  # judges and clerk of the case
    CASE = "case"  # everybody with access to the case


class EvidenceKind(enum.StrEnum):
    DOCUMENT = "document"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class AccessLevel(enum.StrEnum):
    """What a per-case grant allows."""

    READ = "read"
    WRITE = "write"
    SEALED = "sealed"  # read, including sealed segments and evidence
