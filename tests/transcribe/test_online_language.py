"""A seat that pauses inside a Mandarin sentence keeps speaking Mandarin (real model, demo hearing)."""

import json
from pathlib import Path

import soundfile as sf

from transcribe.online import OnlineOptions, OnlineProcessor, SeatInfo

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
