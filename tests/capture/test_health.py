"""Level meters at >= 10 Hz and channel alarms (dead channel, clipping, DC offset, hum)."""

from __future__ import annotations

import numpy as np
import pytest

from capture.health import ChannelHealth, HealthOptions
from capture.types import AudioChunk, ChannelAlarm, LevelMeter

RATE = 16000
SEATS = ("judge", "clerk", "plaintiff", "defendant")


def run(audio: np.ndarray, options: HealthOptions | None = None, block: int = 1000) -> list:
    health = ChannelHealth(RATE, audio.shape[1], SEATS, options)
    events = []
    for start in range(0, len(audio), block):  # blocks that do not align with meter windows
        events += health.process(AudioChunk(audio[start : start + block], RATE, start, 0.0))
    return events


def speech(seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.1 * rng.standard_normal(len(t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def alarms(events: list, kind: str) -> list[ChannelAlarm]:
    return [e for e in events if isinstance(e, ChannelAlarm) and e.kind == kind]


def test_level_meters_at_ten_hertz_with_correct_levels() -> None:
    t = np.arange(2 * RATE) / RATE
    audio = np.zeros((2 * RATE, 2), dtype=np.float32)
    audio[:, 0] = 0.5 * np.sin(2 * np.pi * 440 * t)
    meters = [e for e in run(audio) if isinstance(e, LevelMeter)]
    assert len(meters) == 20  # 10 per second
    assert [m.time_s for m in meters[:3]] == pytest.approx([0.0, 0.1, 0.2])
    assert meters[5].rms[0] == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert meters[5].peak[0] == pytest.approx(0.5, rel=1e-3)
    assert meters[5].rms_dbfs[1] <= -199  # a silent channel


def test_dead_channel_while_others_speak_raised_then_cleared() -> None:
    rng = np.random.default_rng(1)
    audio = np.zeros((5 * RATE, 4), dtype=np.float32)
    for c in (0, 2, 3):
        audio[:, c] = speech(5, rng)
    audio[4 * RATE :, 1] = speech(1, rng)  # the clerk's microphone comes back after 4 s
    events = run(audio, HealthOptions(dead_seconds=2.0))
    dead = alarms(events, "dead_channel")
    assert [(a.channel, a.seat, a.active) for a in dead] == [(1, "clerk", True), (1, "clerk", False)]
    assert dead[0].time_s == pytest.approx(1.9, abs=0.11)
    assert dead[1].time_s == pytest.approx(4.0, abs=0.11)


def test_all_silent_is_not_a_dead_channel() -> None:
    assert not alarms(run(np.zeros((3 * RATE, 4), dtype=np.float32), HealthOptions(dead_seconds=1.0)), "dead_channel")


def test_clipping_dc_offset_and_hum() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(3 * RATE) / RATE
    audio = np.stack([speech(3, rng) for _ in range(4)], axis=1)
    audio[RATE : RATE + 800, 0] = np.sign(np.sin(2 * np.pi * 200 * t[:800]))  # judge's mic clips
    audio[:, 2] += 0.1  # plaintiff's preamp has a DC offset
    audio[:, 3] = 0.05 * np.sin(2 * np.pi * 50 * t) + 0.002 * rng.standard_normal(len(t))  # mains hum
    events = run(audio)
    clip = alarms(events, "clipping")
    assert clip[0].channel == 0 and clip[0].active and clip[0].time_s == pytest.approx(1.0, abs=0.11)
    assert {a.channel for a in clip} == {0}
    dc = alarms(events, "dc_offset")
    assert [(a.channel, a.active) for a in dc] == [(2, True)] and dc[0].value == pytest.approx(0.1, abs=0.01)
    hum = alarms(events, "hum")
    assert [(a.channel, a.seat, a.active) for a in hum] == [(3, "defendant", True)]


def test_a_dead_microphone_outputting_dc_is_dead_and_not_live() -> None:
    rng = np.random.default_rng(3)
    audio = np.zeros((4 * RATE, 4), dtype=np.float32)
    audio[:, 0] = speech(4, rng)
    audio[:, 1] = 0.015  # the clerk's mic is dead; its preamp sits at -36 dBFS of DC, below the DC alarm
    audio[:, 2] = speech(4, rng)
    audio[:, 3] = speech(4, rng)
    dead = alarms(run(audio, HealthOptions(dead_seconds=2.0)), "dead_channel")
    assert [(a.channel, a.active) for a in dead] == [(1, True)]


def test_in_a_recess_a_dc_stuck_judge_mic_does_not_make_the_others_dead() -> None:
    rng = np.random.default_rng(4)
    audio = (1e-5 * rng.standard_normal((4 * RATE, 4))).astype(np.float32)  # nobody speaks
    audio[:, 0] = 0.3  # the judge's mic is stuck at DC
    events = run(audio, HealthOptions(dead_seconds=2.0))
    assert not alarms(events, "dead_channel")
    assert [(a.channel, a.active) for a in alarms(events, "dc_offset")] == [(0, True)]


def test_a_channel_the_profile_maps_to_no_seat_is_metered_and_never_dead() -> None:
    """A room mapping channels 0 and 2 records channel 1 too, where nothing is plugged in: its silence
    raised a dead_channel alarm for "ch01" that stood on the clerk's console the whole hearing."""
    from pathlib import Path

    from hardware.profiles import parse_profile

    profile = parse_profile('room_id = "sparse"\nsample_rate = 16000\n[source]\nkind = "device"\ndevice = "x"\n'
                            '[[channels]]\nchannel = 0\nseat = "judge"\nrole = "presiding_judge"\n'
                            '[[channels]]\nchannel = 2\nseat = "clerk"\nrole = "clerk"\n', Path("sparse.toml"))
    rng = np.random.default_rng(5)
    audio = np.zeros((4 * RATE, 3), dtype=np.float32)
    audio[:, 0] = speech(4, rng)  # the judge speaks; the clerk's microphone is dead
    health = ChannelHealth.for_profile(profile, HealthOptions(dead_seconds=2.0))
    events = []
    for start in range(0, len(audio), 1000):
        events += health.process(AudioChunk(audio[start : start + 1000], RATE, start, 0.0))
    assert [(a.channel, a.seat, a.active) for a in alarms(events, "dead_channel")] == [(2, "clerk", True)]
    assert all(len(m.rms) == 3 for m in events if isinstance(m, LevelMeter))  # channel 1 still metered
