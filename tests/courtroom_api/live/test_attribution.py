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


# The live transcriber's finals of the demo hearing in one run of it: (start, end, the channel it was
# transcribed on, how far the audio had reached when it was attributed), in the order they came.
LIVE_FINALS = [
    (1.64, 2.36, 1, 4.7), (2.76, 4.04, 1, 5.0), (4.72, 5.74, 0, 7.2), (6.4, 7.74, 0, 11.5),
    (7.74, 10.58, 0, 13.0), (11.34, 12.54, 0, 13.6), (13.3, 13.84, 2, 16.1), (14.12, 14.44, 2, 17.5),
    (14.94, 16.3, 2, 18.6), (17.0, 18.4, 0, 19.6), (19.3, 19.58, 3, 21.7), (19.94, 21.04, 3, 22.5),
    (21.74, 22.76, 1, 24.6), (22.78, 24.8, 1, 26.7), (25.74, 26.38, 0, 29.3), (26.68, 28.26, 0, 31.7),
    (28.86, 29.6, 2, 32.0), (29.6, 30.84, 2, 33.3), (30.84, 32.88, 2, 34.7), (32.88, 33.18, 2, 35.9),
    (33.5, 34.84, 2, 37.4), (34.84, 35.98, 2, 37.4), (35.06, 36.78, 3, 38.4), (37.44, 39.28, 0, 40.4),
    (39.94, 40.74, 0, 41.6), (41.48, 43.24, 2, 45.3), (43.24, 44.28, 2, 47.1), (45.14, 46.96, 0, 48.6),
    (47.96, 49.78, 3, 51.4), (50.3, 51.8, 3, 55.0), (52.54, 53.64, 1, 55.9), (53.64, 54.8, 1, 56.0),
    (55.48, 57.32, 0, 60.3), (58.04, 58.26, 0, 61.2), (58.26, 59.9, 0, 61.2),
]


@pytest.mark.parametrize("delay", [None, 0.3, 1.5])
def test_every_live_final_of_the_demo_hearing_goes_to_its_speaker_whenever_it_is_attributed(audio, delay):
    # Attributed in order as the audio arrives: when that run attributed them (None) or `delay` s after
    # each final's end. The bleed model is refitted every 30 s of audio, so the finals before decide
    # which audio it has seen: the plaintiff's "repayment with interest." under the defendant's
    # objection (34.84–35.98 s) went to the defendant unless it was the first decision on a fresh model.
    samples, rate = audio
    live = LiveAttribution(load_profile("demo"), OCCUPANTS)
    chunks = iter(_chunks(samples, rate))
    chunk = next(chunks, None)
    finals = sorted(LIVE_FINALS, key=lambda f: f[3] if delay is None else f[1] + delay)
    wrong = []
    for start, end, channel, at in finals:
        while chunk is not None and chunk.end_s <= (at if delay is None else end + delay):
            live.feed(chunk)
            chunk = next(chunks, None)
        said = max((u for u in REFERENCE if u["channel"] == channel),  # the script's line it transcribes
                   key=lambda u: min(end, u["end"]) - max(start, u["start"]))
        got = live.attribute(Segment(start, end, "", channel=channel))
        if (got.seat, got.role) != (said["seat"], said["role"]):
            wrong.append((start, end, said["seat"], got.seat, round(got.confidence, 3)))
    assert wrong == []
