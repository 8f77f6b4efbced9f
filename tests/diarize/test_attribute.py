"""Whole-recording attribution: the transcription engineer's demo hearing and the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from diarize_helpers import FIXTURES

from diarize.attribute import AttributionOptions, attribute_recording
from diarize.formats import read_rttm
from diarize.seats import SeatAttributor
from diarize.shared_seats import UncreditedOccupant, credit_occupants
from diarize.types import SeatOccupant
from hardware.types import SeatChannel
from transcribe.types import Segment, Word

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "hardware" / "samples"


def test_demo_hearing_roles_correct_for_98_percent_of_speech_time():
    audio, sr = sf.read(DEMO / "demo_hearing.flac", dtype="float32")
    ref = json.loads((DEMO / "demo_hearing.json").read_text())
    channels = [SeatChannel(c["channel"], c["seat"], c["role"]) for c in ref["channels"]]
    attributor = SeatAttributor(channels)
    attributor.fit_audio(audio, sr)
    utts = ref["utterances"]
    right = sum(u["end"] - u["start"] for u in utts if attributor.attribute(u["start"], u["end"]).role == u["role"])
    assert right / sum(u["end"] - u["start"] for u in utts) >= 0.98


def test_bleed_transcripts_are_dropped_and_seats_corrected(hearing4):
    samples, sr, ref = hearing4
    channels = [SeatChannel(c["channel"], c["seat"], c["role"]) for c in ref["channels"]]
    witness = next(u for u in ref["utterances"] if u["seat"] == "witness")
    judge = next(u for u in ref["utterances"] if u["seat"] == "judge")
    segments = [
        Segment(witness["start"], witness["end"], "words", channel=3, seat="witness"),
        Segment(witness["start"], witness["end"], "words", channel=2, seat="defendant"),  # bleed copy
        Segment(judge["start"], judge["end"], "judge words", channel=2, seat="defendant"),  # wrong channel only
    ]
    out = attribute_recording(samples, sr, segments, channels)
    assert len(out) == 2
    assert {(s.channel, s.seat, s.text) for s in out} == {(3, "witness", "words"), (0, "judge", "judge words")}


def test_words_transcribed_off_an_empty_seat_s_microphone_are_not_a_second_line():
    # Judge and plaintiff alternate; the witness stand is empty and its microphone carries the judge's
    # bleed. The transcriber writes the judge's words on both; the witness line used to stay.
    sr, rng = 16000, np.random.default_rng(2)
    judge, plaintiff = np.zeros(120 * sr, dtype=np.float32), np.zeros(120 * sr, dtype=np.float32)
    for k, s in enumerate(range(0, 120, 5)):
        voice = 0.1 * rng.standard_normal(4 * sr) * (0.3 + np.abs(np.sin(np.arange(4 * sr) / 900.0)))
        (judge if k % 2 == 0 else plaintiff)[s * sr : (s + 4) * sr] = voice
    audio = np.stack([judge + 0.1 * plaintiff, plaintiff + 0.1 * judge, 0.3 * judge + 0.03 * plaintiff], axis=1)
    audio = (audio + 1e-4 * rng.standard_normal(audio.shape)).astype(np.float32)
    channels = [SeatChannel(0, "judge", "presiding_judge"), SeatChannel(1, "plaintiff", "plaintiff"),
                SeatChannel(2, "witness", "witness")]
    segments = [Segment(50.2, 53.8, "judge words", channel=0, seat="judge"),
                Segment(50.2, 53.8, "judge words", channel=2, seat="witness"),
                Segment(55.2, 58.8, "plaintiff words", channel=1, seat="plaintiff")]
    out = attribute_recording(audio, sr, segments, channels)
    assert [(s.text, s.seat) for s in out] == [("judge words", "judge"), ("plaintiff words", "plaintiff")]


def test_cli_transcribe_names_speakers_of_a_mono_recording(tmp_path):
    samples, sr = sf.read(FIXTURES / "shared3.flac", dtype="float32")
    clip = tmp_path / "mono.flac"
    sf.write(clip, samples, sr)  # 12 turns of kal, slt, m3; Whisper joins several into one segment
    for voice in ("kal", "slt", "m3"):
        (tmp_path / f"{voice}.flac").write_bytes((FIXTURES / f"enrol_{voice}.flac").read_bytes())
    participants = {
        "occupants": [],
        "voices": [
            {"participant_id": 1, "name": "王磊", "role": "presiding_judge", "sample": "kal.flac"},
            {"participant_id": 2, "name": "张三", "role": "plaintiff", "sample": "slt.flac"},
            {"participant_id": 3, "name": "李四", "role": "defendant_counsel", "sample": "m3.flac"},
        ],
    }
    (tmp_path / "participants.json").write_text(json.dumps(participants, ensure_ascii=False))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURTROOM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "transcribe", str(clip), "--model", "tiny.en", "--language", "en",
         "--participants", str(tmp_path / "participants.json"), "--rttm", str(tmp_path / "out.rttm")],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert records and all("speaker" in r and "participant_id" in r for r in records)
    first = min(records, key=lambda r: r["start"])
    assert (first["speaker"], first["participant_id"], first["role"]) == ("王磊", 1, "presiding_judge")
    assert {r["participant_id"] for r in records} == {1, 2, 3}
    # Each line holds one speaker's words, though Whisper joined several speakers into one segment.
    truth = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    for r in records:
        mids = [(w["start"] + w["end"]) / 2 for w in r["words"]]
        nearest = [min(truth, key=lambda t, m=m: max(t.start - m, 0.0, m - t.end)) for m in mids]
        assert len({t.speaker for t in nearest}) == 1, r
    rttm = read_rttm(tmp_path / "out.rttm")["mono"]
    assert {t.speaker for t in rttm} == {"王磊", "张三", "李四"}


def test_cli_transcribe_without_diarization_still_seats_the_occupants(tmp_path):
    # --no-diarize dropped the whole --participants file without a word: the witness seated on the
    # witness seat got none of its lines. Seat occupants need no diarization; voices do, and say so.
    participants = {
        "occupants": [{"seat": "witness", "participant_id": 7, "name": "赵六", "role": "witness"}],
        "voices": [{"participant_id": 1, "name": "王磊", "role": "presiding_judge", "sample": "kal.flac"}],
    }
    (tmp_path / "participants.json").write_text(json.dumps(participants, ensure_ascii=False))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURTROOM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "transcribe", str(ROOT / "tests" / "fixtures" / "speech_en.flac"),
         "--model", "tiny.en", "--language", "en", "--seats", "witness", "--no-diarize",
         "--participants", str(tmp_path / "participants.json")],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert records and all((r["seat"], r["participant_id"], r["speaker"], r["role"]) == ("witness", 7, "赵六", "witness")
                           for r in records), records
    warnings = [line for line in out.stderr.splitlines() if line.startswith("courtroom transcribe: warning:")]
    assert warnings == [f"courtroom transcribe: warning: the voices of --participants {tmp_path / 'participants.json'} "
                        "are not used with --no-diarize (speakers are told apart by diarization; seat occupants "
                        "still apply)"], out.stderr



def test_cli_transcribe_without_diarization_credits_none_of_those_sharing_a_seat(tmp_path):
    """Two occupants on one seat at once with --no-diarize: every line went to the one listed last (a
    plaintiff's words filed as the defendant's in a mono file), without a word. Now neither is credited,
    the seat's role stays, and a warning says why; a seat held by one at a time still names them."""
    participants = {"occupants": [
        {"seat": "witness", "participant_id": 7, "name": "赵六", "role": "witness"},
        {"seat": "witness", "participant_id": 8, "name": "钱七", "role": "witness"},
    ]}
    (tmp_path / "participants.json").write_text(json.dumps(participants, ensure_ascii=False))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURTROOM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "transcribe", str(ROOT / "tests" / "fixtures" / "speech_en.flac"),
         "--model", "tiny.en", "--language", "en", "--seats", "witness", "--no-diarize",
         "--participants", str(tmp_path / "participants.json")],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert records and all((r["seat"], r["participant_id"], r["role"]) == ("witness", None, "witness")
                           for r in records), records
    warnings = [line for line in out.stderr.splitlines() if line.startswith("courtroom transcribe: warning:")]
    assert warnings == [f"courtroom transcribe: warning: --participants {tmp_path / 'participants.json'}: 赵六 and "
                        "钱七 sit on seat witness at the same time: with --no-diarize its lines are credited to none "
                        'of them (leave out --no-diarize, and add their samples to "voices", to tell them apart)'], \
        out.stderr


def test_seated_names_the_one_occupant_of_each_moment() -> None:
    """Called in turn (one after the other) the witnesses each get their own lines without diarization."""
    from diarize.attribute import seated, sharing_seats

    turns = [SeatOccupant("witness", 7, "赵六", "witness", 0.0, 10.0),
             SeatOccupant("witness", 8, "钱七", "witness", 10.0, None)]
    lines = [Segment(2.0, 4.0, "first", channel=0, seat="witness"), Segment(12.0, 14.0, "second", channel=0,
                                                                             seat="witness")]
    assert [s.participant_id for s in seated(lines, turns)] == [7, 8]
    assert sharing_seats(turns) == []
    both = [*turns, SeatOccupant("witness", 9, "孙八", "witness", 11.0, 13.5)]
    assert [s.participant_id for s in seated(lines, both)] == [7, None]
    assert sharing_seats(both) == [("witness", both[1:])]

def test_a_voice_not_enrolled_is_not_merged_into_an_enrolled_participant(enrolled):
    # Three voices on one channel, two of them enrolled: a cap of two speakers merged the plaintiff
    # into the defendant, and every plaintiff line was credited to the defendant.
    samples, sr = sf.read(FIXTURES / "shared3.flac", dtype="float32", always_2d=True)
    reference = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    segments = [Segment(t.start, t.end, f"line by {t.speaker}", channel=0, seat="seat0") for t in reference]
    voices = [enrolled["kal"], enrolled["slt"]]
    out = attribute_recording(samples, sr, segments, [SeatChannel(0, "seat0", "")], (), voices)
    ids = {"kal": enrolled["kal"].participant_id, "slt": enrolled["slt"].participant_id, "m3": None}
    assert [(s.text, s.participant_id) for s in out] == [(f"line by {t.speaker}", ids[t.speaker]) for t in reference]
    assert all(s.speaker.startswith("unknown speaker") for s in out if s.participant_id is None)


def test_a_mono_segment_holding_three_speakers_is_cut_at_their_turns(enrolled):
    # Whisper put the judge's question, the plaintiff's answer and counsel's reply into one segment;
    # all of it went to one speaker. Words are placed inside each reference turn (28.5-38.5 s).
    samples, sr = sf.read(FIXTURES / "shared3.flac", dtype="float32", always_2d=True)
    reference = read_rttm(FIXTURES / "shared3.rttm")["shared3"][6:9]  # kal, slt, m3
    words = tuple(
        Word(round(t, 2), round(t + 0.4, 2), f" {ref.speaker}-{k}", 0.9)
        for ref in reference for k, t in enumerate(np.arange(ref.start + 0.3, ref.end - 0.7, 0.5))
    )
    seg = Segment(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), words, channel=0)
    out = attribute_recording(samples, sr, [seg], [SeatChannel(0, "seat0", "")], (), [enrolled["kal"], enrolled["slt"]])
    assert [{w.text.strip().split("-")[0] for w in s.words} for s in out] == [{"kal"}, {"slt"}, {"m3"}]
    assert [s.participant_id for s in out] == [enrolled["kal"].participant_id, enrolled["slt"].participant_id, None]
    assert [w for s in out for w in s.words] == list(words)


def _stand_lines() -> tuple[np.ndarray, int, list]:
    """shared3 as the witness stand's microphone, also spoken into by the judge and the plaintiff
    (kal, slt); the witness (m3) is never enrolled. One line per reference turn."""
    samples, sr = sf.read(FIXTURES / "shared3.flac", dtype="float32", always_2d=True)
    reference = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    segments = [Segment(t.start, t.end, f"line by {t.speaker}", channel=0, seat="stand", role="witness")
                for t in reference]
    return samples, sr, segments


def test_the_occupant_of_a_shared_seat_is_credited_with_the_one_voice_left_unnamed(enrolled):
    # Witnesses seated on the stand in turn got none of its lines: every line of theirs stayed
    # "unknown speaker 1". With judge and plaintiff named by their voices, the one unnamed voice on the
    # stand's microphone is whoever sat there then (赵六 until 30 s, 孙七 after).
    samples, sr, segments = _stand_lines()
    occupants = [SeatOccupant("stand", 7, "赵六", "witness", 0.0, 30.0), SeatOccupant("stand", 8, "孙七", "expert", 30.0)]
    heard: list = []
    out = attribute_recording(samples, sr, segments, [SeatChannel(0, "stand", "witness")], occupants,
                              [enrolled["kal"], enrolled["slt"]], on_uncredited=heard.append)
    by_m3 = [(s.start, s.speaker, s.participant_id, s.role) for s in out if s.text == "line by m3"]
    assert by_m3 == [(s.start, "赵六", 7, "witness") if s.start < 30 else (s.start, "孙七", 8, "expert")
                     for s in segments if s.text == "line by m3"]
    kal, slt = enrolled["kal"].participant_id, enrolled["slt"].participant_id
    assert {s.participant_id for s in out if s.text != "line by m3"} == {kal, slt}  # voices are not overruled
    assert heard == []


def test_an_occupant_of_a_shared_seat_that_cannot_be_told_apart_is_reported_not_guessed(enrolled):
    # Only the judge enrolled: the plaintiff and the witness are two unnamed voices on the stand's
    # microphone. Which is the witness's is unknown: nobody is credited, and it is said why.
    samples, sr, segments = _stand_lines()
    heard: list[UncreditedOccupant] = []
    out = attribute_recording(samples, sr, segments, [SeatChannel(0, "stand", "witness")],
                              [SeatOccupant("stand", 7, "赵六", "witness")], [enrolled["kal"]], on_uncredited=heard.append)
    assert 7 not in {s.participant_id for s in out}
    assert {s.speaker for s in out if s.participant_id is None} == {"unknown speaker 1", "unknown speaker 2"}
    assert [(n.occupant.participant_id, n.channel, n.voices) for n in heard] == [(7, 0, 2)]
    assert "enrol 赵六's voice" in str(heard[0]) and "shared microphone (channel 0)" in str(heard[0])


def test_the_one_unnamed_voice_of_a_seat_held_by_two_is_credited_to_neither(enrolled):
    # Two witnesses listed on the stand for the whole hearing, judge and plaintiff named by their voices:
    # the one unnamed voice went to whoever was listed last, with no warning. It could be either's.
    samples, sr, segments = _stand_lines()
    zhao, sun = SeatOccupant("stand", 7, "赵六", "witness"), SeatOccupant("stand", 8, "孙七", "witness")
    heard: list[UncreditedOccupant] = []
    out = attribute_recording(samples, sr, segments, [SeatChannel(0, "stand", "witness")], [zhao, sun],
                              [enrolled["kal"], enrolled["slt"]], on_uncredited=heard.append)
    assert not {7, 8} & {s.participant_id for s in out}
    assert {s.speaker for s in out if s.text == "line by m3"} == {"unknown speaker 1"}
    assert [(n.occupant, n.alongside, n.voices, n.reason) for n in heard] == [
        (zhao, (sun,), 1, "several occupants"), (sun, (zhao,), 1, "several occupants")]
    assert str(heard[0]).startswith("赵六 (participant 7), seated on stand from 0.0 s to the end, is given none of the "
                                    "lines said on that seat's shared microphone (channel 0) between ")
    assert "孙七 (participant 8) sat there too" in str(heard[0]) and str(heard[0]).endswith("enrol 赵六's voice to name their lines")


def _unnamed(start: float, end: float, seat: str = "seat0") -> Segment:
    return Segment(start, end, f"line at {start}", channel=0, seat=seat, speaker="unknown speaker 1")


def test_who_shares_a_seat_does_not_hang_on_the_order_they_are_listed():
    # A mono file's one seat holds every participant: the plaintiff's line went to the defendant,
    # listed after her (and to her with the order swapped). Either way nobody is credited now.
    judge = SeatOccupant("seat0", 1, "王法官", "judge")
    plaintiff, defendant = SeatOccupant("seat0", 7, "张三", "plaintiff"), SeatOccupant("seat0", 9, "李四", "defendant")
    named = Segment(5, 8, "现在开庭", channel=0, seat="seat0", speaker="王法官", participant_id=1)
    said = [named, _unnamed(10, 14)]
    for listed in ([judge, plaintiff, defendant], [judge, defendant, plaintiff]):
        out, uncredited = credit_occupants(said, 0, listed, {1})
        assert out == said
        assert sorted((n.occupant.participant_id, [o.participant_id for o in n.alongside], n.start, n.end)
                      for n in uncredited) == [(7, [9], 10, 14), (9, [7], 10, 14)]


def test_an_enrolled_co_occupant_leaves_the_unnamed_voice_to_the_one_who_is_not():
    # The plaintiff's agent, enrolled and listed after her, hid her: her unnamed voice was credited to nobody.
    plaintiff, agent = SeatOccupant("plaintiff", 7, "张三", "plaintiff"), SeatOccupant("plaintiff", 8, "李律师", "agent")
    said = [_unnamed(10, 14, "plaintiff"), _unnamed(20, 25, "plaintiff")]
    for listed in ([plaintiff, agent], [agent, plaintiff]):
        out, uncredited = credit_occupants(said, 0, listed, {8})
        assert [(s.speaker, s.participant_id, s.role) for s in out] == [("张三", 7, "plaintiff")] * 2
        assert uncredited == []


def test_an_occupant_alone_on_the_seat_for_a_while_gets_the_lines_of_that_while():
    # 赵六 alone on the stand until 孙七 joins at 30 s: the line before is his; the one after could be either's.
    zhao, sun = SeatOccupant("stand", 7, "赵六", "witness"), SeatOccupant("stand", 8, "孙七", "expert", 30.0)
    out, uncredited = credit_occupants([_unnamed(10, 14, "stand"), _unnamed(40, 44, "stand")], 0, [sun, zhao], ())
    assert [s.participant_id for s in out] == [7, None]
    assert [(n.occupant.participant_id, n.reason, n.start) for n in uncredited] == [
        (7, "several occupants", 40), (8, "several occupants", 40)]


def test_witnesses_called_in_turn_to_a_shared_stand_get_their_lines(hearing4):
    # The witness stand's microphone marked shared (--shared-channel 3): the two witnesses seated there in
    # turn were dropped without a word, and their lines stayed "unknown speaker N". Nobody is enrolled;
    # while each sits there, one voice speaks into the stand, and it is theirs.
    samples, sr, ref = hearing4
    channels = [SeatChannel(c["channel"], c["seat"], c["role"]) for c in ref["channels"]]
    said = [Segment(u["start"], u["end"], u["voice"], channel=u["channel"], seat=u["seat"]) for u in ref["utterances"]]
    # A witness line the transcriber heard on the defendant's microphone only: bleed attribution moves it.
    moved = next(k for k, u in enumerate(ref["utterances"]) if u["participant_id"] == 4 and k > 5)
    said[moved] = dataclasses.replace(said[moved], channel=2, seat="defendant")
    occupants = [SeatOccupant("witness", 4, "赵六", "witness", 0.0, 35.0), SeatOccupant("witness", 5, "孙七", "expert", 35.0)]
    heard: list = []
    out = attribute_recording(samples, sr, said, channels, occupants, (), AttributionOptions(shared_channels=(3,)),
                              on_uncredited=heard.append)
    assert [(s.seat, s.participant_id, s.role) for s in out] == [
        (u["seat"], u["participant_id"] if u["seat"] == "witness" else None,
         {4: "witness", 5: "expert"}.get(u["participant_id"], u["role"])) for u in ref["utterances"]]
    assert heard == []


def test_cli_transcribe_warns_of_a_shared_seat_s_occupant_it_cannot_credit(tmp_path):
    # A mono recording is one shared microphone: the occupant of its seat was dropped without a word
    # when two voices on it were not enrolled. Now the command says so, and why.
    (tmp_path / "kal.flac").write_bytes((FIXTURES / "enrol_kal.flac").read_bytes())
    participants = {
        "occupants": [{"seat": "stand", "participant_id": 7, "name": "赵六", "role": "witness"}],
        "voices": [{"participant_id": 1, "name": "王磊", "role": "presiding_judge", "sample": "kal.flac"}],
    }
    listed = tmp_path / "participants.json"
    listed.write_text(json.dumps(participants, ensure_ascii=False))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURTROOM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "transcribe", str(FIXTURES / "shared3.flac"), "--model", "tiny.en",
         "--language", "en", "--seats", "stand", "--participants", str(listed)],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert records and 7 not in {r["participant_id"] for r in records}
    warnings = [line for line in out.stderr.splitlines() if line.startswith("courtroom transcribe: warning:")]
    assert len(warnings) == 1, out.stderr
    assert warnings[0].startswith(f"courtroom transcribe: warning: --participants {listed}: 赵六 (participant 7), "
                                  "seated on stand from 0.0 s to the end, is given no line: 2 voices that no enrolled "
                                  "voice names spoke into that seat's shared microphone (channel 0) between"), warnings
    assert warnings[0].endswith("enrol 赵六's voice to name their lines (add their sample to \"voices\")")
