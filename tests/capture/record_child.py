"""Child process for the crash test: records a paced replay, printing how far it has filed.

Usage: python -m tests.capture.record_child OUT_DIR SECONDS [CHANNELS]
The audio is deterministic (see ``hearing_audio``), so the parent can compare what survived.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np

from capture.pipeline import PipelineOptions, run_capture
from capture.recorder import Recorder, RecorderOptions
from capture.replay import ArraySource, ReplaySource

RATE = 16000
CHANNELS = 4
OPTIONS = RecorderOptions(segment_seconds=2.0, journal_seconds=1.0, seats=("judge", "clerk", "plaintiff", "defendant"))


def hearing_audio(seconds: float, channels: int = CHANNELS) -> np.ndarray:
    """(frames, channels) float32 noise, exactly representable in 16 bits."""
    rng = np.random.default_rng(11)
    pcm = rng.integers(-6000, 6000, size=(int(seconds * RATE), channels))
    return (pcm / 32768.0).astype(np.float32)


def options(channels: int) -> RecorderOptions:
    if channels == CHANNELS:
        return OPTIONS
    return RecorderOptions(segment_seconds=2.0, journal_seconds=1.0, seats=tuple(f"seat{c:02d}" for c in range(channels)))


async def main(out: Path, seconds: float, channels: int = CHANNELS) -> None:
    recorder = Recorder(out, RATE, channels, options(channels))
    print(f"resumed={recorder.resumed} next_sample={recorder.next_sample}", flush=True)
    audio = hearing_audio(seconds, channels)

    def progress(event: object) -> None:
        pass

    source = ReplaySource(ArraySource(audio, RATE, block_frames=RATE // 10), speed=1.0)

    class Reporting:
        async def __aiter__(self):
            async for chunk in source:
                yield chunk
                print(f"filed {recorder.next_sample}", flush=True)

    await run_capture(Reporting, recorder, options=PipelineOptions(retry=False))
    recorder.close()
    print("closed", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2]), *(int(a) for a in sys.argv[3:4])))
