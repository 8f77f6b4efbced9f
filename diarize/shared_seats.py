"""Occupants of a shared seat: which of the voices on its microphone is the participant seated there.

A seat whose microphone several people speak into (``--shared-channel``, a mono recording) cannot
name its occupant by channel, as every other seat does: diarization tells the voices apart and
enrolled voiceprints name them. The occupant is credited with the lines of the one voice left unnamed
while they sit there (the others on that microphone are named by their voices). With several unnamed
voices, which one is theirs is not known; with several occupants without a voiceprint on the seat at
once (a mono recording's one seat holds every participant), whose the unnamed voice is is not known
either. Then nobody is credited, and an :class:`UncreditedOccupant` says so: the occupant used to be
dropped without a word, and the lines of a seat held by several went to whoever was listed last. An
occupant whose voice is enrolled is left to it.
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
    """An occupant of a shared seat credited with no line between ``start`` and ``end``: ``voices``
    unnamed voices spoke there, or the unnamed voice could be theirs or that of someone ``alongside``."""

    occupant: SeatOccupant
    channel: int
    voices: int
    start: float  # the first and last of those voices' lines while the occupant sat there
    end: float
    alongside: tuple[SeatOccupant, ...] = ()  # the others on the seat then, none of them enrolled either

    @property
    def reason(self) -> str:
        return "several occupants" if self.alongside else "several voices"

    def __str__(self) -> str:
        occ = self.occupant
        until = "the end" if occ.to_s is None else f"{occ.to_s:.1f} s"
        seated = f"{occ.name} (participant {occ.participant_id}), seated on {occ.seat} from {occ.from_s:.1f} s to {until}"
        enrol = f"enrol {occ.name}'s voice to name their lines"
        if self.alongside:
            others = ", ".join(f"{o.name} (participant {o.participant_id})" for o in self.alongside)
            heard = "1 voice" if self.voices == 1 else f"{self.voices} voices"
            return (f"{seated}, is given none of the lines said on that seat's shared microphone (channel {self.channel}) "
                    f"between {self.start:.1f} s and {self.end:.1f} s: {others} sat there too, without an enrolled "
                    f"voice either, and whose of them the {heard} that no enrolled voice names cannot be told by "
                    f"seat; {enrol}")
        return (f"{seated}, is given no line: {self.voices} voices that no enrolled voice names spoke into that "
                f"seat's shared microphone (channel {self.channel}) between {self.start:.1f} s and {self.end:.1f} s, "
                f"and which of them is {occ.name} cannot be told by seat; {enrol}")


def credit_occupants(
    segments: Sequence[Segment], channel: int, occupants: Sequence[SeatOccupant], enrolled: Collection[int],
) -> tuple[list[Segment], list[UncreditedOccupant]]:
    """``segments`` with the lines of shared ``channel`` credited to its seat's occupants where they
    were the one occupant without a voiceprint on the seat (at a line's midpoint, as elsewhere) and one
    unnamed voice spoke then, and the occupants left uncredited otherwise. ``enrolled``: participant
    ids with a voiceprint."""
    roster = SeatRoster(occupants)
    # Who could have said a line (everyone on its seat then, not the latest listed: a plaintiff's
    # line went to the defendant listed after her) → indexes of the unnamed lines said in their time.
    lines: dict[tuple[SeatOccupant, ...], list[int]] = {}
    for k, seg in enumerate(segments):
        if seg.channel != channel or seg.seat is None or seg.participant_id is not None:
            continue
        present: dict[int, SeatOccupant] = {}  # one per participant, however often they are listed
        for occ in roster.occupants(seg.seat, (seg.start + seg.end) / 2):
            if occ.participant_id not in enrolled:
                present.setdefault(occ.participant_id, occ)
        if present:
            lines.setdefault(tuple(present.values()), []).append(k)
    out, uncredited = list(segments), []
    for seated, indexes in lines.items():
        said = [segments[k] for k in indexes]
        voices = {s.speaker for s in said}  # "unknown speaker N", or None: in no turn
        if len(seated) == 1 and len(voices) == 1:
            occ = seated[0]
            for k in indexes:
                out[k] = dataclasses.replace(out[k], speaker=occ.name, participant_id=occ.participant_id, role=occ.role)
            continue
        first, last = min(s.start for s in said), max(s.end for s in said)
        uncredited += [UncreditedOccupant(occ, channel, len(voices), first, last, tuple(o for o in seated if o is not occ))
                       for occ in seated]
    return out, uncredited
