"""Who is speaking: diarize's bleed-compensated seat attribution over the live multi-channel audio.

Every final segment is attributed by :class:`diarize.seats.SeatAttributor` over the frame powers of
its time span: the seat whose microphone really carries the speech (bleed modelled), the participant
sitting there at that time (:class:`diarize.seats.SeatRoster`, built from the hearing's
``SeatAssignment`` rows and the participants' default seats, and updated live when the bench assigns
or dismisses someone), their role and a confidence.

Captured chunks go into a bounded ring on the event loop (a cheap append); a worker thread drains
the ring into the attributor (20 ms frame powers, ``(frames, channels)``) and attributes. If
attribution fails, the segment keeps the seat of the channel the transcriber heard it on.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select, true

from diarize.types import Attribution, SeatOccupant

log = logging.getLogger(__name__)
# The last hour of the room's frame powers: the bleed model is refitted over it (every seat has spoken in
# an hour), and a final is decided long before its audio is that old.
LIVE_KEEP_S = 3600.0
RING_SECONDS = 60.0  # audio not yet turned into frame powers; older chunks are dropped (then padded)
DRAIN_SECONDS = 2.0  # pending audio that asks for a drain in a worker
MAX_PAD_SECONDS = 30.0  # a longer gap in the timeline restarts the attributor


def load_occupants(services: Any, hearing_id: int) -> list[SeatOccupant]:
    """The hearing's roster: participants' default seats (from 0), then its seat assignments.

    Assignments come after defaults, so on overlap the assignment wins (``SeatRoster`` keeps the
    latest-starting occupant, and the sort is stable).
    """
    from models import Hearing

    with services.sessions() as session:
        defaults, assigned = _roster(session, session.get(Hearing, hearing_id))
        return defaults + assigned


def seated_by_default(session: Any, hearing: Any) -> set[int]:
    """The participants the roster puts on their default seat in ``hearing`` (see ``load_occupants``) who
    sit there at its start: present though never assigned a seat nor credited with a line. One whose
    seat an assignment takes from 0 s is not (the assignment wins), nor one added to the case after the
    hearing ended (its roster never had them, nor did they take anyone's seat in it)."""
    from diarize.seats import SeatRoster

    defaults, assigned = _roster(session, hearing, joined_by=hearing.ended_at)
    seats = SeatRoster(defaults + assigned)
    return {o.participant_id for o in defaults if seats.occupant(o.seat, o.from_s) is o}


def _roster(session: Any, hearing: Any, joined_by: datetime | None = None) -> tuple[list[SeatOccupant],
                                                                                     list[SeatOccupant]]:
    """``hearing``'s default-seat occupants (its case's participants with a seat, from 0; those in the case
    by ``joined_by``) and its seat assignments, each in roster order."""
    from models import Participant, SeatAssignment

    joined = Participant.created_at <= joined_by if joined_by is not None else true()
    defaults = session.scalars(select(Participant).where(
        Participant.case_id == hearing.case_id, Participant.seat.is_not(None), joined).order_by(Participant.id))
    rows = session.scalars(select(SeatAssignment).where(SeatAssignment.hearing_id == hearing.id)
                           .order_by(SeatAssignment.from_s, SeatAssignment.id))
    return [SeatOccupant(p.seat, p.id, p.name, str(p.role)) for p in defaults], [occupant_of(r) for r in rows]


def refresh_rosters(services: Any, case_id: int) -> None:
    """A participant of the case added, renamed or given a seat: the rosters of its running hearings are
    read again, so that the finals from now on carry them (they kept the roster of the start)."""
    from models import Hearing

    running = services.hearings.running_ids() if services.hearings is not None else set()
    if not running:
        return
    with services.sessions() as session:
        ids = session.scalars(select(Hearing.id).where(Hearing.case_id == case_id, Hearing.id.in_(running))).all()
    for hearing_id in ids:
        live = getattr(services.hearings.get(hearing_id), "seats", None)
        if live is not None:
            live.reload(lambda h=hearing_id: load_occupants(services, h))  # type: ignore[misc]


def occupant_of(row: Any) -> SeatOccupant:
    """A ``models.SeatAssignment`` row (with its participant) as diarize's :class:`SeatOccupant`."""
    p = row.participant
    return SeatOccupant(row.seat, p.id, p.name, str(p.role), float(row.from_s or 0.0),
                        None if row.to_s is None else float(row.to_s))


class LiveAttribution:
    """Seat attribution of one running hearing; ``feed`` on the loop, everything else in workers."""

    def __init__(self, profile: Any, occupants: list[SeatOccupant]) -> None:
        from diarize.seats import SeatRoster

        self.channels = list(profile.channels)
        self.roster = SeatRoster(occupants)
        self.channel_seats = {c.channel: c for c in self.channels}
        self._ring: collections.deque[Any] = collections.deque()  # AudioChunk, oldest first
        self._ring_frames = 0
        self._ring_lock = threading.Lock()
        self._work_lock = threading.Lock()  # the attributor and the roster
        self._attributor: Any = None
        self._origin = 0  # recording sample of the attributor's first frame
        self._next = 0  # recording sample the attributor expects next
        self.latest_s = 0.0  # end of the newest audio fed (recording time)

    # -- audio (event loop) -------------------------------------------------------------------------
    def feed(self, chunk: Any) -> bool:
        """Keep ``chunk`` (``(frames, channels)``) for attribution; True when a drain is due."""
        with self._ring_lock:
            self._ring.append(chunk)
            self._ring_frames += chunk.frames
            limit = int(RING_SECONDS * chunk.sample_rate)
            while self._ring_frames > limit and len(self._ring) > 1:
                self._ring_frames -= self._ring.popleft().frames
            self.latest_s = chunk.end_s
            return self._ring_frames >= DRAIN_SECONDS * chunk.sample_rate

    # -- worker thread ----------------------------------------------------------------------------
    def drain(self) -> None:
        """Turn pending audio into the attributor's frame powers (worker thread)."""
        with self._ring_lock:
            chunks, self._ring_frames = list(self._ring), 0
            self._ring.clear()
        with self._work_lock:
            for chunk in chunks:
                try:
                    self._take(chunk)
                except Exception:  # a bad chunk restarts the attributor; recording is not concerned
                    log.exception("seat attribution could not take audio at sample %d", chunk.first_sample)
                    self._attributor = None

    def _take(self, chunk: Any) -> None:
        from capture.types import AudioChunk
        from diarize.seats import BleedOptions, SeatAttributor

        if self._attributor is not None and chunk.first_sample < self._next:
            return  # already taken (a chunk seen twice is harmless)
        gap = chunk.first_sample - self._next
        if self._attributor is None or gap > MAX_PAD_SECONDS * chunk.sample_rate:
            self._attributor = SeatAttributor(self.channels, options=BleedOptions(keep_s=LIVE_KEEP_S))
            self._origin = self._next = chunk.first_sample
        elif gap > 0:
            # Lost audio (ring overflow, capture gap): pad at the noise floor so frame times stay aligned.
            noise = np.sqrt(self._attributor.model.noise) if len(self._attributor.powers) else 1e-4
            pad = np.zeros((gap, chunk.channels), dtype=np.float32)
            n = self._attributor.n_channels
            pad[:, :n] = np.random.default_rng(0).standard_normal((gap, n)) * noise
            self._attributor.feed(AudioChunk(pad, chunk.sample_rate, self._next, chunk.wall_time))
        self._attributor.feed(chunk)
        self._next = chunk.first_sample + chunk.frames

    def attribute(self, segment: Any) -> Attribution:
        """Seat, role, participant and confidence of a transcribed segment (worker thread).

        Never raises: on any failure the channel's own seat (and whoever sits there) is used.
        """
        try:
            self.drain()
            with self._work_lock:
                return self._attribute(segment)
        except Exception:  # the transcript must go on; the channel's seat is the best fallback
            log.exception("seat attribution failed for %.2f-%.2f s; using the channel's seat",
                          segment.start, segment.end)
            return self.fallback(segment)

    def _attribute(self, segment: Any) -> Attribution:
        if self._attributor is None:
            return self.fallback(segment)
        origin = self._origin / self._attributor.sample_rate
        decision = self._attributor.decide(segment.start - origin, segment.end - origin, segment.channel)
        if decision.channel is None:
            return self.fallback(segment)
        return self._seat_attribution(decision.channel, segment, decision.confidence)

    def fallback(self, segment: Any) -> Attribution:
        """The seat of the channel the segment was transcribed on (the transcriber's seat gate)."""
        if segment.channel in self.channel_seats:
            return self._seat_attribution(segment.channel, segment, 0.5)
        return Attribution(seat=segment.seat, role=segment.role, confidence=0.0, channel=segment.channel)

    def _seat_attribution(self, channel: int, segment: Any, confidence: float) -> Attribution:
        seat = self.channel_seats[channel]
        occ = self.roster.occupant(seat.seat, (segment.start + segment.end) / 2)
        if occ is None:
            return Attribution(seat.seat, seat.role, confidence=confidence, channel=channel)
        return Attribution(seat.seat, occ.role, occ.participant_id, occ.name, confidence, channel, occ.name)

    # -- roster (any thread) ----------------------------------------------------------------------
    def assign(self, occupant: SeatOccupant) -> None:
        with self._work_lock:
            self.roster.assign(occupant)

    def dismiss(self, seat: str, participant_id: int, at_s: float) -> None:
        with self._work_lock:
            self.roster.dismiss(seat, participant_id, at_s)

    def reload(self, read: Callable[[], list[SeatOccupant]]) -> None:
        """The roster as ``read`` gives it (the dossier's). Read under the roster's lock: a seat assigned
        between a read outside it and the replacement was lost (its ``assign`` came before the stale
        roster replaced everything)."""
        from diarize.seats import SeatRoster

        with self._work_lock:
            self.roster = SeatRoster(read())
