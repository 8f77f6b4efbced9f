"""A model that fails: what the online processor had committed still goes out, and its memory stays bounded."""

from __future__ import annotations

import numpy as np
import pytest

from transcribe.decoder import DecodedWindow, DecodeOptions, Decoder
from transcribe.online import OnlineOptions, OnlineProcessor
from transcribe.types import TranscriptEvent


class FailingDecoder:
    """The real decoder, failing the decodes ``fails`` picks (by the start of the audio they end on)."""

    def __init__(self, real: Decoder) -> None:
        self.real = real
        self.model_name, self.multilingual = real.model_name, real.multilingual
        self.fails = lambda end_s: False
        self.calls = 0

    def decode(self, audio: np.ndarray, offset_s: float, options: DecodeOptions) -> DecodedWindow:
        self.calls += 1
        if self.fails(offset_s + len(audio) / 16000):
            raise RuntimeError("simulated CTranslate2 failure")
        return self.real.decode(audio, offset_s, options)


def finals(events: list[TranscriptEvent]) -> list[str]:
    return [e.segment.text for e in events if e.kind == "final"]


def test_a_failed_decode_loses_no_final_committed_before_it(tiny_en_decoder, en_clip) -> None:
    """Under load one call ends two utterances; the second one's decode fails once: the first one's
    finals (already committed, given to the room as context) are handed out all the same."""
    speech = en_clip[0][8000 : int(7.1 * 16000)]
    first, second = speech[: 3 * 16000], speech[int(3.5 * 16000) :]
    dec = FailingDecoder(tiny_en_decoder)
    proc = OnlineProcessor(dec, OnlineOptions(language="en"))  # type: ignore[arg-type]
    events: list[TranscriptEvent] = []
    t = 0.0
    for i in range(0, len(first), 6400):  # the first utterance streamed as it was said
        chunk = first[i : i + 6400]
        proc.insert_audio_chunk(chunk, t)
        t += len(chunk) / 16000
        events += proc.process_iter()
    # the scheduler fell behind: its next turn holds the first utterance's end, then all of the second
    proc.mark_pause()
    proc.insert_audio_chunk(second, t + 1.0)
    proc.mark_pause()
    dec.fails = lambda end_s: end_s > t + 2.0  # decoding the second utterance fails, once
    with pytest.raises(RuntimeError, match="simulated"):
        proc.process_iter()
    committed_words = proc.final_until_s
    dec.fails = lambda end_s: False
    events += proc.process_iter() + proc.finish()
    said = [w for e in events if e.kind == "final" for w in e.segment.words]
    assert said and said[-1].end > t + 1.0, finals(events)  # the second utterance came through
    # every word committed before the failure went out in a final, once
    before = [w for w in said if w.end <= committed_words + 1e-6]
    assert before and before[-1].end == pytest.approx(committed_words), finals(events)
    assert len({(w.start, w.text) for w in said}) == len(said)


def test_the_finals_of_a_call_that_failed_can_be_taken_at_once(tiny_en_decoder, en_clip) -> None:
    """A model that fails from some moment on: what was committed before goes out (``take_unsent``,
    as the scheduler does on a failure), not only at a next decode that works."""
    speech = en_clip[0][8000 : int(7.1 * 16000)]
    dec = FailingDecoder(tiny_en_decoder)
    proc = OnlineProcessor(dec, OnlineOptions(language="en"))  # type: ignore[arg-type]
    events: list[TranscriptEvent] = []
    for i in range(0, 3 * 16000, 6400):
        proc.insert_audio_chunk(speech[i : i + 6400])
        events += proc.process_iter()
    proc.mark_pause()
    proc.insert_audio_chunk(speech[int(3.5 * 16000) :], proc.received_until_s + 1.0)
    proc.mark_pause()
    dec.fails = lambda end_s: end_s > 5.0
    with pytest.raises(RuntimeError):
        proc.process_iter()
    events += proc.take_unsent()
    assert proc.take_unsent() == []  # handed out once
    said = [w for e in events if e.kind == "final" for w in e.segment.words]
    assert said and said[-1].end == pytest.approx(proc.final_until_s)


def test_a_model_failing_every_decode_does_not_grow_the_buffer_without_bound(tiny_en_decoder, en_clip) -> None:
    """The buffer was trimmed only after decodes that worked: 132 s of speech to a failing model left
    132 s in memory. After a failure it is held to Whisper's 30 s window, and the seat recovers."""
    speech = en_clip[0][8000 : int(7.1 * 16000)]
    dec = FailingDecoder(tiny_en_decoder)
    dec.fails = lambda end_s: True
    proc = OnlineProcessor(dec, OnlineOptions(language="en"))  # type: ignore[arg-type]
    longest = 0.0
    for _ in range(10):  # 66 s of continuous speech, 0.8 s at a time
        for i in range(0, len(speech), 12800):
            proc.insert_audio_chunk(speech[i : i + 12800])
            with pytest.raises(RuntimeError):
                proc.process_iter()
            longest = max(longest, len(proc.audio) / 16000)
    assert dec.calls >= 50 and longest <= 31.0
    dec.fails = lambda end_s: False
    proc.insert_audio_chunk(speech)
    events = proc.process_iter() + proc.finish()
    assert "witness" in " ".join(finals(events)).lower()
