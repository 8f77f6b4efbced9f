import asyncio
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from capture.types import AudioChunk
from transcribe.decoder import Decoder
from transcribe.errors import TranscribeError
from transcribe.online import OnlineOptions
from transcribe.room import SeatSpec
from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler, _Room

SEATS = [SeatSpec(0, "judge", "presiding_judge"), SeatSpec(1, "clerk", "clerk"),
         SeatSpec(2, "plaintiff", "plaintiff"), SeatSpec(3, "defendant", "defendant")]


class ThreadRecordingDecoder(Decoder):
    """The real decoder, noting which threads it ran on."""

    def __init__(self, model) -> None:
        super().__init__(model, "base")
        self.threads: set[str] = set()

    def decode(self, audio, offset_s, options):
        self.threads.add(threading.current_thread().name)
        return super().decode(audio, offset_s, options)


async def _feed(scheduler: TranscriptionScheduler, room: str, audio: np.ndarray, pace: float, start: int = 0) -> None:
    t0 = time.monotonic()
    for i in range(0, len(audio), 1600):  # 100 ms chunks, as capture delivers them
        scheduler.feed(room, AudioChunk(audio[i : i + 1600], 16000, start + i, time.time()))
        await asyncio.sleep(max(0.0, t0 + (i + 1600) / 16000 / pace - time.monotonic()))


async def _collect(scheduler: TranscriptionScheduler, room: str) -> list:
    return [e async for e in scheduler.events(room)]


async def test_two_rooms_share_one_model(whisper_base, hearing, en_clip) -> None:
    audio, ref = hearing
    excerpt = audio[: 21 * 16000]  # clerk, judge (zh + en), plaintiff, judge, defendant
    decoder = ThreadRecordingDecoder(whisper_base)
    async with TranscriptionScheduler(decoder, SchedulerOptions(workers=1)) as scheduler:
        scheduler.open_room("room-a", SEATS, 4, OnlineOptions())
        scheduler.open_room("room-b", [SeatSpec(0, "witness", "witness")], 1, OnlineOptions(language="en"))
        with pytest.raises(TranscribeError, match="already"):
            scheduler.open_room("room-a", SEATS, 4)
        got_a = asyncio.create_task(_collect(scheduler, "room-a"))
        got_b = asyncio.create_task(_collect(scheduler, "room-b"))
        await asyncio.gather(_feed(scheduler, "room-a", excerpt, pace=4.0),
                             _feed(scheduler, "room-b", en_clip[0].reshape(-1, 1), pace=4.0))
        lag = {s.stream: s for s in scheduler.lag()}
        await scheduler.close_room("room-a")
        await scheduler.close_room("room-b")
        events_a, events_b = await got_a, await got_b
    assert "MainThread" not in decoder.threads and decoder.threads  # never on the event loop
    assert set(lag) == {"room-a/judge", "room-a/clerk", "room-a/plaintiff", "room-a/defendant", "room-b/witness"}
    for events in (events_a, events_b):
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
    finals = [e.segment for e in events_a if e.kind == "final"]
    for seg in finals:  # each final comes from the seat that spoke then
        u = max(ref["utterances"], key=lambda u: min(seg.end, u["end"]) - max(seg.start, u["start"]))
        assert seg.seat == u["seat"], (seg.text, u)
    assert {"clerk", "judge", "plaintiff", "defendant"} <= {s.seat for s in finals}
    assert "witness" in " ".join(e.segment.text for e in events_b if e.kind == "final").lower()


async def test_unknown_room_is_an_error(base_decoder) -> None:
    async with TranscriptionScheduler(base_decoder) as scheduler:
        with pytest.raises(TranscribeError, match="unknown room"):
            scheduler.feed("nowhere", AudioChunk(np.zeros((160, 1), np.float32), 16000, 0, 0.0))


def test_room_lag_is_the_worst_seat_backlog(base_decoder, hearing) -> None:
    audio, ref = hearing
    scheduler = TranscriptionScheduler(base_decoder)  # not entered: nothing decodes, audio piles up
    scheduler.open_room("r", SEATS, 4, OnlineOptions())
    assert scheduler.room_lag_s("r") == 0.0
    clerk = ref["utterances"][0]
    for i in range(0, int((clerk["end"] + 0.5) * 16000), 1600):
        scheduler.feed("r", AudioChunk(audio[i : i + 1600], 16000, i, 0.0))
    spoken = clerk["end"] - clerk["start"]
    assert spoken - 0.5 <= scheduler.room_lag_s("r") <= spoken + 1.0  # the clerk's speech, not the silence
    assert scheduler.room_lag_s("r") == max(s.backlog_s for s in scheduler.lag())
    with pytest.raises(TranscribeError, match="unknown room"):
        scheduler.room_lag_s("nowhere")


def test_the_cadence_stretches_when_a_stream_falls_behind_not_while_it_keeps_up() -> None:
    """A lone seat decoded every 0.4 s has 0.4 s waiting plus the ~0.5 s a decode takes: it keeps up,
    and the cadence stays at its minimum. A backlog that grows beyond that stretches the cadence (up
    to its maximum); once the streams are caught up it shrinks back."""
    options = SchedulerOptions(min_cadence_s=0.4, max_cadence_s=2.0, slack_s=1.0)
    scheduler = TranscriptionScheduler(None, options)  # type: ignore[arg-type]
    backlog = [0.0]
    seat = SimpleNamespace(backlog_s=lambda: backlog[0])
    scheduler.rooms["r"] = _Room(SimpleNamespace(processors={0: seat}), asyncio.Queue())  # type: ignore[arg-type]
    try:
        now = 0.0

        def tick(seconds: float) -> float:
            nonlocal now
            now += seconds
            scheduler._adapt(now)
            return scheduler.cadence_s

        backlog[0] = 0.95  # cadence + a decode in flight
        assert [tick(1.0) for _ in range(5)] == [0.4] * 5
        assert tick(0.5) == 0.4  # at most one change a second
        cadences = []
        for behind in (1.5, 2.5, 3.5, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0):  # falling behind
            backlog[0] = behind
            cadences.append(tick(1.0))
        assert cadences == sorted(cadences) and cadences[0] == pytest.approx(0.5) and cadences[-1] == 2.0
        backlog[0] = 0.0
        shrinking = [tick(1.0) for _ in range(30)]
        assert shrinking == sorted(shrinking, reverse=True) and shrinking[-1] == 0.4
    finally:
        scheduler._pool.shutdown()


async def test_a_stalled_reader_loses_partials_never_finals(base_decoder, en_clip) -> None:
    """Nothing reads the room's events until it is closed (the live pipeline stuck on a locked dossier):
    past ``events_queue`` unread events partials are dropped, every final is kept. The bounded queue
    raised QueueFull in the decode's callback (finals lost) and in close_room."""
    audio = en_clip[0].reshape(-1, 1)
    async with TranscriptionScheduler(base_decoder, SchedulerOptions(workers=1, events_queue=1)) as scheduler:
        scheduler.open_room("stalled", [SeatSpec(0, "witness", "witness")], 1, OnlineOptions(language="en"))
        await _feed(scheduler, "stalled", audio, pace=4.0)
        await scheduler.close_room("stalled")
        events = await _collect(scheduler, "stalled")
        dropped = scheduler.rooms["stalled"].dropped_partials
    finals = [e for e in events if e.kind == "final"]
    assert finals and "witness" in " ".join(e.segment.text for e in finals).lower()
    assert dropped > 0 and [e.seq for e in finals] == sorted(e.seq for e in finals)


class FailingDecoder(Decoder):
    """The real decoder, failing every decode while ``failing`` is set (a GPU fault, say)."""

    def __init__(self, model) -> None:
        super().__init__(model, "base")
        self.failing = True

    def decode(self, audio, offset_s, options):
        if self.failing:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return super().decode(audio, offset_s, options)


async def test_decodes_failing_in_a_row_are_counted_until_one_works(whisper_base, en_clip) -> None:
    """A model failing every decode made no finals and raised nothing: the failures went into an
    unbounded list nobody read. The room now tells how many decodes failed in a row and why (the live
    pipeline alarms on it), and the count is back to 0 once decodes work again."""
    audio = en_clip[0].reshape(-1, 1)
    decoder = FailingDecoder(whisper_base)
    async with TranscriptionScheduler(decoder, SchedulerOptions(workers=1)) as scheduler:
        scheduler.open_room("r", [SeatSpec(0, "witness", "witness")], 1, OnlineOptions(language="en"))
        got = asyncio.create_task(_collect(scheduler, "r"))
        await _feed(scheduler, "r", audio, pace=2.0)
        failing = scheduler.room_failures("r")
        decoder.failing = False
        await _feed(scheduler, "r", audio, pace=4.0, start=len(audio))  # the witness says it again
        working = scheduler.room_failures("r")
        await scheduler.close_room("r")
        events = await got
    assert failing.consecutive >= 3 and "illegal memory access" in failing.last_error
    assert len(scheduler.errors) >= failing.consecutive
    assert working.consecutive == 0
    finals = [e.segment for e in events if e.kind == "final"]
    assert finals and "witness" in " ".join(s.text for s in finals).lower()
    with pytest.raises(TranscribeError, match="unknown room"):
        scheduler.room_failures("nowhere")


async def test_a_failed_turn_still_publishes_the_finals_it_committed(tiny_en_decoder, en_clip) -> None:
    """One turn ends a seat's utterance (its words committed) and then fails decoding the next one: the
    failure is counted, and the first utterance's finals are published, not dropped with the turn."""
    speech = en_clip[0][8000 : int(7.1 * 16000)]
    decoder = SimpleNamespace(model_name="tiny.en", multilingual=False, failing=False)

    def decode(audio, offset_s, options):  # type: ignore[no-untyped-def]
        if decoder.failing and offset_s + len(audio) / 16000 > 5.0:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return tiny_en_decoder.decode(audio, offset_s, options)

    decoder.decode = decode
    scheduler = TranscriptionScheduler(decoder, SchedulerOptions(workers=1))  # type: ignore[arg-type]
    try:
        scheduler.open_room("turn-fails", [SeatSpec(0, "witness", "witness")], 1, OnlineOptions(language="en"))
        room = scheduler.rooms["turn-fails"]
        proc = room.transcriber.processors[0]
        for i in range(0, 3 * 16000, 6400):
            proc.insert_audio_chunk(speech[i : i + 6400])
            proc.process_iter()
        proc.mark_pause()
        proc.insert_audio_chunk(speech[int(3.5 * 16000) :], proc.received_until_s + 1.0)
        proc.mark_pause()
        decoder.failing = True
        turn = asyncio.get_running_loop().create_future()
        try:
            proc.process_iter()
        except RuntimeError as exc:
            turn.set_exception(exc)
        scheduler._done(room, 0, turn)
        published = [room.queue.get_nowait() for _ in range(room.queue.qsize())]
    finally:
        scheduler._pool.shutdown()
    assert scheduler.room_failures("turn-fails").consecutive == 1
    finals = [e for e in published if e and e.kind == "final"]
    assert finals and finals[-1].segment.end == pytest.approx(proc.final_until_s) and finals[-1].seq


async def test_a_room_closed_while_its_model_fails_ends_its_stream_with_what_was_committed(
        tiny_en_decoder, en_clip) -> None:
    """The model failing at the stop: close_room's flush raised before the end of the room's event stream,
    so the pipeline's wait for that stream ran to its 120 s timeout (a stop or a recess stalled), and the
    finals the seat had committed were dropped (found in review). The stream ends, with those finals, and
    a second seat whose model works is flushed too."""
    speech = en_clip[0][8000 : int(7.1 * 16000)]
    decoder = SimpleNamespace(model_name="tiny.en", multilingual=False, failing=False)

    def decode(audio, offset_s, options):  # type: ignore[no-untyped-def]
        if decoder.failing and options is not None and getattr(decoder, "seat0", False):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return tiny_en_decoder.decode(audio, offset_s, options)

    decoder.decode = decode
    scheduler = TranscriptionScheduler(decoder, SchedulerOptions(workers=1))  # type: ignore[arg-type]
    try:
        scheduler.open_room("closing", [SeatSpec(0, "witness", "witness"), SeatSpec(1, "clerk", "clerk")], 2,
                            OnlineOptions(language="en"))
        procs = scheduler.rooms["closing"].transcriber.processors
        for i in range(0, 3 * 16000, 6400):  # the witness's first words committed by a pause
            procs[0].insert_audio_chunk(speech[i : i + 6400])
            procs[0].process_iter()
        procs[0].mark_pause()
        procs[0].insert_audio_chunk(speech[int(3.5 * 16000) :], procs[0].received_until_s + 1.0)
        procs[1].insert_audio_chunk(speech[: 3 * 16000])
        original = procs[0].finish

        def failing_finish():  # type: ignore[no-untyped-def]
            decoder.failing = decoder.seat0 = True
            try:
                return original()
            finally:
                decoder.seat0 = False

        procs[0].finish = failing_finish  # type: ignore[method-assign]
        reader = asyncio.ensure_future(_collect(scheduler, "closing"))
        await scheduler.close_room("closing")
        events = await asyncio.wait_for(reader, 30)
    finally:
        scheduler._pool.shutdown()
    finals = [e for e in events if e.kind == "final"]
    assert {e.segment.channel for e in finals} == {0, 1}, [(e.segment.channel, e.segment.text) for e in finals]

