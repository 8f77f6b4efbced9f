"""Live capture from a sound device through sounddevice (PortAudio).

The PortAudio callback runs on PortAudio's thread and only copies the block and hands it to the
event loop (``loop.call_soon_threadsafe``). The queue between them is bounded: when it is full the
block is dropped, counted, and reported as an ``overflow`` event; the sample counter still
advances, so the recorder sees the hole and records it as a gap. Nothing is dropped silently.

Audio the device itself lost (PortAudio's ``input overflow``: the driver's buffer overran before the
callback ran) never reaches the callback, so counting delivered frames would shorten the timeline:
:class:`OverflowClock` measures how much time the overflow took from the stream's clock and the
sample counter skips it, so it too becomes a gap of the right length.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from capture.errors import DeviceError
from capture.types import AudioChunk, CaptureEvent

log = logging.getLogger(__name__)

EventSink = Callable[[CaptureEvent], None]
_END = object()


class OverflowClock:
    """Frames a device lost before a block flagged ``input overflow``, from the time between blocks.

    Each callback gives the block's capture time (PortAudio's ``inputBufferAdcTime``; the wall clock
    where the host API gives none) and its frame count. Between two blocks the time should be the earlier
    block's length: on an overflow, the rest is what the device dropped. Only flagged blocks count, and
    only from one block to the next, so the slow drift between the device's and the system's clocks
    never turns into gaps.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._last: tuple[float, int] | None = None  # (capture time, frames) of the previous block

    def lost_before(self, at: float, frames: int, overflow: bool) -> int:
        previous, self._last = self._last, (at, frames)
        if not overflow or previous is None:
            return 0
        lost = round((at - previous[0]) * self.sample_rate) - previous[1]
        return lost if lost > previous[1] // 2 else 0  # under half a block: the callback's jitter


class DeviceSource:
    """An async iterator of :class:`AudioChunk` from a live multi-channel input device.

    ``stall_seconds``: no audio for that long while the stream claims to run means the device is
    gone; a :class:`DeviceError` is raised so the pipeline can record a gap and reopen.
    """

    def __init__(
        self,
        device: str | int | None,
        sample_rate: int,
        channels: int,
        *,
        block_frames: int = 0,
        queue_chunks: int = 256,
        stall_seconds: float = 3.0,
        on_event: EventSink | None = None,
    ) -> None:
        self.device = device
        self.sample_rate = sample_rate
        self.channels = channels
        self.block_frames = block_frames or sample_rate // 20  # 50 ms blocks
        self.queue_chunks = queue_chunks
        self.stall_seconds = stall_seconds
        self.on_event = on_event
        self.overflow_frames = 0  # frames dropped because our queue was full
        self.device_overflows = 0  # blocks PortAudio flagged input_overflow
        self.frames_captured = 0
        self._queue: asyncio.Queue[Any] | None = None
        self._next_sample = 0
        self._stream: Any = None

    def _report(self, message: str, frames: int) -> None:
        log.warning("capture overflow: %s", message)
        if self.on_event is not None:
            self.on_event(CaptureEvent("overflow", self._next_sample / self.sample_rate, message, frames))

    def _deliver(self, block: np.ndarray, first: int, wall: float, status: str, lost: int = 0) -> None:
        # Runs on the event loop, scheduled by the PortAudio thread.
        assert self._queue is not None
        if status:
            self.device_overflows += 1
            self._report(f"device {self.device!r} reported {status}"
                         + (f": {lost} frames lost ({lost / self.sample_rate:.2f} s)" if lost else ""), lost)
        chunk = AudioChunk(block, self.sample_rate, first, wall)
        try:
            self._queue.put_nowait(chunk)
        except asyncio.QueueFull:
            self.overflow_frames += len(block)
            self._report(f"capture queue full ({self.queue_chunks} chunks): {len(block)} frames dropped", len(block))

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        import sounddevice as sd

        clock = OverflowClock(self.sample_rate)

        def callback(indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
            wall = time.time()
            at = float(getattr(t, "inputBufferAdcTime", 0.0) or 0.0) or wall  # 0: the host API gives none
            lost = clock.lost_before(at, frames, bool(getattr(status, "input_overflow", False)))
            self._next_sample += lost  # the recorder sees the hole and records it as a gap
            first = self._next_sample
            self._next_sample += frames
            loop.call_soon_threadsafe(self._deliver, indata.copy(), first, wall, str(status) if status else "", lost)

        def finished() -> None:
            loop.call_soon_threadsafe(self._queue.put_nowait, _END)  # type: ignore[union-attr]

        try:
            self._stream = sd.InputStream(
                device=self.device,
                samplerate=self.sample_rate,
                channels=self.channels,
                dtype="float32",
                blocksize=self.block_frames,
                callback=callback,
                finished_callback=finished,
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError, ValueError: bad device, channel count, rate
            raise DeviceError(
                f"cannot open input device {self.device!r} with {self.channels} channels at "
                f"{self.sample_rate} Hz: {exc}"
            ) from exc

    def close(self) -> None:
        """Stop and close the stream (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # a vanished device may refuse even to close
                log.warning("closing device %r: %s", self.device, exc)

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=self.queue_chunks + 1)  # +1: room for the end marker
        self._open(loop)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(self._queue.get(), self.stall_seconds)
                except TimeoutError:
                    raise DeviceError(
                        f"input device {self.device!r} delivered no audio for {self.stall_seconds:.1f} s"
                    ) from None
                if item is _END:
                    raise DeviceError(f"input device {self.device!r} stopped (disconnected?)")
                self.frames_captured += item.frames
                yield item
        finally:
            self.close()
