"""A courtroom of 12 seats (more than the 8 channels FLAC holds): its hearing's recording is made, filed
and downloaded as a WAV (RF64) of every channel, and those who may not hear sealed lines get it silent
there in the same format."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from test_transcript_api import _new_hearing_with_segments

from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk
from courtroom_api.live.filing import create_or_resume_recording, file_recording
from hardware.profiles import load_profile

RATE = 16_000
SEATS = [("presiding_judge", "presiding_judge"), ("judge_left", "judge"), ("judge_right", "judge"),
         ("clerk", "clerk"), ("plaintiff", "plaintiff"), ("plaintiff_agent", "agent"), ("defendant", "defendant"),
         ("defendant_agent", "agent"), ("witness_1", "witness"), ("witness_2", "witness"),
         ("witness_3", "witness"), ("interpreter", "interpreter")]


def _profile(tmp_path: Path):  # type: ignore[no-untyped-def]
    channels = "".join(f'[[channels]]\nchannel = {c}\nseat = "{seat}"\nrole = "{role}"\n\n'
                       for c, (seat, role) in enumerate(SEATS))
    path = tmp_path / "panel-12ch.toml"
    path.write_text(f'room_id = "panel-12ch"\nname = "Panel courtroom"\nsample_rate = {RATE}\n\n'
                    f'[source]\nkind = "replay"\nurl = "{tmp_path / "none.flac"}"\n\n{channels}')
    return load_profile(path)


def test_a_twelve_seat_hearing_recording_downloads_as_wav_with_every_channel(world, tmp_path: Path) -> None:
    c = world.client
    services = c.app.state.services
    hid, (_, sealed) = _new_hearing_with_segments(world)  # lines at 0-2.5 s and 3.0-5.5 s
    profile = _profile(tmp_path)
    assert profile.channel_count == len(SEATS)
    recorder = Recorder(services.settings.hearing_recording_dir(hid), RATE, profile.channel_count,
                        RecorderOptions.for_profile(profile, segment_seconds=2.0))
    rid, _ = create_or_resume_recording(services, hid, profile, recorder)
    t = np.arange(8 * RATE) / RATE
    audio = np.stack([0.2 * np.sin(2 * np.pi * (200 + 40 * ch) * t) for ch in range(len(SEATS))], axis=1)
    audio = audio.astype(np.float32)  # (frames, 12): a tone of its own per seat
    for first in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[first : first + RATE // 10], RATE, first, time.time()))
    final = recorder.finalize()
    file_recording(services, hid, rid, final)

    recs = c.get(f"/api/hearings/{hid}/recordings", headers=world.auth("clerk")).json()
    assert [r["id"] for r in recs] == [rid] and abs(recs[0]["duration_s"] - 8.0) < 0.01
    assert recs[0]["tracks"] == [seat for seat, _ in SEATS] + ["mixdown"]

    path = f"/api/recordings/{rid}/audio"
    bench = c.get(path, headers=world.auth("clerk"))
    assert bench.status_code == 200, bench.text
    assert bench.headers["content-type"] == "audio/wav"
    assert bench.headers["content-disposition"].endswith(f"hearing-{hid}-recording-{rid}.wav")
    assert bench.content == final.recording.path.read_bytes()
    whole, rate = sf.read(io.BytesIO(bench.content), dtype="int16", always_2d=True)
    assert rate == RATE and whole.shape == (8 * RATE, len(SEATS))
    np.testing.assert_array_equal(whole, np.rint(audio * 32768).astype(np.int16))  # every channel, losslessly
    head = c.head(path, headers=world.auth("clerk"))
    assert head.headers["content-type"] == "audio/wav" and int(head.headers["content-length"]) == len(bench.content)
    track = c.get(f"/api/recordings/{rid}/tracks/witness_3", headers=world.auth("clerk"))
    assert track.headers["content-type"] == "audio/flac" and track.headers["content-disposition"].endswith(".flac")

    # Sealed: those who may not hear it get a copy of the same format, silent there in every channel.
    assert c.post(f"/api/segments/{sealed}/seal", json={"reason": "未成年人"},
                  headers=world.auth("judge")).status_code == 200
    heard = c.get(path, headers=world.auth("party"))
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
    assert heard.headers["content-disposition"].endswith(".wav") and heard.content != bench.content
    info = sf.info(io.BytesIO(heard.content))
    assert (info.format, info.subtype, info.channels) == ("RF64", "PCM_16", len(SEATS))
    silenced, _ = sf.read(io.BytesIO(heard.content), dtype="int16", always_2d=True)
    assert not silenced[int(3.0 * RATE) : int(5.5 * RATE)].any()
    np.testing.assert_array_equal(silenced[: int(2.5 * RATE)], whole[: int(2.5 * RATE)])
    np.testing.assert_array_equal(silenced[int(6.0 * RATE) :], whole[int(6.0 * RATE) :])
