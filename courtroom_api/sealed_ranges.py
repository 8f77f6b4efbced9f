"""Range seals: a stretch of a hearing's recording sealed by time, kept as a record of its own.

``POST /api/hearings/{id}/seal`` seals the lines filed in ``[start_s, end_s]`` and stores the range
(``models.SealedRange``). Lines of that stretch can reach the dossier after the seal: a final the
database refused, retried every few seconds or at the next start, or one that comes late because
transcription runs behind the audio. Each filing therefore seals a line that overlaps a stored range,
in its own transaction (``seal_on_filing``), and the recordings are silent over the stored ranges for
those who may not see sealed lines, line or no line. Unsealing cuts the stretch out of the ranges.

A filing and a seal of one hearing are serialised on the hearing's row (PostgreSQL; SQLite's write
transactions hold the whole database): the seal locks it for update before it reads the lines, the
filing locks it for key share before it reads the ranges, so one always sees what the other committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

Span = tuple[float, float]


def merged(spans: Iterable[Span]) -> list[Span]:
    """``spans`` sorted and joined where they touch or overlap."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def stored(session: Session, hearing_id: int) -> list[Span]:
    """The hearing's range seals as merged ``(start_s, end_s)`` spans."""
    from models import SealedRange

    return merged(session.execute(select(SealedRange.start_s, SealedRange.end_s).where(
        SealedRange.hearing_id == hearing_id)).all())


def of_hearing(services: Any, hearing_id: int) -> list[Span]:
    """``stored`` in a session of its own (a live stream created after a restart starts with them)."""
    with services.sessions() as session:
        return stored(session, hearing_id)


def seal_on_filing(session: Session, row: Any) -> Any:
    """Seal the new segment ``row`` (not yet flushed) if it overlaps a range seal of its hearing; the range
    that sealed it, or None. Locks the hearing's row first (see the module's docstring)."""
    from models import Hearing, SealedRange

    session.execute(select(Hearing.id).where(Hearing.id == row.hearing_id).with_for_update(read=True, key_share=True))
    sealing = session.scalar(select(SealedRange).where(
        SealedRange.hearing_id == row.hearing_id, SealedRange.end_s > row.start_s,
        SealedRange.start_s < row.end_s).order_by(SealedRange.id).limit(1))
    if sealing is not None:
        row.sealed = True
    return sealing


def store(session: Session, hearing_id: int, span: Span, user_id: int | None, reason: str) -> Any:
    """Keep ``span`` as a range seal; the new row, or None when stored ranges already cover it (a repeated
    seal changes nothing). Call with the hearing's row locked for update."""
    from models import SealedRange

    start, end = span
    if any(a <= start and end <= b for a, b in stored(session, hearing_id)):
        return None
    row = SealedRange(hearing_id=hearing_id, start_s=start, end_s=end, sealed_by_id=user_id, reason=reason)
    session.add(row)
    session.flush()
    return row


def cut(session: Session, hearing_id: int, span: Span) -> list[dict[str, Any]]:
    """Unseal ``span``: the range seals overlapping it shrink, split in two or go. What changed, for the
    audit log: ``{"range_id", "before": [a, b], "after": [[a, b], …]}``. A piece split off keeps its range's
    author, time and reason. Call with the hearing's row locked for update."""
    from models import SealedRange

    start, end = span
    rows = session.scalars(select(SealedRange).where(
        SealedRange.hearing_id == hearing_id, SealedRange.end_s >= start, SealedRange.start_s <= end)
        .order_by(SealedRange.id)).all()
    changes = []
    for row in rows:
        before = (row.start_s, row.end_s)
        pieces = _left_of_cut(before, span)
        if pieces == [before]:
            continue
        changes.append({"range_id": row.id, "before": list(before), "after": [list(p) for p in pieces]})
        if not pieces:
            session.delete(row)
            continue
        row.start_s, row.end_s = pieces[0]
        for a, b in pieces[1:]:
            session.add(SealedRange(hearing_id=hearing_id, start_s=a, end_s=b, sealed_by_id=row.sealed_by_id,
                                    reason=row.reason, created_at=row.created_at))
    session.flush()
    return changes


def _left_of_cut(range_: Span, span: Span) -> list[Span]:
    (a, b), (start, end) = range_, span
    if start >= end or b < start or a > end:  # (an empty cut removes nothing)
        return [range_]
    return [p for p in ((a, min(b, start)), (max(a, end), b)) if p[0] < p[1]]


def unseal_hull(span: Span | None, lines: Sequence[Any]) -> Span:
    """What an unseal cuts from the range seals: ``span`` (a range unsealed) and the lines it unseals,
    whole (a line shown again is heard again, also where it runs past ``span``)."""
    starts = [line.start_s for line in lines] + ([span[0]] if span is not None else [])
    ends = [line.end_s for line in lines] + ([span[1]] if span is not None else [])
    return min(starts), max(ends)
