"""A source that fails or ends while the hearing goes on: the time from its last audio to where the recording
stops (a recess, the hearing's end) is a gap with the source's reason, so that positions stay the hearing's.
Only the time after a recess is `recess` (the court record prints 休庭 for it, 录音中断 for the rest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from capture.errors import SourceError
from capture.manifest import read_entries
from capture.pipeline import PipelineOptions, run_capture
from capture.recorder import RECESS_GAP, SOURCE_ENDED_GAP, Recorder, RecorderOptions
from capture.replay import ArraySource, ReplaySource
from capture.types import AudioChunk
from capture.verify import verify_recording

RATE = 16000
BLOCK = RATE // 10
OPTIONS = RecorderOptions(segment_seconds=1.0)


def _chunks(t0: float, seconds: float) -> AsyncIterator[AudioChunk]:
    """``seconds`` of two-channel audio, each block stamped as captured from ``t0`` on (as a device does)."""

    async def chunks() -> AsyncIterator[AudioChunk]:
        for first in range(0, round(seconds * RATE), BLOCK):
            yield AudioChunk(np.full((BLOCK, 2), 0.1, np.float32), RATE, first, t0 + first / RATE)

    return chunks()


def _recorder(directory: Path) -> Recorder:
    return Recorder(directory, RATE, 2, OPTIONS, on_event=lambda event: None)  # (reported to no closed loop)


def _gaps(directory: Path) -> list[tuple[int, int, str]]:
    return [(e["first_sample"], e["frames"], e["reason"]) for e in read_entries(directory) if e["type"] == "gap"]


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_a_source_that_ended_before_a_recess_is_a_gap_of_its_own_and_the_recess_only_what_follows(
        tmp_path: Path, speed: float) -> None:
    """The hearing's file ended, the hearing went on, the judge called a recess and went on after it: the resume
    noted all of it, from the end of the file, as the recess. (A file replayed faster than real time, its
    blocks stamped at its pace: the recess, measured from its last segment's stamp, came out short or not at
    all.)"""
    recorder = _recorder(tmp_path)
    source = ReplaySource(ArraySource(np.full((RATE, 2), 0.1, np.float32), RATE), speed=speed)  # 1 s of audio
    outcome = asyncio.run(run_capture(lambda: source, recorder, options=PipelineOptions(retry=False)))
    ended = time.time()
    assert outcome.ended and recorder.next_sample == RATE
    time.sleep(1.0)  # the hearing goes on
    recorder.outage_until(ended + 1.0)  # the recess
    recorder.close()
    ((first, frames, reason),) = _gaps(tmp_path)
    assert (first, reason) == (RATE, SOURCE_ENDED_GAP) and frames == pytest.approx(RATE, abs=RATE / 20)
    time.sleep(0.5)
    final = Recorder(tmp_path, RATE, 2, OPTIONS, resume_reason=RECESS_GAP).finalize()  # the hearing goes on
    assert [(g.first_sample, g.frames, g.reason) for g in final.gaps] == [
        (RATE, frames, SOURCE_ENDED_GAP), (RATE + frames, pytest.approx(RATE / 2, abs=RATE / 5), RECESS_GAP)]
    assert verify_recording(tmp_path).ok


def test_a_device_that_failed_and_stayed_down_leaves_a_gap_up_to_the_stop(tmp_path: Path) -> None:
    """Unplugged after 1 s and never back: the recording ended at 1 s of a 5 s hearing, nothing said so."""
    t0 = time.time() - 5.0
    opened = 0

    def make_source() -> AsyncIterator[AudioChunk]:
        nonlocal opened
        opened += 1
        first = opened == 1

        async def chunks() -> AsyncIterator[AudioChunk]:
            if first:
                async for chunk in _chunks(t0, 1.0):
                    yield chunk
            raise SourceError("device unplugged")

        return chunks()

    async def capture(recorder: Recorder) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        await run_capture(make_source, recorder, stop=stop, options=PipelineOptions(retry_seconds=0.05))

    recorder = _recorder(tmp_path)
    asyncio.run(capture(recorder))
    assert opened > 1 and recorder.next_sample == RATE
    recorder.outage_until(t0 + 5.0)  # the stop
    recorder.outage_until(t0 + 7.0)  # (once: a close retried adds nothing)
    final = recorder.finalize()
    assert [(g.first_sample, g.frames, g.reason) for g in final.gaps] == [
        (RATE, 4 * RATE, "source failed: device unplugged")]
    assert final.duration_s == 5.0 and verify_recording(tmp_path).ok


def test_a_device_that_never_opened_is_a_recording_of_the_hearing_with_no_audio(tmp_path: Path) -> None:
    """It was an empty recording (duration 0, no gaps): the record did not say that nothing was recorded."""

    async def never() -> AsyncIterator[AudioChunk]:
        raise SourceError("no such device")
        yield  # (an async generator)

    async def capture(recorder: Recorder) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, stop.set)
        await run_capture(never, recorder, stop=stop, options=PipelineOptions(retry_seconds=0.05))

    began = time.time()
    recorder = _recorder(tmp_path)
    asyncio.run(capture(recorder))
    recorder.outage_until(began + 3.0)
    final = recorder.finalize()
    ((gap),) = final.gaps
    assert gap.first_sample == 0 and gap.reason == "source failed: no such device"
    assert gap.frames == pytest.approx(3 * RATE, abs=RATE / 10) and final.frames == gap.frames


def test_a_source_that_delivers_at_the_stop_leaves_no_gap(tmp_path: Path) -> None:
    async def live() -> AsyncIterator[AudioChunk]:
        first = 0
        while True:
            yield AudioChunk(np.zeros((BLOCK, 2), np.float32), RATE, first, time.time())
            first += BLOCK
            await asyncio.sleep(0)

    async def capture(recorder: Recorder) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, stop.set)
        await run_capture(live, recorder, stop=stop)

    recorder = _recorder(tmp_path)
    asyncio.run(capture(recorder))
    end = recorder.next_sample
    recorder.outage_until(time.time() + 60.0)
    assert recorder.finalize().gaps == () and recorder.next_sample == end
