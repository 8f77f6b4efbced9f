"""Fan-out: the recorder gets every chunk first; other consumers get it if they keep up.

Downstream consumers (the transcriber, a level-meter feed) read from bounded queues. When one is
full, the chunk is dropped *for that consumer only*, counted, and reported; the recording itself
never waits for and never loses audio to a slow or failed consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from capture.types import AudioChunk, CaptureEvent

log = logging.getLogger(__name__)
_CLOSED = object()


class Subscription:
    """One downstream consumer's bounded queue; iterate it with ``async for``."""

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=maxsize)
        self.dropped_chunks = 0
        self.dropped_frames = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while True:
            item = await self.queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, AudioChunk)
            yield item


class FanOut:
    """Deliver each chunk to ``primary`` (awaited, e.g. ``recorder.write_async``), then to subscribers."""

    def __init__(self, primary: Callable[[AudioChunk], Awaitable[None]] | None = None,
                 on_event: Callable[[CaptureEvent], None] | None = None) -> None:
        self.primary = primary
        self.on_event = on_event
        self.subscriptions: list[Subscription] = []

    def subscribe(self, name: str, maxsize: int = 64) -> Subscription:
        sub = Subscription(name, maxsize)
        self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    async def publish(self, chunk: AudioChunk) -> None:
        if self.primary is not None:
            await self.primary(chunk)
        for sub in self.subscriptions:
            try:
                sub.queue.put_nowait(chunk)
            except asyncio.QueueFull:
                sub.dropped_chunks += 1
                sub.dropped_frames += chunk.frames
                if sub.dropped_chunks == 1 or sub.dropped_chunks % 100 == 0:
                    msg = f"consumer {sub.name!r} is behind: {sub.dropped_chunks} chunks dropped for it (recording unaffected)"
                    log.warning(msg)
                    if self.on_event is not None:
                        self.on_event(CaptureEvent("downstream_drop", chunk.start_s, msg, chunk.frames))

    def close(self) -> None:
        """Tell every subscriber the stream has ended (making room for the marker if needed)."""
        for sub in self.subscriptions:
            if sub.closed:
                continue
            sub.closed = True
            while True:
                try:
                    sub.queue.put_nowait(_CLOSED)
                    break
                except asyncio.QueueFull:
                    sub.queue.get_nowait()
                    sub.dropped_chunks += 1
