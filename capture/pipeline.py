"""Run a capture: source -> recorder (first) -> health -> downstream consumers, with retries.

A failing source is reported, noted in the manifest, and reopened every ``retry_seconds`` (a long
outage is reported less and less often); the time it was away becomes an explicit gap (placed by
wall clock). Finite sources (files) are not
retried by default: their error is reported and raised after everything before it is safely filed.
A source down when the capture ends (failed, or ended by itself) leaves the recorder its reason
(``Recorder.pending_gap_reason``): whoever stops the recording while the hearing goes on records the time
since its last audio as that gap (``Recorder.outage_until``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, replace

from capture.errors import SourceError
from capture.fanout import FanOut
from capture.health import ChannelHealth, HealthEvent
from capture.recorder import Recorder
from capture.types import AudioChunk, CaptureEvent

log = logging.getLogger(__name__)

PipelineEvent = CaptureEvent | HealthEvent


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    retry: bool = True  # reopen a failed source (live devices, network streams)
    # A live room does not end: a stream that ends by itself (its sender restarted, a proxy closed it)
    # is reported and reopened as a failed one is, and the time it was away becomes a gap.
    reopen_ended: bool = False
    retry_seconds: float = 1.0  # between attempts to reopen: audio is back at most this long after its source
    # A source still failing is reopened every retry_seconds, but reported (alarm, manifest note) less and
    # less often, up to this: a stream down for an hour wrote a manifest note and two alarms every second
    # (the alarms pushed the hearing's finals out of the live stream's replay buffer). Backing off the
    # reopening itself kept recording off for up to 30 s after the device was back.
    max_report_seconds: float = 30.0
    max_failures: int | None = None  # give up after this many consecutive failures; None: never


@dataclass
class CaptureOutcome:
    chunks: int = 0
    frames: int = 0
    failures: int = 0
    ended: bool = False  # the source ended by itself (end of file)


async def _pump(source: AsyncIterable[AudioChunk], recorder: Recorder, fanout: FanOut,
                health: ChannelHealth | None, emit: Callable[[PipelineEvent], None],
                outcome: CaptureOutcome, reopened: bool, stop: asyncio.Event | None) -> None:
    chunks = aiter(source)
    try:
        await _pump_chunks(chunks, recorder, fanout, health, emit, outcome, reopened, stop, source)
    finally:
        # A stop leaves the source mid-stream: close it now (its ffmpeg process, its device stream), not
        # whenever the garbage collector gets to it (a stream kept being read after its hearing ended).
        closing = getattr(chunks, "aclose", None)
        if closing is not None:
            await closing()


async def _pump_chunks(chunks: AsyncIterator[AudioChunk], recorder: Recorder, fanout: FanOut,
                       health: ChannelHealth | None, emit: Callable[[PipelineEvent], None],
                       outcome: CaptureOutcome, reopened: bool, stop: asyncio.Event | None,
                       source: object = None) -> None:
    offset: int | None = None
    async for chunk in chunks:
        if offset is None:
            # Place the (re)opened source on the recording's timeline.
            start = recorder.sample_at(chunk.wall_time) if reopened else recorder.next_sample
            offset = max(start, recorder.next_sample) - chunk.first_sample
            if reopened:  # audio flows again: only now is the source back (said before each attempt, it
                # cleared the clerk's source_error alarm for most of an outage)
                emit(CaptureEvent("source_reopened", max(start, recorder.next_sample) / recorder.sample_rate,
                                  "the source delivers audio again"))
            notice = getattr(source, "notice", None)  # e.g. a stream decoded to the recording's channels
            if notice:
                emit(CaptureEvent("channels_changed", max(start, recorder.next_sample) / recorder.sample_rate,
                                  notice))
                await asyncio.to_thread(recorder.note, "channels_changed", notice)
        if offset:
            chunk = replace(chunk, first_sample=chunk.first_sample + offset)
        if chunk.channels != recorder.channels or chunk.sample_rate != recorder.sample_rate:
            # The source's fault, not the recording's: reported and reopened like any failing source (it
            # ended the hearing's recording for good).
            raise SourceError(f"the source delivers {chunk.channels} channel(s) at {chunk.sample_rate} Hz; "
                              f"this recording is {recorder.channels} at {recorder.sample_rate} Hz")
        await recorder.write_async(chunk)
        if health is not None:
            for event in health.process(chunk):
                emit(event)
        await fanout.publish(chunk)
        outcome.chunks += 1
        outcome.frames += chunk.frames
        if stop is not None and stop.is_set():
            return
    outcome.ended = True


def report_interval(opts: PipelineOptions, reported: int) -> float:
    """Seconds before a source still failing is reported again, after ``reported`` reports of this outage:
    ``retry_seconds`` for the first three, then doubling up to ``max_report_seconds``."""
    if reported <= 3:
        return opts.retry_seconds
    return min(opts.max_report_seconds, opts.retry_seconds * 2.0 ** (reported - 3))


async def run_capture(
    make_source: Callable[[], AsyncIterable[AudioChunk]],
    recorder: Recorder,
    *,
    fanout: FanOut | None = None,
    health: ChannelHealth | None = None,
    on_event: Callable[[PipelineEvent], None] | None = None,
    options: PipelineOptions | None = None,
    stop: asyncio.Event | None = None,
) -> CaptureOutcome:
    """Capture until the source ends or ``stop`` is set; the recorder is left open (caller closes)."""
    opts = options or PipelineOptions()
    fanout = fanout or FanOut()
    outcome = CaptureOutcome()

    def emit(event: PipelineEvent) -> None:
        if on_event is not None:
            on_event(event)

    if recorder.on_event is None:
        # The recorder reports from its worker thread; hand its events to the loop.
        loop = asyncio.get_running_loop()

        def from_thread(event: CaptureEvent) -> None:
            loop.call_soon_threadsafe(emit, event)

        recorder.on_event = from_thread
    consecutive = reported = 0
    report_at = 0.0  # when a source still failing is reported again
    while not (stop is not None and stop.is_set()):
        frames_before = outcome.frames
        try:
            await _pump(make_source(), recorder, fanout, health, emit, outcome, outcome.failures > 0, stop)
            if stop is not None and stop.is_set():
                return outcome
            if not opts.reopen_ended:
                recorder.source_ended()  # a hearing that goes on records the time to its stop as a gap
                return outcome
            raise SourceError("the source ended by itself")
        except SourceError as exc:
            outcome.failures += 1
            consecutive = 0 if outcome.frames > frames_before else consecutive + 1
            giving_up = not opts.retry or (opts.max_failures is not None and consecutive >= opts.max_failures)
            if consecutive == 0:
                reported = 0  # audio flowed since the last failure: a new outage, reported at once
            report = giving_up or reported == 0 or time.monotonic() >= report_at
            if report:
                reported += 1
                report_at = time.monotonic() + report_interval(opts, reported)
                log.warning("source failed: %s", exc)
                emit(CaptureEvent("source_error", recorder.next_sample / recorder.sample_rate, str(exc)))
                await asyncio.to_thread(recorder.note, "source_error", str(exc))
            recorder.pending_gap_reason = f"source failed: {exc}"
            if giving_up:
                raise
            await asyncio.sleep(opts.retry_seconds)
    return outcome
