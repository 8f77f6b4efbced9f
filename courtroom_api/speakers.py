"""Who said a line, corrected: the line's role and participant change, and the change is kept as a
revision of the line (both speakers, who, why), as a correction of its text is."""

from __future__ import annotations

from typing import Any

from models.enums import ParticipantRole


def credit_line(segment: Any, role: ParticipantRole, participant_id: int | None, author_id: int | None,
                reason: str) -> None:
    """Credit ``segment`` (a ``models.TranscriptSegment``, in its session) to ``role``/``participant_id``."""
    from models import SegmentRevision
    from models.enums import SegmentStatus

    segment.revisions.append(SegmentRevision(
        before_text=segment.text, after_text=segment.text, author_id=author_id, reason=reason,
        speaker_changed=True, before_role=segment.role, after_role=role,
        before_participant_id=segment.participant_id, after_participant_id=participant_id))
    segment.role, segment.participant_id = role, participant_id
    segment.status = SegmentStatus.CORRECTED
    segment.revision += 1  # written only where the row still has the revision it was read with
