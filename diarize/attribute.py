"""Who spoke each segment of a whole recording: seats, roles, participants, shared channels.

The glue the CLI and the API use after transcription: multi-channel recordings get bleed-aware seat
attribution (and transcripts of pure bleed are dropped when the real seat has the same words);
shared channels (and any mono recording) get pyannote diarization with no cap on the number of
speakers, named from enrolled voiceprints or "unknown speaker N", and their segments are cut where
the speaker changes; the occupant of a shared channel's seat takes the lines of the one voice left
unnamed while they sit there, or is reported as not credited (``diarize.shared_seats``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from diarize.live import split_segment
from diarize.seats import SeatAttributor, SeatRoster
from diarize.shared import DiarizationOptions, SpeakerDiarizer
from diarize.shared_seats import UncreditedOccupant, credit_occupants
from diarize.types import EnrolledVoice, SeatOccupant
from diarize.voiceprints import DEFAULT_THRESHOLD, SpeakerNamer
from hardware.types import SeatChannel
from transcribe.types import Segment


@dataclass(frozen=True, slots=True)
class AttributionOptions:
    shared_channels: tuple[int, ...] = ()  # channels used by several people (mono: always channel 0)
    enrol_threshold: float = DEFAULT_THRESHOLD
    diarization: DiarizationOptions = field(default_factory=DiarizationOptions)
    drop_bleed_duplicates: bool = True


def attribute_recording(
    audio: np.ndarray,
    sample_rate: int,
    segments: Sequence[Segment],
    channels: Sequence[SeatChannel],
    occupants: Sequence[SeatOccupant] = (),
    voices: Sequence[EnrolledVoice] = (),
    options: AttributionOptions | None = None,
    *,
    on_uncredited: Callable[[UncreditedOccupant], None] | None = None,
) -> list[Segment]:
    """Segments of ``audio`` ``(frames, channels)`` with seat, role, participant and speaker set.

    ``on_uncredited`` hears of each occupant of a shared channel's seat that no line could be given to.
    """
    opts = options or AttributionOptions()
    shared = set(opts.shared_channels) | ({0} if audio.shape[1] == 1 else set())
    out = list(segments)
    if audio.shape[1] > 1:
        out = _by_seat(audio, sample_rate, out, channels, occupants, shared, opts)
    for ch in sorted(shared):
        if ch < audio.shape[1]:
            out = _by_voice(audio[:, ch], sample_rate, out, ch, voices, opts)
            out, uncredited = credit_occupants(out, ch, occupants, {v.participant_id for v in voices})
            for notice in uncredited:
                if on_uncredited is not None:
                    on_uncredited(notice)
    return sorted(out, key=lambda s: (s.start, s.channel or 0))


def seated(segments: Sequence[Segment], occupants: Sequence[SeatOccupant]) -> list[Segment]:
    """``segments`` with the participant on each one's seat at its midpoint: attribution without
    diarization, where the seat a line was transcribed on is taken as its speaker's. Where several sit on
    the seat at once (a mono file's one seat), which of them spoke is not known: none is credited (the
    one listed last was, with every line of the seat; see :func:`sharing_seats`)."""
    roster = SeatRoster(occupants)
    out = []
    for seg in segments:
        here = roster.occupants(seg.seat, (seg.start + seg.end) / 2) if seg.seat else []
        occ = here[0] if len(here) == 1 else None
        out.append(seg if occ is None else dataclasses.replace(
            seg, role=occ.role, participant_id=occ.participant_id, speaker=occ.name))
    return out


def sharing_seats(occupants: Sequence[SeatOccupant]) -> list[tuple[str, list[SeatOccupant]]]:
    """Seats that several of ``occupants`` hold at the same time, each with those who overlap there: without
    diarization their lines cannot be told apart (:func:`seated` credits none of them)."""
    out = []
    for seat in dict.fromkeys(o.seat for o in occupants):
        held = sorted((o for o in occupants if o.seat == seat), key=lambda o: o.from_s)
        sharing = [o for o in held if any(p is not o and _overlap(o, p) for p in held)]
        if sharing:
            out.append((seat, sharing))
    return out


def _overlap(a: SeatOccupant, b: SeatOccupant) -> bool:
    end_a = float("inf") if a.to_s is None else a.to_s
    end_b = float("inf") if b.to_s is None else b.to_s
    return a.from_s < end_b and b.from_s < end_a


def _by_seat(
    audio: np.ndarray, sample_rate: int, segments: list[Segment], channels: Sequence[SeatChannel],
    occupants: Sequence[SeatOccupant], shared: set[int], opts: AttributionOptions,
) -> list[Segment]:
    attributor = SeatAttributor(channels, SeatRoster(occupants))
    attributor.fit_audio(audio, sample_rate)
    out = []
    for seg in segments:
        if seg.channel in shared:
            out.append(seg)
            continue
        att = attributor.attribute(seg.start, seg.end, seg.channel)
        if att.channel != seg.channel and opts.drop_bleed_duplicates and _covered(seg, att.channel, segments):
            continue  # the same words were transcribed on the seat that really spoke
        if att.channel in shared:  # words of a shared seat: who said them is its voices' question, not its seat's
            att = dataclasses.replace(att, role=attributor.channels[att.channel].role, participant_id=None, speaker=None)
        out.append(dataclasses.replace(
            seg, channel=att.channel, seat=att.seat or seg.seat, role=att.role or seg.role,
            participant_id=att.participant_id, speaker=att.speaker,
        ))
    return out


def _covered(seg: Segment, channel: int | None, segments: Sequence[Segment]) -> bool:
    overlap = sum(
        max(0.0, min(seg.end, o.end) - max(seg.start, o.start)) for o in segments if o.channel == channel
    )
    return overlap >= 0.5 * (seg.end - seg.start)


def _by_voice(
    mono: np.ndarray, sample_rate: int, segments: list[Segment], channel: int,
    voices: Sequence[EnrolledVoice], opts: AttributionOptions,
) -> list[Segment]:
    # No cap by the enrolled or seated participants: anyone else who speaks (a witness, counsel not in
    # the list) would be merged into one of them and their words credited to that participant.
    result = SpeakerDiarizer(opts.diarization).diarize(mono, sample_rate, channel=channel)
    turns = result.named(SpeakerNamer(voices, threshold=opts.enrol_threshold))
    # A segment can hold several speakers of a shared channel: it is cut at their turns.
    return [piece for s in segments for piece in (split_segment(s, turns) if s.channel in (channel, None) else [s])]
