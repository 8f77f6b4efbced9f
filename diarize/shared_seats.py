"""Occupants of a shared seat: which of the voices on its microphone is the participant seated there.

A seat whose microphone several people speak into (``--shared-channel``, a mono recording) cannot
name its occupant by channel, as every other seat does: diarization tells the voices apart and
enrolled voiceprints name them. The occupant is credited with the lines of the one voice left unnamed
while they sit there (the others on that microphone are named by their voices). With several unnamed
voices, which one is theirs is not known: nobody is credited, and an :class:`UncreditedOccupant`
says so, where the occupant used to be dropped without a word. An occupant whose voice is enrolled is
left to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from diarize.seats import SeatRoster
from diarize.types import SeatOccupant
from transcribe.types import Segment


@dataclass(frozen=True, slots=True)
class UncreditedOccupant:
    """An occupant of a shared seat credited with no line: ``voices`` unnamed voices spoke there."""

    occupant: SeatOccupant
    channel: int
    voices: int
    start: float  # the first and last of those voices' lines while the occupant sat there
    end: float

    def __str__(self) -> str:
        occ = self.occupant
        until = "the end" if occ.to_s is None else f"{occ.to_s:.1f} s"
        return (f"{occ.name} (participant {occ.participant_id}), seated on {occ.seat} from {occ.from_s:.1f} s to "
                f"{until}, is given no line: {self.voices} voices that no enrolled voice names spoke into that "
                f"seat's shared microphone (channel {self.channel}) between {self.start:.1f} s and {self.end:.1f} s, "
                f"and which of them is {occ.name} cannot be told by seat; enrol {occ.name}'s voice to name their lines")


def credit_occupants(
    segments: Sequence[Segment], channel: int, occupants: Sequence[SeatOccupant], enrolled: Collection[int],
) -> tuple[list[Segment], list[UncreditedOccupant]]:
    """``segments`` with the lines of shared ``channel`` credited to its seat's occupants where one
    unnamed voice spoke while they sat there (the occupant at a line's midpoint, as elsewhere), and the
    occupants left uncredited because several did. ``enrolled``: participant ids with a voiceprint."""
    roster = SeatRoster(occupants)
    lines: dict[SeatOccupant, list[int]] = {}  # occupant → indexes of the unnamed lines said in their time
    for k, seg in enumerate(segments):
        if seg.channel != channel or seg.seat is None or seg.participant_id is not None:
            continue
        occ = roster.occupant(seg.seat, (seg.start + seg.end) / 2)
        if occ is not None and occ.participant_id not in enrolled:
            lines.setdefault(occ, []).append(k)
    out, uncredited = list(segments), []
    for occ, indexes in lines.items():
        voices = {segments[k].speaker for k in indexes}  # "unknown speaker N", or None: in no turn
        if len(voices) > 1:
            said = [segments[k] for k in indexes]
            uncredited.append(UncreditedOccupant(occ, channel, len(voices), min(s.start for s in said),
                                                 max(s.end for s in said)))
            continue
        for k in indexes:
            out[k] = dataclasses.replace(out[k], speaker=occ.name, participant_id=occ.participant_id, role=occ.role)
    return out, uncredited
