"""Shared channels during and after the hearing: windowed live labels, then a full-pass revision.

Live: :class:`LiveSharedChannel` keeps the last ``window_s`` of one shared channel and, every
``hop_s``, diarizes that window and labels the newest stretch; one :class:`SpeakerNamer` per
hearing keeps "unknown speaker N" the same person from window to window. After the hearing a full
pass over the whole channel relabels consistently, and :func:`revise` turns every label that
changed into a ``revised`` TranscriptEvent naming the event it replaces — never a silent rewrite.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from diarize.errors import AudioShapeError
from diarize.shared import SpeakerDiarizer
from diarize.types import SpeakerTurn
from diarize.voiceprints import SpeakerNamer
from transcribe.decoder import join_words
from transcribe.types import Segment, TranscriptEvent, Word


@dataclass(frozen=True, slots=True)
class LiveOptions:
    window_s: float = 30.0  # context diarized each time (pyannote's windows are 10 s)
    hop_s: float = 10.0  # how often labels are produced: the live labelling latency


class LiveSharedChannel:
    """Windowed diarization of one shared channel. ``process`` is CPU-heavy: run it in a worker."""

    def __init__(
        self,
        diarizer: SpeakerDiarizer,
        namer: SpeakerNamer,
        sample_rate: int,
        channel: int | None = None,
        max_speakers: int | None = None,
        options: LiveOptions | None = None,
    ) -> None:
        self.diarizer, self.namer = diarizer, namer
        self.sample_rate, self.channel, self.max_speakers = sample_rate, channel, max_speakers
        self.options = options or LiveOptions()
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0.0  # recording time of _buffer[0]
        self._labelled_until = 0.0
        self.turns: list[SpeakerTurn] = []

    @property
    def end_s(self) -> float:
        return self._buffer_start + len(self._buffer) / self.sample_rate

    def feed(self, samples: np.ndarray) -> None:
        """Append this channel's next samples ``(frames,)``."""
        if samples.ndim != 1:
            raise AudioShapeError(f"a shared channel is mono (frames,), got {samples.shape}")
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32)])
        excess = len(self._buffer) - int(self.options.window_s * self.sample_rate)
        if excess > 0:
            self._buffer = self._buffer[excess:]
            self._buffer_start += excess / self.sample_rate

    def ready(self) -> bool:
        return self.end_s - self._labelled_until >= self.options.hop_s

    def process(self, force: bool = False) -> list[SpeakerTurn]:
        """Label the audio not labelled yet (when ``hop_s`` has accumulated, or ``force``)."""
        if not (force or self.ready()) or self.end_s <= self._labelled_until:
            return []
        result = self.diarizer.diarize(
            self._buffer, self.sample_rate, self.max_speakers, self._buffer_start, self.channel
        )
        new = [
            dataclasses.replace(t, start=max(t.start, self._labelled_until))
            for t in result.named(self.namer)
            if t.end > self._labelled_until
        ]
        self._labelled_until = self.end_s
        self.turns.extend(new)
        return new

    async def process_async(self, force: bool = False) -> list[SpeakerTurn]:
        """:meth:`process` in a worker thread, for callers on the event loop."""
        return await asyncio.to_thread(self.process, force)

    def finish(self) -> list[SpeakerTurn]:
        """Label whatever remains at the end of the hearing."""
        return self.process(force=True)


def speaker_of(start: float, end: float, turns: Iterable[SpeakerTurn]) -> SpeakerTurn | None:
    """The turn overlapping ``[start, end)`` the most (None when no turn overlaps)."""
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn, overlap
    return best


def label_segment(segment: Segment, turns: Sequence[SpeakerTurn]) -> Segment:
    """``segment`` with speaker, participant and (when identified) role from the best turn."""
    return _labelled(segment, speaker_of(segment.start, segment.end, turns))


def split_segment(segment: Segment, turns: Sequence[SpeakerTurn]) -> list[Segment]:
    """``segment`` cut where the speaker changes, each piece labelled by its own turn.

    On a shared channel one transcript segment can hold several speakers. Each word goes to the turn
    holding its midpoint (a word in a gap between turns stays with the word before it); a run of words
    of one speaker is one piece, its times and text from its words. A segment of one speaker stays
    whole; one without word timings stays whole and is labelled as :func:`label_segment` does.
    """
    runs: list[tuple[SpeakerTurn | None, list[Word]]] = []
    for word in segment.words:
        turn = _turn_at(word, turns)
        if runs and (turn is None or runs[-1][0] is None or _same_speaker(turn, runs[-1][0])):
            runs[-1] = (runs[-1][0] or turn, [*runs[-1][1], word])
        else:
            runs.append((turn, [word]))
    if not runs or runs[0][0] is None:  # no word timings, or no word inside a turn
        return [label_segment(segment, turns)]
    if len(runs) == 1:
        return [_labelled(segment, runs[0][0])]
    return [_labelled(_piece(segment, words), turn) for turn, words in runs]


def _turn_at(word: Word, turns: Sequence[SpeakerTurn]) -> SpeakerTurn | None:
    """The turn holding ``word``'s midpoint (of overlapping turns, the one covering most of it)."""
    mid = (word.start + word.end) / 2
    holding = [turn for turn in turns if turn.start <= mid < turn.end]
    return max(holding, key=lambda turn: min(word.end, turn.end) - max(word.start, turn.start), default=None)


def _same_speaker(a: SpeakerTurn, b: SpeakerTurn) -> bool:
    return (a.speaker, a.participant_id) == (b.speaker, b.participant_id)


def _piece(segment: Segment, words: list[Word]) -> Segment:
    """The part of ``segment`` made of ``words``, joined as the transcriber joins them."""
    return dataclasses.replace(
        segment, start=words[0].start, end=words[-1].end, text=join_words(words), words=tuple(words),
        confidence=round(float(np.mean([w.probability for w in words])), 4),
    )


def _labelled(segment: Segment, turn: SpeakerTurn | None) -> Segment:
    if turn is None:
        return segment
    return dataclasses.replace(
        segment, speaker=turn.speaker, participant_id=turn.participant_id, role=turn.role or segment.role
    )


def revise(
    events: Sequence[TranscriptEvent], turns: Sequence[SpeakerTurn], next_seq: int, channel: int | None = None
) -> list[TranscriptEvent]:
    """Revision events for final segments whose speaker the full pass labels differently.

    ``events`` is the hearing's event log (partial/final/revised, any order of seq); only the latest
    version of each final segment on ``channel`` (all channels when None) is considered.
    ``next_seq`` is the first free sequence number of the hearing.
    """
    latest: dict[int, TranscriptEvent] = {}
    for ev in sorted(events, key=lambda e: e.seq):
        if ev.kind == "final":
            latest[ev.seq] = ev
        elif ev.kind == "revised" and ev.revises is not None:
            origin = next((k for k, v in latest.items() if v.seq == ev.revises), ev.revises)
            latest[origin] = ev
    out: list[TranscriptEvent] = []
    for ev in sorted(latest.values(), key=lambda e: e.segment.start):
        if channel is not None and ev.segment.channel != channel:
            continue
        seg = label_segment(ev.segment, turns)
        if (seg.speaker, seg.participant_id) == (ev.segment.speaker, ev.segment.participant_id):
            continue
        out.append(
            TranscriptEvent(
                kind="revised", segment=seg, seq=next_seq + len(out), stream=ev.stream, revises=ev.seq,
                extra=(("reason", "diarization full pass"),),
            )
        )
    return out
