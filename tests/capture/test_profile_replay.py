"""End to end from a courtroom profile: a replay profile recorded, finalized with seat tracks."""

from __future__ import annotations

import math
from pathlib import Path

import soundfile as sf

from capture.health import ChannelHealth
from capture.pipeline import PipelineOptions, run_capture
from capture.recorder import Recorder, RecorderOptions
from capture.sources import open_source
from capture.verify import verify_recording
from hardware.profiles import load_profile


def test_replay_profile_records_and_finalizes(tmp_path: Path, four_seats: Path) -> None:
    profile_path = tmp_path / "room.toml"
    base = load_profile("demo").path
    assert base is not None
    text = base.read_text().replace('url = "samples/demo_hearing.flac"', f'url = "{four_seats}"')
    profile_path.write_text(text.replace("speed = 1.0", "speed = 8.0").replace('label = "原告 Plaintiff"\n', 'label = "原告 Plaintiff"\ngain_db = -6\n'))
    profile = load_profile(profile_path)
    options = RecorderOptions.for_profile(profile, segment_seconds=0.5)
    assert options.seats == ("judge", "clerk", "plaintiff", "defendant") and options.gains_db[2] == -6.0

    import asyncio

    recorder = Recorder(tmp_path / "hearing", profile.sample_rate, profile.channel_count, options)
    events: list = []
    health = ChannelHealth(profile.sample_rate, profile.channel_count, options.seats)
    outcome = asyncio.run(run_capture(lambda: open_source(profile), recorder, health=health,
                                      on_event=events.append, options=PipelineOptions(retry=False)))
    final = recorder.finalize()
    assert outcome.ended and final.duration_s == 2.0 and not final.gaps
    assert [t.path.name for t in final.tracks] == [
        "track-00-judge.flac", "track-01-clerk.flac", "track-02-plaintiff.flac", "track-03-defendant.flac"]
    original, _ = sf.read(four_seats, dtype="int16", always_2d=True)
    recorded, _ = sf.read(final.recording.path, dtype="int16", always_2d=True)
    assert (recorded == original).all()
    info = sf.info(final.mixdown.path)
    assert info.channels == 1 and math.isclose(info.duration, 2.0, abs_tol=0.1)
    assert verify_recording(tmp_path / "hearing").finalized
