"""Who is speaking: a segment's seat → the participant sitting there now → their role.

Seat assignments (``SeatAssignment``) can change during a hearing (a witness called and
dismissed); without one, a case participant whose default ``seat`` matches is used; otherwise
the seat's default role from the courtroom profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from diarize.types import Attribution


@dataclass(frozen=True, slots=True)
class _Sitting:
    seat: str
    participant_id: int
    name: str
    role: str
    from_s: float
    to_s: float | None


class SeatDirectory:
    """The seat → participant map of one hearing (reload it after seat assignments change)."""

    def __init__(self, seat_roles: dict[str, str], channel_seats: dict[int, str], sittings: list[_Sitting],
                 defaults: dict[str, tuple[int, str, str]]) -> None:
        self.seat_roles, self.channel_seats = seat_roles, channel_seats
        self.sittings, self.defaults = sittings, defaults

    @classmethod
    def load(cls, services: Any, hearing_id: int, profile: Any) -> SeatDirectory:
        from models import Hearing, Participant, SeatAssignment

        with services.sessions() as session:
            hearing = session.get(Hearing, hearing_id)
            rows = session.scalars(select(SeatAssignment).where(SeatAssignment.hearing_id == hearing_id)).all()
            sittings = [_Sitting(r.seat, r.participant_id, r.participant.name, str(r.participant.role), r.from_s,
                                 r.to_s) for r in rows]
            defaults = {p.seat: (p.id, p.name, str(p.role)) for p in session.scalars(
                select(Participant).where(Participant.case_id == hearing.case_id, Participant.seat.is_not(None)))}
        return cls({c.seat: c.role for c in profile.channels}, {c.channel: c.seat for c in profile.channels},
                   sittings, defaults)

    def attribute(self, segment: Any) -> Attribution:
        """Attribution of a transcribed segment (``transcribe.types.Segment``)."""
        seat = segment.seat or self.channel_seats.get(segment.channel if segment.channel is not None else -1)
        if seat is None:
            return Attribution(seat=None, role=segment.role, confidence=0.0)
        t = (segment.start + segment.end) / 2
        for s in self.sittings:
            if s.seat == seat and s.from_s <= t and (s.to_s is None or t < s.to_s):
                return Attribution(seat, s.role, s.participant_id, s.name, 1.0)
        if seat in self.defaults:
            pid, name, role = self.defaults[seat]
            return Attribution(seat, role, pid, name, 0.9)
        return Attribution(seat, segment.role or self.seat_roles.get(seat), None, None, 0.8)
