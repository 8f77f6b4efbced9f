"""A courtroom of more than 8 seats (FLAC holds at most 8 channels) is recorded, resumed after a crash,
verified, finalized and excerpted like any other, losslessly in WAV; a segment libsndfile refuses to
encode is a write failure (held in memory, alarmed, retried), never the end of the capture."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.excerpt import read_excerpt
from capture.finalize import mix_down, seat_gains
from capture.manifest import read_entries
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk, CaptureEvent
from capture.verify import verify_recording
from tests.capture.record_child import RATE, hearing_audio

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = 12  # a three-judge panel, a clerk, counsel on both sides, witnesses


def child(out: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.capture.record_child", str(out), str(seconds), str(CHANNELS)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_twelve_channels_record_resume_after_a_crash_verify_and_finalize_bit_exact(tmp_path: Path) -> None:
    out = tmp_path / "hearing"
    proc = child(out, 8.0)
    assert proc.stdout is not None
    filed = 0
    for line in proc.stdout:  # 3.5 s filed: segment 0 written, segment 1 open
        if line.startswith("filed "):
            filed = int(line.split()[1])
            if filed >= int(3.5 * RATE):
                break
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the recorder died before it was killed"
    assert (out / "segments" / "000000.wav").is_file() and (out / "journal.wal").stat().st_size > 0

    second = child(out, 1.0)
    stdout, _ = second.communicate(timeout=60)
    assert second.returncode == 0, stdout
    assert "resumed=True" in stdout and "closed" in stdout

    entries = read_entries(out)
    segments = [e for e in entries if e["type"] == "segment"]
    assert segments and all(e["file"].endswith(".wav") for e in segments)
    assert any(e.get("recovered") for e in segments), "the journal's audio was not recovered"
    for e in segments:
        info = sf.info(out / e["file"])
        assert (info.format, info.subtype, info.channels) == ("WAVEX", "PCM_16", CHANNELS)
    assert verify_recording(out).ok
    cli = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "verify", str(out)], capture_output=True,
                         text=True, cwd=ROOT)
    assert cli.returncode == 0 and cli.stdout.startswith("OK"), cli.stdout + cli.stderr

    # The excerpt (what /excerpt serves) reads the WAV segments: the first 2 s are the hearing's mix.
    start = read_entries(out)[0]
    excerpt = read_excerpt(out, 0.0, 2.0)
    pcm = np.rint(hearing_audio(2.0, CHANNELS) * 32768).astype(np.int16)
    np.testing.assert_allclose(excerpt.mix, mix_down(pcm, seat_gains(start), 32768.0), atol=1e-6)

    final = Recorder.reopen_to_close(out).finalize()
    assert final.recording.path.name == "recording.wav" and final.channels == CHANNELS
    info = sf.info(final.recording.path)
    assert (info.format, info.subtype, info.channels) == ("RF64", "PCM_16", CHANNELS)
    assert [t.path.suffix for t in final.tracks] == [".flac"] * CHANNELS and final.mixdown.path.suffix == ".opus"
    assert verify_recording(out).ok and verify_recording(out).finalized

    # Every channel, bit for bit: what survived the kill, silence over the gap, the second run after it.
    audio, _ = sf.read(final.recording.path, dtype="int16", always_2d=True)
    assert audio.shape == (final.frames, CHANNELS)
    gap = next(e for e in entries if e["type"] == "gap")
    saved_end, resume_at = gap["first_sample"], gap["first_sample"] + gap["frames"]
    expected = np.rint(hearing_audio(8.0, CHANNELS) * 32768).astype(np.int16)
    np.testing.assert_array_equal(audio[:saved_end], expected[:saved_end])
    assert not audio[saved_end:resume_at].any()
    np.testing.assert_array_equal(audio[resume_at:], np.rint(hearing_audio(1.0, CHANNELS) * 32768).astype(np.int16))
    for c in (0, 11):
        track, _ = sf.read(final.tracks[c].path, dtype="int16")
        np.testing.assert_array_equal(track, audio[:, c])


def test_pcm24_twelve_channels_finalize_bit_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    audio = (rng.integers(-2_000_000, 2_000_000, size=(3 * RATE, CHANNELS)) / 8388608.0).astype(np.float32)
    recorder = Recorder(tmp_path / "hearing", RATE, CHANNELS, RecorderOptions(segment_seconds=1.0, subtype="PCM_24"))
    for first in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[first : first + RATE // 10], RATE, first, time.time()))
    final = recorder.finalize()
    whole, _ = sf.read(final.recording.path, dtype="int32", always_2d=True)
    np.testing.assert_array_equal(whole >> 8, np.rint(audio.astype(np.float64) * 8388608).astype(np.int32))


def test_a_segment_libsndfile_refuses_is_a_write_failure_not_the_end_of_the_capture(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[CaptureEvent] = []
    recorder = Recorder(tmp_path / "hearing", RATE, 4, RecorderOptions(segment_seconds=1.0, retry_seconds=0.0),
                        on_event=events.append)
    audio = hearing_audio(4.0)
    real_write = sf.write

    def refuse(*args: object, **kwargs: object) -> None:
        raise sf.LibsndfileError(1, "Error opening <_io.BytesIO>: ")  # "Format not recognised"

    monkeypatch.setattr(sf, "write", refuse)
    for first in range(0, 2 * RATE, RATE // 10):  # two segments close while libsndfile refuses
        recorder.write(AudioChunk(audio[first : first + RATE // 10], RATE, first, time.time()))
    failures = [e for e in events if e.kind == "write_error"]
    assert len(failures) == 1 and "Format not recognised" in failures[0].message
    assert recorder.held_seconds >= 2.0 - 0.1  # held in memory, not lost
    assert not [e for e in read_entries(tmp_path / "hearing") if e["type"] == "segment"]

    monkeypatch.setattr(sf, "write", real_write)
    for first in range(2 * RATE, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[first : first + RATE // 10], RATE, first, time.time()))
    assert "write_resumed" in [e.kind for e in events] and "gap" not in [e.kind for e in events]
    final = recorder.finalize()
    whole, _ = sf.read(final.recording.path, dtype="int16", always_2d=True)
    np.testing.assert_array_equal(whole, np.rint(audio * 32768).astype(np.int16))
