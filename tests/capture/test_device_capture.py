"""Capture through a real PortAudio device: a PulseAudio null sink's monitor, via ALSA's pulse PCM."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from capture.device import DeviceSource
from capture.errors import DeviceError
from capture.pipeline import PipelineOptions, run_capture
from capture.recorder import Recorder, RecorderOptions
from capture.types import CaptureEvent
from capture.verify import verify_recording
from tests.capture.audio_checks import best_lag
from tests.capture.pulse_server import CHANNELS, RATE, PulseServer


def played_signal(seconds: float) -> np.ndarray:
    """Independent noise per channel, so a swapped or mixed channel cannot pass; (frames, channels)."""
    rng = np.random.default_rng(7)
    return (0.2 * rng.standard_normal((int(seconds * RATE), CHANNELS))).astype(np.float32)


async def capture_while_playing(pulse: PulseServer, tmp_path: Path, played: np.ndarray, recorder: Recorder,
                                events: list) -> DeviceSource:
    raw = tmp_path / "played.raw"
    played.tofile(raw)
    source = DeviceSource("pulse", RATE, CHANNELS, on_event=events.append)
    stop = asyncio.Event()
    task = asyncio.create_task(run_capture(lambda: source, recorder, on_event=events.append,
                                           options=PipelineOptions(retry=False), stop=stop))
    while source.frames_captured < RATE // 4:  # the stream runs before the first sample is played
        await asyncio.sleep(0.05)
    player = pulse.play(raw)
    await asyncio.to_thread(player.wait)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, 5)
    return source


async def test_device_capture_matches_played_audio_without_drops(pulse: PulseServer, tmp_path: Path) -> None:
    played = played_signal(2.0)
    events: list = []
    recorder = Recorder(tmp_path / "rec", RATE, CHANNELS, RecorderOptions(segment_seconds=1.0))
    source = await capture_while_playing(pulse, tmp_path, played, recorder, events)
    recorder.close()

    assert source.overflow_frames == 0 and source.device_overflows == 0
    assert not [e for e in events if isinstance(e, CaptureEvent) and e.kind in ("overflow", "gap")]
    assert verify_recording(tmp_path / "rec").ok
    final = recorder.finalize()
    captured, _ = sf.read(final.recording.path, dtype="float32", always_2d=True)  # (frames, channels)
    assert final.frames == source.frames_captured and not final.gaps  # every captured frame was filed
    lags = set()
    for c in range(CHANNELS):
        lag, corr = best_lag(captured[:, c], played[:, c])
        assert corr > 0.97, f"channel {c}: correlation {corr:.3f}"  # strict check below
        lags.add(lag)
        for other in set(range(CHANNELS)) - {c}:  # channel order preserved, nothing mixed in
            seg = captured[lag : lag + len(played), c]
            assert abs(np.corrcoef(seg, played[:, other])[0, 1]) < 0.1
    assert len(lags) == 1  # all channels aligned: one clock, no frames lost on any channel
    lag = lags.pop()
    # Sample for sample (16-bit sink): PulseAudio may rewrite the first few ms of a new playback
    # stream after the monitor has read them, so the exact comparison starts 50 ms in.
    skip = RATE // 20
    assert np.max(np.abs(captured[lag + skip : lag + len(played)] - played[skip:])) < 2e-3


def test_courtroom_devices_lists_the_pulse_device(pulse: PulseServer) -> None:
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "devices"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    line = next(li for li in out.stdout.splitlines() if " pulse " in li)
    assert "32 in" in line and "fits:" in line
    # A 32-channel ALSA pulse PCM can serve both device profiles when it is the named device.
    assert "profile criminal-8ch: 8 channels" in out.stdout


async def test_unknown_device_is_a_clear_error() -> None:
    source = DeviceSource("no-such-microphone-array", RATE, CHANNELS)
    try:
        async for _ in source:
            raise AssertionError("no audio expected")
    except DeviceError as exc:
        assert "no-such-microphone-array" in str(exc)
    else:
        raise AssertionError("DeviceError expected")


async def test_device_that_disappears_is_reported_recorded_as_gap_and_reopened(pulse: PulseServer, tmp_path: Path) -> None:
    events: list = []
    recorder = Recorder(tmp_path / "rec", RATE, CHANNELS, RecorderOptions(segment_seconds=1.0))
    sources: list[DeviceSource] = []

    def make_source() -> DeviceSource:
        sources.append(DeviceSource("pulse", RATE, CHANNELS, stall_seconds=2.0))
        return sources[-1]

    stop = asyncio.Event()
    task = asyncio.create_task(run_capture(make_source, recorder, on_event=events.append,
                                           options=PipelineOptions(retry_seconds=0.3), stop=stop))
    try:
        while recorder.next_sample < RATE:  # one second recorded
            await asyncio.sleep(0.05)
        pulse.unplug()  # the array's cable is pulled
        while not any(isinstance(e, CaptureEvent) and e.kind == "source_error" for e in events):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
    finally:
        pulse.plug_in()
    mark = recorder.next_sample
    for _ in range(200):
        if recorder.next_sample >= mark + RATE // 2 and len(sources) >= 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    recorder.close()

    assert recorder.next_sample >= mark + RATE // 2, "capture did not resume after the device came back"
    assert verify_recording(tmp_path / "rec").ok
    from capture.manifest import read_entries

    entries = read_entries(tmp_path / "rec")
    assert any(e["type"] == "event" and e["kind"] == "source_error" for e in entries)
    gaps = [e for e in entries if e["type"] == "gap"]
    assert gaps and gaps[0]["reason"].startswith("source failed") and gaps[0]["frames"] >= RATE


async def test_queue_overflow_is_counted_reported_and_becomes_a_gap(pulse: PulseServer, tmp_path: Path) -> None:
    events: list = []
    source = DeviceSource("pulse", RATE, CHANNELS, block_frames=RATE // 20, queue_chunks=2, on_event=events.append)
    recorder = Recorder(tmp_path / "rec", RATE, CHANNELS, RecorderOptions(segment_seconds=1.0))
    got = 0
    async for chunk in source:
        recorder.write(chunk)
        got += 1
        if got == 3:
            await asyncio.sleep(0.6)  # a consumer that stalls: the callback keeps going, the queue is full
        if got == 20:
            break
    recorder.close()
    assert source.overflow_frames >= RATE // 4
    overflows = [e for e in events if e.kind == "overflow"]
    assert overflows and sum(e.frames for e in overflows) == source.overflow_frames
    from capture.manifest import read_entries

    gaps = [e for e in read_entries(tmp_path / "rec") if e["type"] == "gap"]
    assert sum(g["frames"] for g in gaps) == source.overflow_frames  # the hole is on the record
    assert verify_recording(tmp_path / "rec").ok


def test_audio_a_device_lost_in_an_overflow_is_a_gap_of_its_length(tmp_path: Path) -> None:
    """PortAudio's input overflow: the driver's buffer overran and 1.5 s never reached the callback. The
    sample counter counted delivered frames only, so 6 s of a hearing became a 4.5 s timeline with no
    gap and everything after sat 1.5 s early. The capture times between blocks give the lost frames."""
    import time as _time

    from capture.device import OverflowClock
    from capture.types import AudioChunk

    block, clock = RATE // 20, OverflowClock(RATE)
    assert clock.lost_before(100.0, block, False) == 0
    assert clock.lost_before(100.05, block, True) == 0  # flagged, but no time missing: nothing lost
    assert clock.lost_before(100.1003, block, False) == 0  # jitter or drift, not flagged: never a gap
    recorder = Recorder(tmp_path / "rec", RATE, CHANNELS, RecorderOptions(segment_seconds=1.0))
    rng, next_sample, t = np.random.default_rng(9), 0, 200.0
    clock = OverflowClock(RATE)
    for k in range(120):  # 4.5 s delivered in 50 ms blocks over 6 s: blocks 40-69 lost to the overflow
        if 40 <= k < 70:
            t += 0.05
            continue
        next_sample += clock.lost_before(t, block, overflow=(k == 70))
        recorder.write(AudioChunk((0.1 * rng.standard_normal((block, CHANNELS))).astype(np.float32), RATE,
                                  next_sample, _time.time()))
        next_sample += block
        t += 0.05
    final = recorder.finalize()
    assert verify_recording(tmp_path / "rec").ok
    assert final.frames == 6 * RATE and [(g.first_sample, g.frames) for g in final.gaps] == [(2 * RATE, RATE * 3 // 2)]
