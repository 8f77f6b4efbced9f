"""ffmpeg decoding of every listed input kind, multi-channel preserved; corrupt and truncated inputs."""

from __future__ import annotations

import asyncio
import functools
import http.server
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from capture.errors import DecodeError
from capture.ffmpeg_source import FfmpegSource
from capture.manifest import read_entries
from capture.pipeline import PipelineOptions, run_capture
from capture.recorder import Recorder, RecorderOptions
from capture.replay import ReplaySource
from capture.sources import open_source
from capture.verify import verify_recording
from hardware.types import AudioSourceSpec
from tests.capture.audio_checks import seat_energy_order

RATE = 16000


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


async def decode(source) -> np.ndarray:
    blocks = []
    expect = 0
    async for chunk in source:
        assert chunk.first_sample == expect  # contiguous sample addressing
        expect += chunk.frames
        blocks.append(chunk.samples)
    return np.concatenate(blocks)  # (frames, channels)


@pytest.fixture(scope="module")
def encoded(four_seats: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    out = {
        "wav": d / "h.wav", "flac": d / "h.flac", "m4a": d / "h.m4a", "opus": d / "h.opus",
        "ogg": d / "h.ogg", "mp3": d / "h.mp3", "mp4": d / "h.mp4", "wav48k": d / "h48.wav",
    }
    src = str(four_seats)
    ffmpeg("-i", src, out["wav"].as_posix())
    ffmpeg("-i", src, out["flac"].as_posix())
    ffmpeg("-i", src, "-c:a", "aac", "-b:a", "256k", out["m4a"].as_posix())
    ffmpeg("-i", src, "-c:a", "libopus", "-mapping_family", "1", "-b:a", "128k", out["opus"].as_posix())
    ffmpeg("-i", src, "-c:a", "libvorbis", out["ogg"].as_posix())
    ffmpeg("-i", src, "-ac", "2", "-c:a", "libmp3lame", out["mp3"].as_posix())  # MP3 carries at most 2 channels
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=2", "-i", src, "-shortest",
           "-c:v", "mpeg4", "-c:a", "aac", "-b:a", "256k", out["mp4"].as_posix())
    ffmpeg("-i", src, "-ar", "48000", out["wav48k"].as_posix())
    return out


@pytest.mark.parametrize("kind", ["wav", "flac"])
async def test_lossless_inputs_decode_exactly(encoded: dict[str, Path], four_seats: Path, kind: str) -> None:
    reference, _ = sf.read(four_seats, dtype="float32", always_2d=True)
    audio = await decode(FfmpegSource(str(encoded[kind]), RATE))
    assert audio.shape == reference.shape
    np.testing.assert_allclose(audio, reference, atol=1e-6)


@pytest.mark.parametrize("kind", ["m4a", "opus", "ogg", "mp4", "wav48k"])
async def test_lossy_and_video_inputs_keep_every_channel_in_order(encoded: dict[str, Path], kind: str) -> None:
    audio = await decode(FfmpegSource(str(encoded[kind]), RATE))
    assert audio.shape[1] == 4
    assert abs(len(audio) / RATE - 2.0) < 0.1
    assert seat_energy_order(audio[: 2 * RATE], 4) == [0, 1, 2, 3]  # each seat loudest in its own turn


async def test_stereo_mp3(encoded: dict[str, Path]) -> None:
    audio = await decode(FfmpegSource(str(encoded["mp3"]), RATE))
    assert audio.shape[1] == 2 and abs(len(audio) / RATE - 2.0) < 0.1


async def test_http_stream(encoded: dict[str, Path]) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(encoded["flac"].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/h.flac"
        source = open_source(AudioSourceSpec(kind="ffmpeg", url=url), sample_rate=RATE)
        audio = await decode(source)
    finally:
        server.shutdown()
    assert audio.shape == (2 * RATE, 4)


async def test_paced_replay_takes_real_time_divided_by_speed(encoded: dict[str, Path]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    audio = await decode(ReplaySource.from_file(str(encoded["flac"]), RATE, speed=4.0))
    elapsed = loop.time() - start
    assert audio.shape == (2 * RATE, 4)
    assert 0.45 <= elapsed < 1.5  # 2 s of audio at 4x


async def test_corrupt_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "evidence.flac"
    bad.write_bytes(b"fLaC" + np.random.default_rng(1).bytes(5000))
    with pytest.raises(DecodeError, match="evidence.flac"):
        await decode(FfmpegSource(str(bad), RATE))


@pytest.mark.parametrize("kind", ["wav", "flac"])
async def test_truncated_input_is_an_error_and_nothing_claims_to_be_whole(
    encoded: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    cut = tmp_path / f"cut.{kind}"
    data = encoded[kind].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError, match="truncated|corrupt"):
        await decode(FfmpegSource(str(cut), RATE))

    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=0.5))
    with pytest.raises(DecodeError):
        await run_capture(lambda: FfmpegSource(str(cut), RATE), recorder, options=PipelineOptions(retry=False))
    recorder.close()
    entries = read_entries(tmp_path / "rec")
    assert not [e for e in entries if e["type"] == "final"]
    errors = [e for e in entries if e["type"] == "event" and e["kind"] == "source_error"]
    assert errors and "cut." in errors[0]["message"]


async def test_failed_stream_is_retried_and_the_outage_is_a_gap(encoded: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"garbage")
    urls = [str(bad), str(encoded["flac"])]
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0))
    events: list = []
    outcome = await run_capture(lambda: FfmpegSource(urls.pop(0), RATE), recorder, on_event=events.append,
                                options=PipelineOptions(retry_seconds=0.5))
    recorder.close()
    assert outcome.failures == 1 and outcome.ended and outcome.frames == 2 * RATE
    assert [e.kind for e in events if hasattr(e, "kind") and e.kind.startswith("source")] == [
        "source_error", "source_reopened"]
    entries = read_entries(tmp_path / "rec")
    gap = next(e for e in entries if e["type"] == "gap")
    assert gap["first_sample"] == 0 and gap["frames"] >= 0.4 * RATE and "broken.flac" in gap["reason"]


async def test_a_live_stream_that_ends_by_itself_is_reopened_and_the_time_it_was_away_is_a_gap(
        encoded: dict[str, Path], tmp_path: Path) -> None:
    """A room's stream does not end: its sender restarting closes it cleanly (ffmpeg exits 0). It is
    reported, noted, reopened, and the outage is a gap (it used to be the end of the hearing's audio)."""
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0))
    events: list = []
    opened: list[int] = []
    stop = asyncio.Event()

    def make_source() -> FfmpegSource:
        opened.append(1)
        if len(opened) == 3:
            stop.set()  # the clerk stops the hearing while the third connection runs
        return FfmpegSource(str(encoded["flac"]), RATE)

    outcome = await run_capture(make_source, recorder, on_event=events.append, stop=stop,
                                options=PipelineOptions(retry_seconds=0.5, reopen_ended=True))
    recorder.close()
    assert len(opened) == 3 and outcome.failures == 2
    assert [e.message for e in events if getattr(e, "kind", "") == "source_error"] == ["the source ended by itself"] * 2
    entries = read_entries(tmp_path / "rec")
    gaps = [e for e in entries if e["type"] == "gap"]
    assert len(gaps) == 2 and all("ended by itself" in g["reason"] and g["frames"] >= 0.4 * RATE for g in gaps)
    assert verify_recording(tmp_path / "rec").ok


async def test_a_source_that_stays_down_is_reopened_at_once_but_reported_less_and_less_often(
        tmp_path: Path) -> None:
    """Reopened every retry_seconds, so audio is back as soon as its source is (backing off the reopening
    kept a device back after a long outage unrecorded for up to 30 s); reported three times quickly, then
    at doubling intervals up to max_report_seconds: a stream down for an hour no longer writes a manifest
    note and two alarms every second."""
    from capture.pipeline import report_interval

    opts = PipelineOptions(retry_seconds=0.05, max_report_seconds=2.0)
    assert [report_interval(opts, n) for n in range(1, 10)] == [0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    bad = tmp_path / "down.flac"
    bad.write_bytes(b"garbage")
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0))
    events: list = []
    opened: list[float] = []
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(3.0, stop.set)

    def make_source() -> FfmpegSource:
        opened.append(time.monotonic())
        return FfmpegSource(str(bad), RATE)

    await run_capture(make_source, recorder, on_event=events.append, stop=stop, options=opts)
    recorder.close()
    # Between two tries: retry_seconds and ffprobe's own time (0.1-0.3 s here), not the 0.8 s the reports
    # wait by then (the reopening waited that long too, and would have waited max_report_seconds).
    waits = [b - a for a, b in zip(opened, opened[1:], strict=False)]
    assert max(waits) < 0.7, waits
    reported = sum(getattr(e, "kind", "") == "source_error" for e in events)
    notes = [e for e in read_entries(tmp_path / "rec") if e["type"] == "event" and e["kind"] == "source_error"]
    assert len(opened) >= 10 and 4 <= reported <= 9 and len(notes) == reported, (len(opened), reported)
    # Still failing, it is never said to be back: source_reopened clears the clerk's source_error alarm, and
    # sent before each attempt it hid the alarm for most of an outage.
    assert not [e for e in events if getattr(e, "kind", "") == "source_reopened"]


def _sources_in_turn(urls: list[Path], stop: asyncio.Event, make: Callable[[str], Any]) -> Callable[[], Any]:
    """A source factory opening ``urls`` one after the other; the stop comes during the last."""
    def make_source() -> Any:
        url = str(urls.pop(0))
        if not urls:
            stop.set()
        return make(url)
    return make_source


async def test_a_stream_back_with_another_channel_count_is_decoded_to_the_recordings_and_recorded(
        encoded: dict[str, Path], tmp_path: Path) -> None:
    """The room's sender restarts sending 2 channels instead of 4: its chunks were refused by the recorder
    (a RecorderError, not a source error) and the hearing recorded nothing more. Now the stream is decoded
    to the profile's 4 channels and recorded on; the clerk and the manifest are told seats may not match."""
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0))
    events: list = []
    stop = asyncio.Event()
    urls = [encoded["flac"], encoded["mp3"], encoded["flac"]]  # 4 channels, then 2, then 4 again
    make = _sources_in_turn(urls, stop, lambda url: open_source(
        AudioSourceSpec(kind="ffmpeg", url=url), sample_rate=RATE, channels=4))
    outcome = await run_capture(make, recorder, on_event=events.append, stop=stop,
                                options=PipelineOptions(retry_seconds=0.2, reopen_ended=True))
    recorder.close()
    assert outcome.frames >= 4 * RATE  # both whole inputs, and the third until the stop
    changed = [e for e in events if getattr(e, "kind", "") == "channels_changed"]
    assert len(changed) == 1 and "h.mp3 has 2 channel(s)" in changed[0].message
    assert changed[0].time_s >= 2.0  # placed where the stereo stream's audio starts
    entries = read_entries(tmp_path / "rec")
    assert [e["kind"] for e in entries if e["type"] == "event"].count("channels_changed") == 1
    assert verify_recording(tmp_path / "rec").ok
    gap = next(e for e in entries if e["type"] == "gap")
    stereo_start = gap["first_sample"] + gap["frames"]
    stored = np.concatenate([sf.read(tmp_path / "rec" / e["file"], dtype="float32", always_2d=True)[0]
                             for e in entries if e["type"] == "segment"])
    timeline = sum(e["frames"] for e in entries if e["type"] in ("segment", "gap"))
    assert timeline >= stereo_start + 2 * RATE - RATE // 10
    # The stereo stream's audio is in the recording (stored frames are the timeline less its gaps).
    stereo = stored[2 * RATE : 4 * RATE]
    assert stereo.shape[1] == 4 and np.abs(stereo[:, :2]).max() > 0.05


async def test_chunks_of_another_channel_count_are_a_source_failure_retried_not_the_end_of_recording(
        encoded: dict[str, Path], tmp_path: Path) -> None:
    """A source that delivers chunks the recording cannot hold (here a stream opened without the
    recording's channel count) is reported and reopened like a failing source; recording goes on."""
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0))
    events: list = []
    stop = asyncio.Event()
    urls = [encoded["flac"], encoded["mp3"], encoded["flac"]]
    make = _sources_in_turn(urls, stop, lambda url: FfmpegSource(url, RATE))
    outcome = await run_capture(make, recorder, on_event=events.append, stop=stop,
                                options=PipelineOptions(retry_seconds=0.2, reopen_ended=True))
    recorder.close()
    errors = [e.message for e in events if getattr(e, "kind", "") == "source_error"]
    assert any("delivers 2 channel(s)" in m for m in errors), errors
    assert outcome.frames > 2 * RATE  # the third source was recorded after the refused one
    assert verify_recording(tmp_path / "rec").ok
