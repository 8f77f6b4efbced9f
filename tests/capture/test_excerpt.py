"""Excerpts of a recording still being made: what is on disk, what the live recorder holds in memory
(its open segment, closed segments a full disk refused), gaps as silence, one mix of the seats."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.errors import (
    ExcerptSourceMissingError,
    NotRecordedError,
    SegmentAlteredError,
    SegmentMissingError,
)
from capture.excerpt import read_excerpt
from capture.manifest import read_entries
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk

RATE = 16000
GAINS_DB = (0.0, -6.0, 3.0, -2.0)


def _options(segment_seconds: float, **values) -> RecorderOptions:  # type: ignore[no-untyped-def]
    return RecorderOptions(segment_seconds=segment_seconds, journal_seconds=0.2, seats=("judge", "clerk", "plaintiff",
                           "defendant"), gains_db=GAINS_DB, **values)


def _noise(seconds: float, seed: int) -> np.ndarray:
    """(frames, 4) float32: a different level on each seat, so a wrong gain or a misplaced piece shows."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((round(seconds * RATE), 4)) * [0.05, 0.1, 0.02, 0.2]).astype(np.float32)


def _write(recorder: Recorder, audio: np.ndarray, first: int, block: int = RATE // 10) -> None:
    for at in range(0, len(audio), block):
        recorder.write(AudioChunk(audio[at : at + block], RATE, first + at, time.time()))


def _heard(audio: np.ndarray) -> np.ndarray:
    """What the listening mix of ``audio`` must be: the 16-bit values the recording keeps, each seat at
    its gain, summed over the seats and divided by the square root of their number."""
    stored = np.clip(np.rint(audio.astype(np.float64) * 32768.0), -32768, 32767) / 32768.0
    return stored @ (10.0 ** (np.asarray(GAINS_DB) / 20.0)) / 2.0


def _segments(directory: Path) -> list[tuple[int, int]]:
    return [(e["first_sample"], e["frames"]) for e in read_entries(directory) if e["type"] == "segment"]


def test_an_excerpt_is_the_mix_of_the_written_segments_and_of_what_is_still_in_memory(tmp_path: Path) -> None:
    out = tmp_path / "hearing"
    recorder = Recorder(out, RATE, 4, _options(1.0))
    first, second = _noise(2.5, 1), _noise(0.7, 2)
    _write(recorder, first, 0)  # 0-2.5 s: two segments closed, half a second open
    _write(recorder, second, 3 * RATE)  # the source was away 2.5-3 s: a gap; 3-3.7 s open, only in memory
    assert _segments(out) == [(0, RATE), (RATE, RATE), (2 * RATE, RATE // 2)]
    assert [(e["first_sample"], e["frames"]) for e in read_entries(out) if e["type"] == "gap"] == [(2.5 * RATE, RATE // 2)]

    excerpt = read_excerpt(out, 0.5, 4.5, recorder)
    assert excerpt.sample_rate == RATE and excerpt.first_sample == RATE // 2 and len(excerpt.mix) == 4 * RATE
    want = np.zeros(4 * RATE)
    want[: 2 * RATE] = _heard(first[RATE // 2 :])  # 0.5-2.5 s, from three segment files
    want[int(2.5 * RATE) : int(3.2 * RATE)] = _heard(second)  # 3-3.7 s, from the recorder's memory
    np.testing.assert_allclose(excerpt.mix, want, atol=1e-6)  # the gap and 3.7-4.5 s (not yet recorded): silence

    wav, rate = sf.read(io.BytesIO(excerpt.wav()), dtype="int16")
    info = sf.info(io.BytesIO(excerpt.wav()))
    assert (rate, info.channels, info.subtype, info.format) == (RATE, 1, "PCM_16", "WAV")
    assert np.abs(wav.astype(np.int64) - np.rint(want * 32768)).max() <= 1

    # Without the recorder the last line said would be silent: it is not on disk yet.
    assert not read_excerpt(out, 2.0, 3.7).mix[RATE:].any()
    # A sealed line's span is silenced in the excerpt, nothing around it.
    quiet = excerpt.silenced([(1.0, 1.5)]).mix
    assert not quiet[RATE // 2 : RATE].any() and np.array_equal(quiet[RATE:], excerpt.mix[RATE:])

    with pytest.raises(NotRecordedError, match="nothing from 3.80 s on has been recorded yet"):
        read_excerpt(out, 3.8, 5.0, recorder)
    recorder.close()  # everything on disk now: the same excerpt, from the files alone
    np.testing.assert_allclose(read_excerpt(out, 0.5, 4.5).mix, want, atol=1e-6)


def test_a_segment_file_that_changed_or_went_is_never_served(tmp_path: Path) -> None:
    out = tmp_path / "hearing"
    recorder = Recorder(out, RATE, 4, _options(1.0))
    _write(recorder, _noise(2.0, 3), 0)
    recorder.close()
    segment = out / "segments" / "000001.flac"
    data = bytearray(segment.read_bytes())
    data[-10] ^= 0xFF  # one damaged byte in the audio frames
    segment.write_bytes(bytes(data))
    assert read_excerpt(out, 0.0, 1.0).mix.any()  # the first second does not need that file
    with pytest.raises(SegmentAlteredError, match="000001.flac .* does not match the sha256") as altered:
        read_excerpt(out, 0.5, 1.5)
    segment.unlink()
    # A file that went is told apart from a recording not made yet, by the time it held; the messages
    # name no server path (an API answers with them).
    with pytest.raises(SegmentMissingError, match="000001.flac is no longer in hearing: the recording's "
                       "0:00:01–0:00:02 cannot be heard") as missing:
        read_excerpt(out, 0.5, 1.5)
    with pytest.raises(ExcerptSourceMissingError, match="holds no recording") as none:
        read_excerpt(tmp_path / "never-recorded", 0.0, 1.0)
    assert not isinstance(none.value, SegmentMissingError)
    assert not [e for e in (altered, missing, none) if str(tmp_path) in str(e.value)]


@pytest.mark.parametrize("manifest", [b"", b'{"type": "start", "sample_ra'])
def test_a_recording_whose_start_was_never_written_is_not_recorded_yet(tmp_path: Path, manifest: bytes) -> None:
    """A first manifest write refused by a full disk or torn by a crash: it was an IndexError (a 500)."""
    (tmp_path / "manifest.jsonl").write_bytes(manifest)
    with pytest.raises(NotRecordedError, match="has not written its start"):
        read_excerpt(tmp_path, 0.0, 1.0)


def test_closed_segments_a_full_disk_refused_are_heard_from_memory(small_disk: Path, fill_disk) -> None:  # type: ignore[no-untyped-def]
    out = small_disk / "hearing"
    recorder = Recorder(out, RATE, 4, _options(0.5, max_pending_seconds=10.0, retry_seconds=0.0))
    before, during = _noise(1.0, 4), _noise(1.7, 5)
    _write(recorder, before, 0)
    filler = fill_disk(small_disk)
    _write(recorder, during, RATE)  # three segments closed but refused by the disk, 0.2 s open
    assert _segments(out) == [(0, RATE // 2), (RATE // 2, RATE // 2)]
    want = _heard(np.concatenate([before, during]))
    np.testing.assert_allclose(read_excerpt(out, 0.0, 2.7, recorder).mix, want, atol=1e-6)
    filler.unlink()
    recorder.close()
    assert _segments(out)[-1] == (2.5 * RATE, 0.2 * RATE)
    np.testing.assert_allclose(read_excerpt(out, 0.0, 2.7).mix, want, atol=1e-6)


def test_excerpts_taken_while_segments_are_written_miss_nothing(tmp_path: Path) -> None:
    """The recorder writes in its worker thread while a listener takes excerpts: a segment that moves from
    memory to disk meanwhile is found in one or the other, never in neither (a silent hole)."""
    out = tmp_path / "hearing"
    recorder = Recorder(out, RATE, 4, _options(0.045))  # a segment file every 45 ms (4.5 chunks)
    audio = _noise(2.0, 6)
    want = _heard(audio)
    def paced() -> None:  # at the pace of a live room, so excerpts overlap the writes however slow the host
        for at in range(0, len(audio), RATE // 100):
            recorder.write(AudioChunk(audio[at : at + RATE // 100], RATE, at, time.time()))
            time.sleep(0.01)

    writer = threading.Thread(target=paced)
    writer.start()
    taken = 0
    while writer.is_alive() or not taken:
        try:
            mix = read_excerpt(out, 0.0, 2.0, recorder).mix
        except NotRecordedError:
            continue
        reached = int(np.flatnonzero(mix)[-1]) + 1  # (noise: no recorded sample is exactly 0)
        np.testing.assert_allclose(mix[:reached], want[:reached], atol=1e-6)
        taken += 1
    writer.join()
    recorder.close()
    assert taken >= 5, taken
