"""Windowed live labelling of a shared channel and the after-hearing revision pass."""

from __future__ import annotations

import dataclasses

from diarize.formats import diarization_error_rate
from diarize.live import LiveOptions, LiveSharedChannel, label_segment, revise, split_segment
from diarize.types import SpeakerTurn
from diarize.voiceprints import SpeakerNamer
from transcribe.types import Segment, TranscriptEvent, Word


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


JUDGE = SpeakerTurn(0.0, 2.0, "王磊", channel=0, participant_id=1, role="presiding_judge")
WITNESS = SpeakerTurn(2.2, 5.0, "unknown speaker 1", channel=0)


def test_a_segment_of_two_speakers_is_cut_at_their_turn():
    words = (Word(0.2, 0.6, " Is", 0.9), Word(0.6, 1.0, " that", 0.7), Word(1.0, 1.9, " so?", 0.8),
             Word(2.0, 2.5, " Yes,", 0.6), Word(2.5, 3.1, " it", 1.0), Word(3.1, 3.6, " is.", 0.8))
    seg = Segment(0.2, 3.6, "Is that so? Yes, it is.", words, channel=0, seat="stand", role="witness", language="en")
    # " Yes," (2.0-2.5) lies mostly in the witness turn; its midpoint 2.25 decides.
    judge, witness = split_segment(seg, [WITNESS, JUDGE])
    assert (judge.start, judge.end, judge.text, judge.words) == (0.2, 1.9, "Is that so?", words[:3])
    assert (judge.speaker, judge.participant_id, judge.role, judge.confidence) == ("王磊", 1, "presiding_judge", 0.8)
    assert (witness.start, witness.end, witness.text, witness.words) == (2.0, 3.6, "Yes, it is.", words[3:])
    assert (witness.speaker, witness.participant_id, witness.role, witness.confidence) == (
        "unknown speaker 1", None, "witness", 0.8)
    assert {(p.channel, p.seat, p.language) for p in (judge, witness)} == {(0, "stand", "en")}


def test_chinese_pieces_are_joined_without_spaces_and_gap_words_stay_with_the_word_before():
    words = (Word(0.5, 1.0, "请", 0.9), Word(1.0, 1.5, "坐", 0.9), Word(2.05, 2.15, "好", 0.9),
             Word(2.3, 2.8, "的", 0.9), Word(2.8, 3.2, "谢谢", 0.9))
    seg = Segment(0.5, 3.2, "请坐好的谢谢", words, channel=0, language="zh")
    pieces = split_segment(seg, [JUDGE, WITNESS])
    assert [(p.text, p.start, p.end, p.speaker) for p in pieces] == [
        ("请坐好", 0.5, 2.15, "王磊"), ("的谢谢", 2.3, 3.2, "unknown speaker 1")]


def test_a_segment_of_one_speaker_or_without_word_times_stays_whole():
    same = SpeakerTurn(2.0, 4.0, "王磊", channel=0, participant_id=1, role="presiding_judge")
    words = (Word(1.0, 1.8, " Please", 0.9), Word(2.1, 2.6, " sit.", 0.9))
    seg = Segment(1.0, 2.6, "Please sit.", words, channel=0)
    assert split_segment(seg, [JUDGE, same]) == [
        dataclasses.replace(seg, speaker="王磊", participant_id=1, role="presiding_judge")]
    bare = Segment(0.0, 5.0, "no word times", channel=0)
    assert split_segment(bare, [JUDGE, WITNESS]) == [label_segment(bare, [JUDGE, WITNESS])]
    assert split_segment(seg, []) == [seg]
