"""Windowed live labelling of a shared channel and the after-hearing revision pass."""

from __future__ import annotations

import dataclasses

from diarize.formats import diarization_error_rate
from diarize.live import LiveOptions, LiveSharedChannel, label_segment, revise
from diarize.types import SpeakerTurn
from diarize.voiceprints import SpeakerNamer
from transcribe.types import Segment, TranscriptEvent


def _finals(reference, turns) -> list[TranscriptEvent]:
    """Final events as the transcriber would emit them, labelled with the live turns."""
    events = []
    for k, ref in enumerate(reference):
        seg = Segment(start=ref.start, end=ref.end, text=f"utterance {k}", channel=4, seat="witness", role="witness")
        events.append(TranscriptEvent(kind="final", segment=label_segment(seg, turns), seq=10 + 2 * k, stream="room1"))
    return events


def test_live_windows_then_full_pass_revisions(diarizer, shared3, enrolled):
    samples, sr, reference, full = shared3
    namer = SpeakerNamer([enrolled["kal"], enrolled["slt"], enrolled["m3"]])
    live = LiveSharedChannel(diarizer, namer, sr, channel=4, max_speakers=5, options=LiveOptions(30.0, 10.0))
    emitted: list[SpeakerTurn] = []
    for first in range(0, len(samples), sr):  # 1 s chunks, as captured
        live.feed(samples[first : first + sr])
        emitted += live.process()
    emitted += live.finish()
    assert emitted == live.turns
    assert all(a.start >= b.start - 1e-6 for b, a in zip(emitted, emitted[1:], strict=False))
    live_der = diarization_error_rate(reference, emitted)
    print(f"live windowed DER {live_der:.3f}")
    assert live_der < 0.35

    events = _finals(reference, emitted)
    full_turns = full.named(SpeakerNamer([enrolled["kal"], enrolled["slt"], enrolled["m3"]]))
    revisions = revise(events, full_turns, next_seq=100, channel=4)
    assert [r.seq for r in revisions] == list(range(100, 100 + len(revisions)))
    by_seq = {e.seq: e for e in events}
    for rev in revisions:
        assert rev.kind == "revised" and rev.revises in by_seq and rev.stream == "room1"
        assert rev.segment.text == by_seq[rev.revises].segment.text  # only the speaker changes
        assert rev.segment.speaker != by_seq[rev.revises].segment.speaker or (
            rev.segment.participant_id != by_seq[rev.revises].segment.participant_id
        )
    # After applying the revisions every utterance carries its full-pass label.
    current = {e.seq: e.segment for e in events} | {r.revises: r.segment for r in revisions}
    assert all(current[e.seq].speaker == label_segment(e.segment, full_turns).speaker for e in events)
    # And a second full pass over the revised log changes nothing more.
    assert revise([*events, *revisions], full_turns, next_seq=200, channel=4) == []


def test_revision_of_a_revision_names_the_latest():
    seg = Segment(start=0.0, end=2.0, text="yes", channel=1, speaker="unknown speaker 1")
    final = TranscriptEvent(kind="final", segment=seg, seq=1)
    first = TranscriptEvent(kind="revised", segment=dataclasses.replace(seg, speaker="张三", participant_id=2), seq=5, revises=1)
    turns = [SpeakerTurn(0.0, 2.0, "李四", participant_id=3, role="defendant_counsel")]
    (rev,) = revise([final, first], turns, next_seq=9)
    assert (rev.revises, rev.segment.speaker, rev.segment.role) == (5, "李四", "defendant_counsel")


def test_other_channels_are_left_alone():
    seg = Segment(start=0.0, end=2.0, text="yes", channel=1)
    turns = [SpeakerTurn(0.0, 2.0, "李四", participant_id=3)]
    assert revise([TranscriptEvent(kind="final", segment=seg, seq=1)], turns, next_seq=2, channel=0) == []
