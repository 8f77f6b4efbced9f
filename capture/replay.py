"""Paced replay: a recorded hearing delivered as if it came from a live array.

Chunks come at real time (``speed=1``), faster (``speed=8``), or as fast as they can be decoded
(``speed=math.inf``). ``wall_time`` is stamped when a chunk is released, as a live device would.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace

import numpy as np

from capture.ffmpeg_source import FfmpegSource
from capture.types import AudioChunk


class ArraySource:
    """Chunks of an in-memory ``(frames, channels)`` array (tests, benchmarks, generated audio)."""

    def __init__(self, samples: np.ndarray, sample_rate: int, *, block_frames: int = 0) -> None:
        if samples.ndim != 2:
            raise ValueError(f"samples must be shaped (frames, channels), got {samples.shape}")
        self.samples = samples.astype(np.float32, copy=False)
        self.sample_rate = sample_rate
        self.block_frames = block_frames or sample_rate // 10

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        for start in range(0, len(self.samples), self.block_frames):
            block = self.samples[start : start + self.block_frames]
            yield AudioChunk(block, self.sample_rate, start, time.time())


class ReplaySource:
    """Release the chunks of ``inner`` no faster than ``speed`` times real time."""

    def __init__(self, inner: AsyncIterable[AudioChunk], *, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be > 0, got {speed}")
        self.inner = inner
        self.speed = speed
        self.late_s = 0.0  # worst lag behind the schedule (decoding slower than the pace)

    @classmethod
    def from_file(cls, url: str, sample_rate: int, *, speed: float = 1.0, block_frames: int = 0,
                  start_s: float = 0.0) -> ReplaySource:
        return cls(FfmpegSource(url, sample_rate, block_frames=block_frames, start_s=start_s), speed=speed)

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        t0: float | None = None
        wall0 = time.time()
        async for chunk in self.inner:
            if t0 is None:
                t0 = loop.time()
            if math.isfinite(self.speed):
                # A chunk is "captured" once its last frame has been played.
                due = t0 + chunk.end_s / self.speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    self.late_s = max(self.late_s, -delay)
            yield replace(chunk, wall_time=wall0 + chunk.start_s / self.speed)
