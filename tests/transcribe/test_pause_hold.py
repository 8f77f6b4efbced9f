"""A Mandarin seat's clause pause does not end its utterance; an English seat's does (OnlineOptions.pause_hold_s)."""

from __future__ import annotations

import numpy as np
import pytest

from transcribe.decoder import DecodedWindow, DecodeOptions
from transcribe.online import OnlineOptions
from transcribe.room import RoomTranscriber, SeatSpec
from transcribe.types import Word

RATE = 16000
PAUSE = (2.0, 2.4)  # seconds of the seat's channel cut to silence: a clause pause of 0.4 s


class _Scripted:
    """Hears one character per 0.3 s of whatever it is given, in one language; keeps the windows' spans."""

    model_name = "scripted"
    multilingual = True

    def __init__(self, language: str) -> None:
        self.language = language
        self.windows: list[tuple[float, float]] = []

    def decode(self, audio: np.ndarray, offset_s: float, options: DecodeOptions) -> DecodedWindow:
        end = offset_s + len(audio) / RATE
        self.windows.append((offset_s, end))
        n = int(len(audio) / RATE / 0.3)
        words = tuple(Word(offset_s + 0.3 * i, offset_s + 0.3 * i + 0.25, "字" if self.language == "zh" else " word", 0.9)
                      for i in range(n))
        return DecodedWindow(words, self.language, 1.0, len(audio) / RATE)


def _windows(language: str, speech: np.ndarray, options: OnlineOptions) -> list[tuple[float, float]]:
    """Feed a two-channel room: seat 0 speaks ``speech`` with a clause pause in it, seat 1 is silent."""
    voice = speech[: int(4.5 * RATE)].copy()
    voice[int(PAUSE[0] * RATE) : int(PAUSE[1] * RATE)] = 0.0
    audio = np.zeros((len(voice) + RATE, 2), np.float32)
    audio[: len(voice), 0] = voice
    decoder = _Scripted(language)
    room = RoomTranscriber("r", decoder, [SeatSpec(0, "judge", "presiding_judge"), SeatSpec(1, "clerk", "clerk")],  # type: ignore[arg-type]
                           2, options)
    for i in range(0, len(audio), RATE // 10):
        room.feed(audio[i : i + RATE // 10], i / RATE)
        for p in room.processors.values():
            if p.ready():
                p.process_iter()
    room.finish()
    return decoder.windows


@pytest.fixture()
def speech(zh_clip, en_clip) -> np.ndarray:
    """Real speech on both sides of the pause (the processor's VAD decodes only speech): ~4.5 s of it."""
    audio = np.concatenate([zh_clip[0], en_clip[0]])
    assert len(audio) >= 4.5 * RATE
    return audio


def test_a_mandarin_seat_is_decoded_across_its_clause_pause(speech) -> None:
    windows = _windows("zh", speech, OnlineOptions(languages=("zh", "en"), context_audio_s=0.0))
    assert any(start < PAUSE[0] and end > PAUSE[1] + 0.5 for start, end in windows), windows


def test_an_english_seat_and_a_room_without_the_hold_end_the_utterance_at_the_pause(speech) -> None:
    for language, options in (("en", OnlineOptions(languages=("zh", "en"), context_audio_s=0.0)),
                              ("zh", OnlineOptions(languages=("zh", "en"), context_audio_s=0.0, pause_hold_s=()))):
        windows = _windows(language, speech, options)
        assert windows and not any(start < PAUSE[0] and end > PAUSE[1] + 0.5 for start, end in windows), (language, windows)
