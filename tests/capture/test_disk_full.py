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


def _fill(directory: Path) -> Path:
    """Fill the disk to the last byte (a recording run into a full disk)."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_the_disk_reserve_is_given_up_for_the_recording_when_the_disk_fills(tmp_path: Path, tmpfs) -> None:
    """A full disk held the audio in memory for max_pending_seconds, then recorded gaps; a process killed
    meanwhile lost what it held. With a reserve on the disk, the first refused write gives it up and
    the audio goes on being stored: no gap, the clerk told to free space. Without one, gaps (as before)."""
    from capture.reserve import NAME, DiskReserve

    rng = np.random.default_rng(5)
    audio = (0.3 * rng.standard_normal((6 * RATE, 4))).astype(np.float32)  # ~0.7 MB as FLAC: inside 1 MiB
    block = RATE // 10
    kept: dict[bool, tuple[list[dict], list[CaptureEvent]]] = {}
    for with_reserve in (True, False):
        disk = tmpfs(tmp_path / f"disk-{with_reserve}", "4m")
        reserve = DiskReserve(disk, 1024 * 1024 if with_reserve else 0)
        assert reserve.ensure() is with_reserve and (disk / NAME).exists() is with_reserve
        events: list[CaptureEvent] = []
        options = RecorderOptions(segment_seconds=1.0, journal_seconds=0.5, max_pending_seconds=2.0, retry_seconds=0.0)
        recorder = Recorder(disk / "hearing", RATE, 4, options, on_event=events.append, reserve=reserve)
        _fill(disk)  # (the hearing under way when the disk fills)
        for start in range(0, len(audio), block):
            recorder.write(AudioChunk(audio[start : start + block], RATE, start, time.time()))
        if with_reserve:
            recorder.close()
            assert verify_recording(disk / "hearing").ok
        kept[with_reserve] = (read_entries(disk / "hearing"), events)
        assert not (disk / NAME).exists()

    entries, events = kept[True]
    assert [e for e in entries if e["type"] == "gap"] == []
    assert sum(e["frames"] for e in entries if e["type"] == "segment") == len(audio)  # every second stored
    (full,) = [e for e in events if e.kind == "disk_full"]
    assert "reserve (1 MiB) was given up" in full.message and "free space now" in full.message
    _, events = kept[False]
    assert [e for e in events if e.kind == "gap"]  # (the peer: held audio dropped for the full disk)


def test_a_hearing_opened_on_a_full_disk_starts_in_the_reserves_room(tmp_path: Path, tmpfs) -> None:
    from capture.reserve import DiskReserve

    disk = tmpfs(tmp_path / "disk", "4m")
    reserve = DiskReserve(disk, 1024 * 1024)
    assert reserve.ensure()
    _fill(disk)
    recorder = Recorder(disk / "hearing", RATE, 4, RecorderOptions(segment_seconds=1.0), reserve=reserve)
    audio = np.zeros((2 * RATE, 4), np.float32)
    recorder.write(AudioChunk(audio, RATE, 0, time.time()))
    recorder.close()
    assert verify_recording(disk / "hearing").ok and reserve.held_bytes == 0
    assert reserve.ensure() is False  # (made again only when the disk has room for it twice)


def test_the_server_keeps_the_configured_reserve_on_the_recordings_disk(tmp_path: Path) -> None:
    from courtroom_api.config import Settings
    from courtroom_api.services import build_services

    services = build_services(Settings(data_dir=tmp_path / "data", capture={"disk_reserve_mb": 2}))
    try:
        reserve = tmp_path / "data" / "recordings" / ".disk-reserve"
        assert reserve.stat().st_size == 2 * 2**20 and reserve.stat().st_blocks * 512 >= 2 * 2**20  # (allocated)
        assert services.reserve.held_bytes == 2 * 2**20
    finally:
        services.engine.dispose()
