"""Benchmark: CPU used by recording 8 channels at 16 kHz (FLAC segments, sha256 chain, journal,
level meters and alarms), and overflows of the capture queue, over a paced replay.

A producer task plays the part of the PortAudio callback: it releases 50 ms blocks on schedule
into the same kind of bounded queue the live source uses (``capture.queue_chunks`` = 256) and
counts a block it cannot enqueue as an overflow. The consumer is the real pipeline
(``run_capture`` -> ``Recorder`` + ``ChannelHealth``).

    python bench/capture.py                 # 10 minutes at real time (the target measurement)
    python bench/capture.py --minutes 2     # shorter
    python bench/capture.py --speed 20      # faster than real time; CPU is still per audio second
    python bench/capture.py --quick         # 1 minute at 20x

Target: <= 3 % of one core at real time, zero overflows.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capture.health import ChannelHealth  # noqa: E402
from capture.pipeline import PipelineOptions, run_capture  # noqa: E402
from capture.recorder import Recorder, RecorderOptions  # noqa: E402
from capture.types import AudioChunk  # noqa: E402

RATE = 16000
CHANNELS = 8
BLOCK = RATE // 20  # 50 ms, as the live source
QUEUE_CHUNKS = 256


def courtroom_audio(seconds: int) -> np.ndarray:
    """(frames, 8) float32: room noise on every mic, one seat speaking at a time with bleed."""
    rng = np.random.default_rng(0)
    frames = seconds * RATE
    audio = (0.001 * rng.standard_normal((frames, CHANNELS))).astype(np.float32)
    t = np.arange(frames) / RATE
    turn = 4 * RATE
    for start in range(0, frames, turn):
        seat = (start // turn) % CHANNELS
        span = slice(start, start + turn)
        pitch = 100 + 20 * seat
        voice = sum(np.sin(2 * np.pi * pitch * k * t[span]) / k for k in range(1, 6))
        voice = 0.15 * voice * (0.5 - 0.5 * np.cos(2 * np.pi * 4 * t[span])) + 0.01 * rng.standard_normal(len(voice))
        audio[span] += 0.05 * voice[:, None].astype(np.float32)
        audio[span, seat] += voice.astype(np.float32)
    return audio


class PacedDevice:
    """Releases blocks on schedule into a bounded queue; counts what does not fit (overflow)."""

    def __init__(self, audio: np.ndarray, total_frames: int, speed: float) -> None:
        self.audio, self.total, self.speed = audio, total_frames, speed
        self.queue: asyncio.Queue[AudioChunk | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
        self.overflows = 0
        self.max_backlog = 0

    async def produce(self) -> None:
        loop = asyncio.get_running_loop()
        t0, wall0 = loop.time(), time.time()
        for first in range(0, self.total, BLOCK):
            due = t0 + (first + BLOCK) / RATE / self.speed
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            offset = first % len(self.audio)
            block = self.audio[offset : offset + BLOCK]
            try:
                self.queue.put_nowait(AudioChunk(block, RATE, first, wall0 + first / RATE / self.speed))
            except asyncio.QueueFull:
                self.overflows += 1
            self.max_backlog = max(self.max_backlog, self.queue.qsize())
        await self.queue.put(None)

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while (chunk := await self.queue.get()) is not None:
            yield chunk


async def bench(minutes: float, speed: float, directory: Path) -> dict[str, float]:
    audio = courtroom_audio(60)
    total = int(minutes * 60 * RATE) // BLOCK * BLOCK
    device = PacedDevice(audio, total, speed)
    options = RecorderOptions(seats=tuple(f"seat{c}" for c in range(CHANNELS)))
    recorder = Recorder(directory, RATE, CHANNELS, options)
    health = ChannelHealth(RATE, CHANNELS)
    events: list = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    producer = asyncio.create_task(device.produce())
    outcome = await run_capture(lambda: device, recorder, health=health, on_event=events.append,
                                options=PipelineOptions(retry=False))
    await producer
    recorder.close()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    audio_s = outcome.frames / RATE
    size = sum(p.stat().st_size for p in (directory / "segments").glob("*.flac"))
    return {
        "audio_s": audio_s, "wall_s": wall, "cpu_s": cpu,
        "cpu_pct_of_core_per_audio_s": 100 * cpu / audio_s,
        "cpu_pct_of_core_wall": 100 * cpu / wall,
        "overflows": device.overflows, "max_queue_backlog": device.max_backlog,
        "segments": recorder.next_index, "flac_mb": size / 1e6,
        "meters_per_s": sum(type(e).__name__ == "LevelMeter" for e in events) / audio_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--speed", type=float, default=1.0, help="1 = real time; 0 = as fast as possible")
    parser.add_argument("--quick", action="store_true", help="1 minute at 20x real time")
    args = parser.parse_args()
    minutes, speed = (1.0, 20.0) if args.quick else (args.minutes, args.speed)
    speed = math.inf if speed == 0 else speed
    directory = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    try:
        result = asyncio.run(bench(minutes, speed, directory / "hearing"))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"capture bench: {CHANNELS} ch @ {RATE} Hz, {minutes:g} min, speed {speed:g}x")
    for key, value in result.items():
        print(f"  {key:30s} {value:10.3f}" if isinstance(value, float) else f"  {key:30s} {value:10d}")
    target = result["cpu_pct_of_core_per_audio_s"] <= 3.0 and result["overflows"] == 0
    print(f"  target (<= 3 % of one core, 0 overflows): {'met' if target else 'MISSED'}")


if __name__ == "__main__":
    main()
