"""The recorder gets audio first; a slow or failing consumer never blocks or stops the recording."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import soundfile as sf

from capture.fanout import FanOut
from capture.health import ChannelHealth
from capture.pipeline import run_capture
from capture.recorder import Recorder, RecorderOptions
from capture.replay import ArraySource, ReplaySource
from capture.types import CaptureEvent, LevelMeter
from capture.verify import verify_recording

RATE = 16000


async def test_slow_and_failing_consumers_do_not_touch_the_recording(tmp_path: Path) -> None:
    pcm = np.random.default_rng(4).integers(-8000, 8000, size=(6 * RATE, 4))
    audio = (pcm / 32768.0).astype(np.float32)
    recorder = Recorder(tmp_path / "rec", RATE, 4, RecorderOptions(segment_seconds=1.0, seats=("a", "b", "c", "d")))
    events: list = []
    fanout = FanOut(recorder.write_async, on_event=events.append)
    slow = fanout.subscribe("transcriber", maxsize=4)  # never read: a stuck transcriber
    failing = fanout.subscribe("failing", maxsize=4)
    healthy = fanout.subscribe("healthy", maxsize=1000)
    received: list[int] = []

    async def crash() -> None:
        async for _ in failing:
            raise RuntimeError("transcriber crashed")

    async def read() -> None:
        async for chunk in healthy:
            received.append(chunk.frames)

    crash_task, read_task = asyncio.create_task(crash()), asyncio.create_task(read())
    source = ReplaySource(ArraySource(audio, RATE, block_frames=RATE // 10), speed=math.inf)
    outcome = await run_capture(lambda: source, recorder, fanout=fanout, on_event=events.append,
                                health=ChannelHealth(RATE, 4))
    fanout.close()
    await read_task
    assert crash_task.done() and isinstance(crash_task.exception(), RuntimeError)
    final = recorder.finalize()

    assert outcome.frames == len(audio) and sum(received) == len(audio)
    assert slow.dropped_chunks == 60 - 4 + 1 and failing.dropped_chunks > 0  # +1: room for the end marker
    assert any(isinstance(e, CaptureEvent) and e.kind == "downstream_drop" and "transcriber" in e.message
               for e in events)
    assert sum(isinstance(e, LevelMeter) for e in events) == 60
    recorded, _ = sf.read(final.recording.path, dtype="int16", always_2d=True)
    np.testing.assert_array_equal(recorded, pcm)  # the recording lost nothing
    assert verify_recording(tmp_path / "rec").ok and final.duration_s == 6.0
    track, _ = sf.read(final.tracks[2].path, dtype="int16")
    np.testing.assert_array_equal(track, pcm[:, 2])
    assert final.mixdown.path.stat().st_size > 1000 and final.tracks[2].seat == "c"
