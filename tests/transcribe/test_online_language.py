"""Which language a seat is transcribed in: a pause inside a Mandarin sentence keeps it, and a seat that was
silent for long starts in the language the room spoke last (real model, demo and Mandarin hearings)."""

import json
from pathlib import Path

import soundfile as sf

from transcribe.online import Conversation, OnlineOptions, OnlineProcessor, SeatInfo
from transcribe.room import RoomTranscriber, SeatSpec

SAMPLE = Path(__file__).resolve().parents[2] / "hardware" / "samples" / "demo_hearing"


def test_pause_inside_mandarin_line_keeps_the_language(base_decoder) -> None:
    audio, rate = sf.read(f"{SAMPLE}.flac", dtype="float32")
    line = next(u for u in json.loads(Path(f"{SAMPLE}.json").read_text())["utterances"]
                if u["seat"] == "judge" and u["language"] == "zh")
    judge = audio[int((line["start"] - 0.3) * rate) : int((line["end"] + 0.5) * rate), 0]  # (frames,)
    proc = OnlineProcessor(base_decoder, OnlineOptions(language=None, languages=("zh", "en")),
                           SeatInfo(stream="judge", channel=0, seat="judge", role="presiding_judge"))
    step = rate // 2
    events = []
    for i in range(0, len(judge), step):
        proc.insert_audio_chunk(judge[i : i + step])
        events += proc.process_iter()
    finals = [e.segment for e in events + proc.finish() if e.kind == "final"]
    assert finals
    # Every final is Mandarin: no English "translation" invented after the sentence-end pause.
    assert all(s.language == "zh" for s in finals), [(s.start, s.language, s.text) for s in finals]
    latin = sum(c.isascii() and c.isalpha() for s in finals for c in s.text)
    assert latin == 0, [(s.start, s.language, s.text) for s in finals]


ZH_HEARING = Path(__file__).resolve().parents[2] / "bench" / "fixtures" / "hearing_zh"


def _room_finals(decoder, start_s: float, end_s: float) -> list:
    """The Mandarin hearing's four seats from ``start_s`` to ``end_s`` through one room, in 0.1 s blocks
    (the seat gates mark the pauses), each seat decoded whenever it has enough audio."""
    audio, rate = sf.read(f"{ZH_HEARING}.flac", dtype="float32", always_2d=True)
    seats = [SeatSpec(0, "judge", "presiding_judge"), SeatSpec(1, "clerk", "clerk"),
             SeatSpec(2, "plaintiff", "plaintiff"), SeatSpec(3, "defendant", "defendant")]
    room = RoomTranscriber("zh", decoder, seats, 4, OnlineOptions())
    events = []
    for i in range(int(start_s * rate), int(end_s * rate), rate // 10):
        room.feed(audio[i : i + rate // 10], i / rate)
        events += [e for p in room.processors.values() if p.ready() for e in p.process_iter()]
    return [e.segment for e in events + room.finish() if e.kind == "final"]


def test_seat_silent_for_long_starts_in_the_rooms_language(base_decoder) -> None:
    # 37.6 s: the plaintiff's last claim (Mandarin); 42.9 s: the judge, silent since 27.4 s, says "被告，",
    # pauses, and asks on. Alone, that second of "被告" was detected as English at 0.94 ("Peek-o").
    judge = [s for s in _room_finals(base_decoder, 37.6, 47.0) if s.seat == "judge"]
    assert judge and all(s.language == "zh" for s in judge), [(s.start, s.language, s.text) for s in judge]
    assert not any(c.isascii() and c.isalpha() for s in judge for c in s.text), [s.text for s in judge]


def test_room_language_is_the_last_final_within_the_window() -> None:
    room = Conversation()
    assert room.last_language(10.0, 8.0) is None
    room.add(3.0, "zh", "现在开庭。")
    room.add(5.0, "en", "Please rise.")
    assert room.last_language(10.0, 8.0) == "en"
    assert room.last_language(4.0, 8.0) == "zh"  # what had ended by then
    assert room.last_language(20.0, 8.0) is None  # the room has been silent too long to say
