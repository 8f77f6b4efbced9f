"""A recorder killed with SIGKILL mid-hearing loses at most about a second; the restart continues."""

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

from capture.manifest import read_entries
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk
from capture.verify import verify_recording
from tests.capture.record_child import RATE, hearing_audio

ROOT = Path(__file__).resolve().parents[2]


def child(out: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.capture.record_child", str(out), str(seconds)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_sigkill_loses_at_most_a_second_and_the_recording_continues(tmp_path: Path) -> None:
    out = tmp_path / "hearing"
    proc = child(out, 8.0)
    assert proc.stdout is not None
    filed = 0
    for line in proc.stdout:  # wait until 3.5 s are filed: segment 0 closed, segment 1 open
        if line.startswith("filed "):
            filed = int(line.split()[1])
            if filed >= int(3.5 * RATE):
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "journal.wal").stat().st_size > 0
    killed_at = time.time()

    second = child(out, 1.0)
    stdout, _ = second.communicate(timeout=60)
    assert second.returncode == 0, stdout
    assert "resumed=True" in stdout

    entries = read_entries(out)
    recovered = [e for e in entries if e["type"] == "segment" and e.get("recovered")]
    assert recovered, "the journal's audio was not recovered"
    saved_end = recovered[-1]["first_sample"] + recovered[-1]["frames"]
    lost_s = (filed - saved_end) / RATE
    print(f"SIGKILL at {filed / RATE:.2f} s filed: {lost_s:.2f} s lost")
    assert lost_s <= 1.0 + 0.1, f"lost {lost_s:.2f} s"  # journal_seconds plus one chunk
    gap = next(e for e in entries if e["type"] == "gap")
    assert gap["first_sample"] == saved_end and "restarted" in gap["reason"]
    assert gap["frames"] / RATE >= time.time() - killed_at - 60  # wall time between kill and restart
    assert verify_recording(out).ok

    # What survived is exactly what was played, and the second run's audio follows the gap.
    from capture.recorder import Recorder

    final = Recorder(out, RATE, 4).finalize()
    audio, _ = sf.read(final.recording.path, dtype="float32", always_2d=True)
    expected = hearing_audio(8.0)
    np.testing.assert_array_equal(audio[:saved_end], expected[:saved_end])
    resume_at = gap["first_sample"] + gap["frames"]
    np.testing.assert_array_equal(audio[resume_at : resume_at + RATE], hearing_audio(1.0))
    assert np.all(audio[saved_end:resume_at] == 0)
    assert [g.reason for g in final.gaps][0].startswith("recorder restarted")


def test_a_recording_left_open_is_closed_with_its_journal_and_no_gap(tmp_path: Path) -> None:
    """After the hearing (a stop whose close failed, a process killed for good), the recording is closed
    where its audio ends: the journal's audio committed, no gap up to the time it is closed."""
    from capture.recorder import Recorder

    out = tmp_path / "hearing"
    proc = child(out, 8.0)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("filed ") and int(line.split()[1]) >= int(3.5 * RATE):
            filed = int(line.split()[1])
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "journal.wal").stat().st_size > 0
    time.sleep(1.0)  # the wall clock moves on; the recording must not

    final = Recorder.reopen_to_close(out).finalize()
    entries = read_entries(out)
    assert not [e for e in entries if e["type"] in ("gap", "resume")]
    recovered = [e for e in entries if e["type"] == "segment" and e.get("recovered")]
    assert recovered and final.frames == recovered[-1]["first_sample"] + recovered[-1]["frames"]
    assert (filed - final.frames) / RATE <= 1.0 + 0.1  # what the journal had not yet caught
    audio, _ = sf.read(final.recording.path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(audio, hearing_audio(8.0)[: final.frames])
    assert not (out / "journal.wal").exists() and verify_recording(out).finalized


def _record(recorder: Recorder, audio: np.ndarray, first: int = 0) -> None:
    for at in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[at : at + RATE // 10], RATE, first + at, time.time()))


def test_a_start_line_torn_by_a_power_cut_is_a_new_recording_and_its_bytes_are_kept(tmp_path: Path) -> None:
    """The power failed while the first manifest line was written: nothing was recorded (no audio before
    the start entry is on disk). The next start records from 0 s with no gap; it used to refuse every start
    ("manifest does not start with a courtroom-recording/1 start entry") until files were deleted by hand."""
    from capture.errors import RecorderError

    out = tmp_path / "hearing"
    out.mkdir()
    torn = b'{"chain":"5e0b","channels":4,"format":"courtroom-recording/1","gains_db":[0.0,0.0,0.0,0'
    (out / "manifest.jsonl").write_bytes(torn)
    with pytest.raises(RecorderError, match="nothing was recorded"):  # nothing there to close either
        Recorder.reopen_to_close(out)
    recorder = Recorder(out, RATE, 4)
    assert not recorder.resumed and recorder.next_sample == 0
    _record(recorder, hearing_audio(1.5))
    final = recorder.finalize()
    entries = read_entries(out)
    assert entries[0]["type"] == "start" and not [e for e in entries if e["type"] in ("gap", "resume")]
    assert final.frames == int(1.5 * RATE) and verify_recording(out).ok
    (kept,) = out.glob("manifest.jsonl.torn-*")  # the torn bytes are evidence too: kept, not destroyed
    assert kept.read_bytes() == torn


def test_a_torn_last_line_is_kept_beside_the_manifest_when_the_recording_resumes(tmp_path: Path) -> None:
    """A crash in the middle of a segment's manifest entry: the resume cuts the line (the journal still
    holds that audio) and keeps its bytes beside the manifest."""
    out = tmp_path / "hearing"
    recorder = Recorder(out, RATE, 4, RecorderOptions(segment_seconds=0.5))
    _record(recorder, hearing_audio(1.2))
    recorder.journal.sync()  # then the process dies in the middle of a manifest append
    torn = b'{"chain":"77","file":"segments/000002.fl'
    with open(out / "manifest.jsonl", "ab") as f:
        f.write(torn)
    resumed = Recorder(out, RATE, 4, RecorderOptions(segment_seconds=0.5))
    assert resumed.resumed
    resumed.close()
    assert verify_recording(out).ok
    (kept,) = out.glob("manifest.jsonl.torn-*")
    assert kept.read_bytes() == torn


def test_only_a_new_recording_that_recorded_nothing_is_discarded(tmp_path: Path) -> None:
    """A hearing's start that fails after its recorder opened leaves no recording behind (the next start
    would resume it: a gap "after a crash" at 0:00). One that holds audio, or a resumed one, is evidence:
    kept, whole."""
    empty = tmp_path / "empty"
    assert Recorder(empty, RATE, 4).discard() and not empty.exists()
    kept = tmp_path / "kept"
    (kept / "unfiled-finals.jsonl").parent.mkdir()
    (kept / "unfiled-finals.jsonl").write_text("{}\n")  # not the recorder's: the directory stays, with it
    assert Recorder(kept, RATE, 4).discard() and sorted(p.name for p in kept.iterdir()) == ["unfiled-finals.jsonl"]

    spoken = tmp_path / "spoken"
    recorder = Recorder(spoken, RATE, 4)
    _record(recorder, hearing_audio(0.5))
    assert not recorder.discard()
    recorder.close()
    resumed = Recorder(spoken, RATE, 4)
    assert not resumed.discard()  # resumed: never
    resumed.close()
    final = Recorder.reopen_to_close(spoken).finalize()
    audio, _ = sf.read(final.recording.path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(audio[: RATE // 2], hearing_audio(0.5))
