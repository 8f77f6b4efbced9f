"""A full disk (a real 1 MiB tmpfs): reported, the lost stretch recorded as a gap, writing resumes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from capture.manifest import read_entries
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk, CaptureEvent
from capture.verify import verify_recording

RATE = 16000


def test_full_disk_is_reported_recorded_as_gap_and_retried(small_disk: Path) -> None:
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 - 300 * 1024))  # leave ~300 KiB: about two segments
    events: list[CaptureEvent] = []
    options = RecorderOptions(segment_seconds=1.0, journal_seconds=0.5, max_pending_seconds=2.0, retry_seconds=0.0)
    recorder = Recorder(small_disk / "hearing", RATE, 4, options, on_event=events.append)
    rng = np.random.default_rng(5)
    audio = (0.3 * rng.standard_normal((12 * RATE, 4))).astype(np.float32)  # noise: FLAC barely compresses it
    block = RATE // 10
    for start in range(0, 8 * RATE, block):
        recorder.write(AudioChunk(audio[start : start + block], RATE, start, time.time()))  # never raises
    assert [e.kind for e in events].count("disk_full") == 1
    filler.unlink()  # the operator frees space
    for start in range(8 * RATE, len(audio), block):
        recorder.write(AudioChunk(audio[start : start + block], RATE, start, time.time()))
    recorder.close()
    print([(e.kind, round(e.time_s, 1), e.frames) for e in events])

    kinds = [e.kind for e in events]
    assert "write_resumed" in kinds and kinds.index("disk_full") < kinds.index("write_resumed")
    assert verify_recording(small_disk / "hearing").ok
    entries = read_entries(small_disk / "hearing")
    gaps = [e for e in entries if e["type"] == "gap"]
    assert gaps and all("disk full" in g["reason"] for g in gaps)
    segments = [e for e in entries if e["type"] == "segment"]
    covered = sum(e["frames"] for e in segments) + sum(g["frames"] for g in gaps)
    assert covered == len(audio)  # every frame is either stored or an explicit gap
    assert segments[0]["first_sample"] == 0 and segments[-1]["first_sample"] + segments[-1]["frames"] == len(audio)
    stored_before = [e for e in segments if e["first_sample"] < gaps[0]["first_sample"]]
    assert stored_before, "the audio before the disk filled up must be kept"
