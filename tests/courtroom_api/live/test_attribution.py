"""Live seat attribution (diarize's bleed-compensated attributor) over the real demo hearing audio."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.types import AudioChunk
from courtroom_api.live.attribution import LiveAttribution
from diarize.types import SeatOccupant
from hardware.profiles import load_profile
from transcribe.types import Segment

SAMPLES = Path(__file__).resolve().parents[3] / "hardware" / "samples"
REFERENCE = json.loads((SAMPLES / "demo_hearing.json").read_text())["utterances"]
OCCUPANTS = [SeatOccupant("plaintiff", 7, "张伟", "plaintiff"), SeatOccupant("defendant", 8, "李娜", "defendant")]


@pytest.fixture(scope="module")
def audio() -> tuple[np.ndarray, int]:
    samples, rate = sf.read(SAMPLES / "demo_hearing.flac", dtype="float32", always_2d=True)
    return samples, rate  # (frames, 4)


def _chunks(samples: np.ndarray, rate: int, skip: tuple[float, float] | None = None):
    step = rate // 10
    for first in range(0, len(samples), step):
        if skip and skip[0] * rate <= first < skip[1] * rate:
            continue  # audio lost before attribution saw it
        yield AudioChunk(samples[first : first + step], rate, first, 0.0)


def _role_accuracy(live: LiveAttribution, wrong_hint: bool) -> float:
    right = total = 0.0
    for u in REFERENCE:
        hint = (u["channel"] + 1) % 4 if wrong_hint else u["channel"]  # the demo's bug: the wrong channel
        att = live.attribute(Segment(u["start"], u["end"], u["text"], channel=hint))
        total += u["end"] - u["start"]
        right += (u["end"] - u["start"]) * (att.role == u["role"])
    return right / total


def test_roles_follow_the_speech_not_the_transcribers_channel(audio) -> None:
    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    for chunk in _chunks(*audio):
        live.feed(chunk)
    assert _role_accuracy(live, wrong_hint=True) >= 0.98
    plaintiff = next(u for u in REFERENCE if u["role"] == "plaintiff")
    att = live.attribute(Segment(plaintiff["start"], plaintiff["end"], "", channel=3))
    assert (att.seat, att.participant_name, att.channel) == ("plaintiff", "张伟", 2) and att.confidence > 0.5


def test_lost_audio_keeps_later_segments_aligned(audio) -> None:
    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    for chunk in _chunks(*audio, skip=(22.5, 24.5)):  # 2 s lost inside the clerk's line
        if live.feed(chunk):
            live.drain()
    later = [u for u in REFERENCE if u["start"] > 25.0]
    for u in later:
        assert live.attribute(Segment(u["start"], u["end"], "", channel=None)).role == u["role"], u


def test_roster_changes_apply_and_failures_fall_back_to_the_channel_seat(audio) -> None:
    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    samples, rate = audio
    live.feed(AudioChunk(samples[:, :2], rate, 0, 0.0))  # too few channels: attribution cannot run
    fallback = live.attribute(Segment(13.5, 16.57, "", channel=3))
    assert (fallback.seat, fallback.participant_name, fallback.confidence) == ("defendant", "李娜", 0.5)
    live.assign(SeatOccupant("defendant", 9, "王律师", "agent", from_s=10.0))
    assert live.attribute(Segment(13.5, 16.57, "", channel=3)).participant_name == "王律师"
    live.dismiss("defendant", 9, 15.0)
    assert live.attribute(Segment(19.0, 21.0, "", channel=3)).participant_name == "李娜"


def test_a_seat_assigned_while_the_roster_is_read_again_is_kept() -> None:
    """A participant renamed (the roster read again from the dossier) while the bench seats a witness: the
    seat was applied to the live roster between the read and the replacement, which then dropped it."""
    import threading
    import time

    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    stale = list(OCCUPANTS)  # what the dossier held when the reload read it
    reading = threading.Event()

    def read() -> list:
        reading.set()
        time.sleep(0.3)  # the database's time, during which the seat is assigned
        return stale

    witness = SeatOccupant("defendant", 9, "王律师", "agent", from_s=10.0)
    seat = threading.Thread(target=lambda: (reading.wait(5), live.assign(witness)))
    seat.start()
    live.reload(read)
    seat.join()
    assert live.roster.occupant("defendant", 20.0) == witness


@pytest.mark.parametrize("lag", [0.3, 0.8, 2.5])
def test_two_people_speaking_at_once_keep_their_own_seats(audio, lag) -> None:
    # The plaintiff's "…order repayment with interest." (to 36.26 s) under the defendant's "Objection,
    # that is not true." (from 35.06 s): the spans are the live transcriber's finals of the demo hearing,
    # each attributed `lag` seconds after it was said. The louder seat used to take the plaintiff's words.
    samples, rate = audio
    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    fed = 0

    def feed_until(t: float) -> None:
        nonlocal fed
        for chunk in _chunks(samples[fed : int(t * rate)], rate):
            live.feed(replace(chunk, first_sample=chunk.first_sample + fed))
        fed = int(t * rate)

    feed_until(36.0 + lag)
    plaintiff = live.attribute(Segment(34.66, 36.0, "order repayment with interest.", channel=2))
    feed_until(36.78 + lag)
    defendant = live.attribute(Segment(35.06, 36.78, "Objection, that is not true.", channel=3))
    assert (plaintiff.seat, plaintiff.participant_name) == ("plaintiff", "张伟")
    assert (defendant.seat, defendant.participant_name) == ("defendant", "李娜")
