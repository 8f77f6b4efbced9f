"""One model for every stream of a process: a worker pool fed by an adaptive-cadence dispatcher.

The live pipeline calls ``feed(room_id, chunk)`` from the event loop (cheap: gating and queueing
only) and reads ``events(room_id)``, an async stream of sequenced TranscriptEvents. Decoding runs
in a thread pool (CTranslate2 releases the GIL), never on the event loop. Under load the decode
cadence of every stream stretches (later finals, more audio per decode) instead of letting work
pile up; each stream's lag (audio received but not yet decoded) is measured and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from capture.types import AudioChunk
from transcribe.decoder import Decoder
from transcribe.errors import TranscribeError
from transcribe.online import OnlineOptions, OnlineProcessor
from transcribe.room import RoomTranscriber, SeatSpec
from transcribe.seats import GateOptions
from transcribe.types import TranscriptEvent


@dataclass(frozen=True, slots=True)
class SchedulerOptions:
    workers: int = 1  # decode threads sharing the one model
    tick_s: float = 0.05
    min_cadence_s: float = 0.4  # decode a stream at most this often
    max_cadence_s: float = 6.0  # under load, stretch up to this
    # A stream that keeps up still has up to cadence + one decode's audio waiting (the decode in flight
    # hears only what came before it started): the cadence stretches once a stream is this much
    # further behind. (Stretching at twice the cadence held a lone room at ~0.6 s, a decode's length,
    # and a word's first partial came ~0.2 s later for it.)
    slack_s: float = 1.0
    # Unread events past which a room's partials are dropped (its reader stalled: the dossier locked, say).
    # Finals are never dropped: they are the transcript.
    events_queue: int = 10_000


@dataclass(frozen=True, slots=True)
class StreamLag:
    """How far one stream's transcription is behind its audio."""

    stream: str
    backlog_s: float  # audio received but not yet seen by a decode
    decodes: int
    max_backlog_s: float


@dataclass(slots=True)
class _Room:
    transcriber: RoomTranscriber
    queue: asyncio.Queue[TranscriptEvent | None]
    in_flight: set[int] = field(default_factory=set)
    closed: bool = False
    max_backlog: dict[int, float] = field(default_factory=dict)
    dropped_partials: int = 0
    failures: dict[int, int] = field(default_factory=dict)  # channel → decodes failed in a row
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class DecodeFailures:
    """A room's failing decodes: the most any of its streams failed in a row (0: the last decode of
    every stream worked), and the last failure's cause in one line."""

    consecutive: int
    last_error: str


class TranscriptionScheduler:
    """Serves every room of the process with one decoder; use as ``async with``."""

    def __init__(self, decoder: Decoder, options: SchedulerOptions | None = None) -> None:
        self.decoder = decoder
        self.options = options or SchedulerOptions()
        self.cadence_s = self.options.min_cadence_s
        self.rooms: dict[str, _Room] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="decode")
        self._busy = 0
        self._task: asyncio.Task[None] | None = None
        self.decode_seconds = 0.0
        self._stats_lock = threading.Lock()
        self._adapted_at = 0.0
        # The latest decode failures, for the log and the operator; bounded (a model failing every decode
        # for a whole hearing appended to it without end). The live pipeline alarms on ``room_failures``.
        self.errors: deque[str] = deque(maxlen=100)

    async def __aenter__(self) -> TranscriptionScheduler:
        self._task = asyncio.create_task(self._dispatch(), name="transcribe-dispatch")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for room_id in list(self.rooms):
            if not self.rooms[room_id].closed:
                await self.close_room(room_id)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._pool.shutdown(wait=True)

    # -- rooms --------------------------------------------------------------------------------------
    def open_room(self, room_id: str, seats: Sequence[SeatSpec], channels: int,
                  online: OnlineOptions | None = None, gate: GateOptions | None = None) -> None:
        """Start transcribing a room; ``seats`` maps channels to seats and roles."""
        if room_id in self.rooms and not self.rooms[room_id].closed:
            raise TranscribeError(f"room {room_id} is already being transcribed")
        room = RoomTranscriber(room_id, self.decoder, seats, channels, online, gate)
        self.rooms[room_id] = _Room(room, asyncio.Queue())  # bounded by _put, for partials only

    def feed(self, room_id: str, chunk: AudioChunk) -> None:
        """Hand a captured chunk to its room (cheap; safe on the event loop)."""
        room = self._room(room_id)
        if room.closed:
            raise TranscribeError(f"room {room_id} is closed")
        room.transcriber.feed(chunk.samples, chunk.start_s)

    async def events(self, room_id: str) -> AsyncIterator[TranscriptEvent]:
        """The room's events in sequence order, until the room is closed."""
        queue = self._room(room_id).queue
        while (event := await queue.get()) is not None:
            yield event

    async def close_room(self, room_id: str) -> None:
        """Flush every seat of the room (final events), then end its event stream."""
        room = self._room(room_id)
        room.closed = True
        while room.in_flight:
            await asyncio.sleep(self.options.tick_s)
        try:
            events = await asyncio.get_running_loop().run_in_executor(self._pool, room.transcriber.finish)
            for e in events:
                self._put(room, e)
        finally:  # the stream ends whatever happened: a stop (or a recess) waited for it, 120 s, in vain
            room.queue.put_nowait(None)

    def lag(self) -> list[StreamLag]:
        """Per-stream lag report."""
        out = []
        for room in self.rooms.values():
            for ch, proc in room.transcriber.processors.items():
                out.append(StreamLag(proc.seat.stream, round(proc.backlog_s(), 3), proc.decodes,
                                     round(room.max_backlog.get(ch, 0.0), 3)))
        return out

    def room_lag_s(self, room_id: str) -> float:
        """How far the room's transcription is behind its audio: the worst stream's undecoded seconds."""
        room = self._room(room_id)
        return round(max((p.backlog_s() for p in room.transcriber.processors.values()), default=0.0), 3)

    def room_failures(self, room_id: str) -> DecodeFailures:
        """How many decodes of the room's worst stream failed in a row, and why the last one failed."""
        room = self._room(room_id)
        return DecodeFailures(max(room.failures.values(), default=0), room.last_error)

    def _room(self, room_id: str) -> _Room:
        try:
            return self.rooms[room_id]
        except KeyError:
            raise TranscribeError(f"unknown room {room_id!r}") from None

    # -- dispatch -----------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            ready = self._ready()
            free = self.options.workers - self._busy
            self._adapt(loop.time())
            for room, ch, proc in ready[: max(0, free)]:
                room.in_flight.add(ch)
                self._busy += 1
                fut = loop.run_in_executor(self._pool, self._run, proc)
                fut.add_done_callback(functools.partial(self._done, room, ch))
            await asyncio.sleep(self.options.tick_s)

    def _adapt(self, now: float) -> None:
        """Once a second: stretch the cadence while streams fall behind, shrink it when they keep up."""
        if now - self._adapted_at < 1.0:
            return
        self._adapted_at = now
        worst = max((p.backlog_s() for r in self.rooms.values() if not r.closed
                     for p in r.transcriber.processors.values()), default=0.0)
        if worst > self.cadence_s + self.options.slack_s:
            self.cadence_s = min(self.options.max_cadence_s, self.cadence_s * 1.25)
        elif worst < self.cadence_s:
            self.cadence_s = max(self.options.min_cadence_s, self.cadence_s * 0.9)

    def _ready(self) -> list[tuple[_Room, int, OnlineProcessor]]:
        ready = []
        for room in self.rooms.values():
            if room.closed:
                continue
            for ch, proc in room.transcriber.processors.items():
                backlog = proc.backlog_s()
                room.max_backlog[ch] = max(room.max_backlog.get(ch, 0.0), backlog)
                if ch not in room.in_flight and proc.ready(self.cadence_s):
                    ready.append((room, ch, proc))
        # Oldest undecoded audio first: every seat gets its turn, however long another seat talks.
        ready.sort(key=lambda item: item[2].waiting_since_s())
        return ready

    def _run(self, proc: OnlineProcessor) -> list[TranscriptEvent]:
        t = time.perf_counter()
        try:
            return proc.process_iter()
        finally:
            with self._stats_lock:  # (workers finish at the same time)
                self.decode_seconds += time.perf_counter() - t

    def _done(self, room: _Room, ch: int, fut: asyncio.Future[list[TranscriptEvent]]) -> None:
        self._busy -= 1
        room.in_flight.discard(ch)
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            # A failing decode must not stop the room: counted for the alarm, and the finals it had
            # committed before it failed (an earlier utterance's end in the same turn) still go out.
            for e in room.transcriber.stamp(room.transcriber.processors[ch].take_unsent()):
                self._put(room, e)
            room.failures[ch] = room.failures.get(ch, 0) + 1
            room.last_error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            self.errors.append(f"{room.transcriber.room_id}/{ch}: {exc!r}")
            return
        room.failures[ch] = 0
        for e in room.transcriber.stamp(fut.result()):
            self._put(room, e)

    def _put(self, room: _Room, event: TranscriptEvent) -> None:
        """Queue an event for the room's reader. A bounded queue raised QueueFull here, in a callback,
        when the reader stalled: the finals of that decode were lost without a trace."""
        # (An empty partial takes a provisional line back: nothing may come after it to supersede it.)
        if event.kind == "partial" and event.segment.text and room.queue.qsize() >= self.options.events_queue:
            room.dropped_partials += 1  # a later partial or the final supersedes it
            return
        room.queue.put_nowait(event)
