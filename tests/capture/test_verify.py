"""Tamper detection: each kind of change to a recording is found, by the API and by the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from capture.errors import EmptyRecordingError, RecorderError
from capture.finalize import is_finalized, read_finalized
from capture.manifest import MANIFEST_NAME, ManifestWriter, chain_hash
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk
from capture.verify import verify_recording

RATE = 8000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed recording of six 0.5 s segments of distinct noise (3 channels)."""
    directory = tmp_path_factory.mktemp("rec") / "hearing"
    recorder = Recorder(directory, RATE, 3, RecorderOptions(segment_seconds=0.5))
    audio = (0.1 * np.random.default_rng(3).standard_normal((3 * RATE, 3))).astype(np.float32)
    for start in range(0, len(audio), 800):
        recorder.write(AudioChunk(audio[start : start + 800], RATE, start, time.time()))
    recorder.close()
    return directory


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hearing"
    shutil.copytree(pristine, target)
    return target


def lines(directory: Path) -> list[str]:
    return (directory / MANIFEST_NAME).read_text().splitlines()


def save(directory: Path, manifest: list[str]) -> None:
    (directory / MANIFEST_NAME).write_text("\n".join(manifest) + "\n")


def cli(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtroom_api.cli", "verify", str(directory), *extra],
                          capture_output=True, text=True)


def test_intact_recording_verifies(pristine: Path) -> None:
    result = verify_recording(pristine)
    assert result.ok and result.segments == 6 and not result.finalized
    out = cli(pristine)
    assert out.returncode == 0 and out.stdout.startswith("OK: 6 segments")


def test_a_path_that_is_no_recording_directory_is_said_not_reported_as_tampering(tmp_path: Path) -> None:
    """A mistyped path printed "BROKEN (corrupt): ... no manifest.jsonl", exit 1, as real tampering does."""
    (tmp_path / "file").write_text("")
    for path in (tmp_path / "nonexistent", tmp_path / "file"):
        out = cli(path)
        assert (out.returncode, out.stdout, out.stderr) == (2, "", f"courtroom verify: no recording directory at {path}\n")


def test_changed_segment(copy: Path) -> None:
    path = copy / "segments" / "000002.flac"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of audio
    path.write_bytes(bytes(data))
    result = verify_recording(copy)
    assert (result.ok, result.kind, result.index) == (False, "changed", 2)
    out = cli(copy)
    assert out.returncode == 1 and "BROKEN (changed)" in out.stdout and "segment 2" in out.stdout


def test_changed_manifest_entry(copy: Path) -> None:
    manifest = lines(copy)
    entry = json.loads(manifest[3])
    entry["frames"] -= 1  # claims a shorter segment, hash left as it was
    manifest[3] = json.dumps(entry)
    save(copy, manifest)
    result = verify_recording(copy)
    assert (result.kind, result.index) == ("changed", 2)


def test_removed_segment_file(copy: Path) -> None:
    (copy / "segments" / "000003.flac").unlink()
    result = verify_recording(copy)
    assert (result.kind, result.index) == ("removed", 3)


def test_removed_segment_and_its_entry(copy: Path) -> None:
    (copy / "segments" / "000003.flac").unlink()
    manifest = lines(copy)
    del manifest[4]  # line 0 is the start entry; segment 3 is line 4
    save(copy, manifest)
    result = verify_recording(copy)
    assert result.kind == "removed" and result.index == 4
    out = cli(copy)
    assert out.returncode == 1 and "BROKEN (removed)" in out.stdout


def test_inserted_segment_file(copy: Path) -> None:
    shutil.copy(copy / "segments" / "000001.flac", copy / "segments" / "000099.flac")
    result = verify_recording(copy)
    assert result.kind == "inserted" and "000099" in result.message


def test_inserted_entry_with_a_forged_chain(copy: Path) -> None:
    # A forger who knows the hashing inserts a segment after segment 1 and chains it properly;
    # the entry after it still points to segment 1.
    manifest = lines(copy)
    prev = json.loads(manifest[2])
    shutil.copy(copy / "segments" / "000001.flac", copy / "segments" / "000001b.flac")
    forged = dict(json.loads(manifest[2]), file="segments/000001b.flac", prev=prev["chain"])
    forged["chain"] = chain_hash(prev["chain"], forged)
    manifest.insert(3, json.dumps(forged))
    save(copy, manifest)
    result = verify_recording(copy)
    assert result.kind == "inserted", result
    out = cli(copy)
    assert out.returncode == 1 and "BROKEN (inserted)" in out.stdout


def test_reordered_entries(copy: Path) -> None:
    manifest = lines(copy)
    manifest[2], manifest[3] = manifest[3], manifest[2]
    save(copy, manifest)
    result = verify_recording(copy)
    assert result.kind == "reordered", result
    out = cli(copy)
    assert out.returncode == 1 and "BROKEN (reordered)" in out.stdout


def test_reordered_segment_files(copy: Path) -> None:
    a, b = copy / "segments" / "000001.flac", copy / "segments" / "000004.flac"
    tmp = copy / "swap"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    result = verify_recording(copy)
    assert (result.kind, result.index) == ("reordered", 1)


def test_unreadable_manifest(copy: Path) -> None:
    (copy / MANIFEST_NAME).write_text("not json\n")
    assert verify_recording(copy).kind == "corrupt"
    assert cli(copy).returncode == 1


def test_a_damaged_byte_in_the_manifest_is_corrupt_not_a_crash(copy: Path) -> None:
    """One byte that is not UTF-8 (a bad sector): reported as corrupt, by verify and by the server's
    restart, which then resumes its other hearings (it used to stop at a UnicodeDecodeError)."""
    raw = bytearray((copy / MANIFEST_NAME).read_bytes())
    raw[40] = 0xFF
    (copy / MANIFEST_NAME).write_bytes(bytes(raw))
    assert verify_recording(copy).kind == "corrupt"
    assert not is_finalized(copy)
    done = cli(copy)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_finalized_files_are_covered(copy: Path) -> None:
    assert not is_finalized(copy) and not is_finalized(copy / "nowhere")
    final = Recorder(copy, RATE, 3).finalize()  # a resumed recorder can finalize
    assert verify_recording(copy).ok and verify_recording(copy).finalized and is_finalized(copy)
    assert read_finalized(copy) == final  # what a later filing reads back from the manifest
    track = final.tracks[1].path
    track.write_bytes(track.read_bytes()[:-10])
    result = verify_recording(copy)
    assert result.kind == "changed" and track.name in result.message
    with pytest.raises(RecorderError, match="not a verified, finalized recording"):
        read_finalized(copy)  # a changed file is never filed


def test_uncommitted_next_segment_left_by_a_crash_is_not_an_insertion(copy: Path) -> None:
    # A crash after a segment file's rename but before its manifest entry leaves segment 6's file.
    shutil.copy(copy / "segments" / "000005.flac", copy / "segments" / "000006.flac")
    assert verify_recording(copy).ok


def test_a_recording_without_audio_is_not_finalized_into_unreadable_files(tmp_path: Path) -> None:
    # A hearing started and stopped before any audio arrived: a 0-byte FLAC and a malformed Opus
    # used to be written, hashed and reported OK.
    directory = tmp_path / "hearing"
    with pytest.raises(EmptyRecordingError, match="holds no audio") as raised:
        Recorder(directory, RATE, 2, RecorderOptions(seats=("judge", "clerk"))).finalize()
    assert not (directory / "final").exists() or not any((directory / "final").iterdir())
    check = verify_recording(directory)
    assert check.ok and not check.finalized and not is_finalized(directory)
    assert raised.value.chain_head == check.chain_head


def test_the_head_verify_prints_is_accepted_back_and_a_cut_tail_is_not(copy: Path) -> None:
    out = cli(copy)
    head = out.stdout.strip().rsplit("head ", 1)[1]
    assert head == verify_recording(copy).chain_head  # the whole head, as the dossier keeps it
    for given in (head, head[:16], head[:16].upper()):
        checked = cli(copy, "--head", given)
        assert checked.returncode == 0 and checked.stdout.startswith("OK"), (given, checked.stdout)
    too_short = cli(copy, "--head", head[:15])
    assert too_short.returncode == 2 and "at least 16 hex digits" in too_short.stderr
    save(copy, lines(copy)[:-1])  # the tail cut off: an intact chain, but not the dossier's head
    cut = cli(copy, "--head", head[:16])
    assert cut.returncode == 1 and "BROKEN (removed)" in cut.stdout


def append_forged(directory: Path) -> None:
    """One entry appended at the end, chained correctly: what someone with the files could add."""
    head = json.loads(lines(directory)[-1])["chain"]
    end = sum(e["frames"] for e in map(json.loads, lines(directory)) if e["type"] in ("segment", "gap"))
    ManifestWriter(directory, head).append({"type": "gap", "first_sample": end, "frames": RATE, "reason": "x"})


def test_an_entry_after_the_final_one_is_an_insertion(copy: Path) -> None:
    # It passed: only the last entry was taken for the final one, and nothing refused what follows it.
    final = Recorder(copy, RATE, 3).finalize()
    append_forged(copy)
    result = verify_recording(copy)
    assert (result.ok, result.kind, result.finalized) == (False, "inserted", True)
    assert "follows the final entry" in result.message
    for extra in ((), ("--head", final.chain_head)):
        out = cli(copy, *extra)
        assert out.returncode == 1 and "BROKEN (inserted)" in out.stdout, out.stdout
        assert f"manifest line {len(lines(copy))} was inserted: it follows the final entry" in out.stdout
    with pytest.raises(RecorderError, match="not a verified, finalized recording"):
        read_finalized(copy)


def test_entries_appended_after_the_expected_head_are_named_as_added_not_removed(copy: Path) -> None:
    # --head of an earlier entry said "entries were removed from the end" when one was added.
    head = verify_recording(copy).chain_head
    append_forged(copy)
    assert verify_recording(copy).ok  # an open recording may grow: only the kept head tells
    out = cli(copy, "--head", head)
    assert out.returncode == 1, out.stdout
    assert out.stdout.startswith("BROKEN (inserted): 1 entry was appended after the expected head"), out.stdout
    assert f"gap entry at manifest line {len(lines(copy))}" in out.stdout
    result = verify_recording(copy, expected_head=head[:16].upper())
    assert (result.ok, result.kind) == (False, "inserted")


def test_an_empty_chunk_after_a_hole_records_the_gap_once(tmp_path: Path) -> None:
    # A source that delivers a 0-frame block after an overflow used to have the gap queued twice,
    # and the recording of the hearing failed to verify (BROKEN inserted) and to finalize.
    directory = tmp_path / "hearing"
    recorder = Recorder(directory, RATE, 2, RecorderOptions(segment_seconds=1.0))
    audio = (0.1 * np.random.default_rng(5).standard_normal((800, 2))).astype(np.float32)
    recorder.write(AudioChunk(audio, RATE, 0, time.time()))
    recorder.write(AudioChunk(audio[:0], RATE, 1600, time.time()))  # empty, after 800 frames lost
    recorder.write(AudioChunk(audio, RATE, 1600, time.time()))
    final = recorder.finalize()
    assert verify_recording(directory).ok
    assert [(g.first_sample, g.frames) for g in final.gaps] == [(800, 800)] and final.frames == 2400


def test_a_break_names_its_recording_time_and_a_changed_final_file_where_it_differs(tmp_path: Path) -> None:
    """After a gap a segment's number says little about when its audio was said; a changed final file
    was only "changed". Both now name the recording time (h:mm:ss) a reader can find in the hearing."""
    import soundfile as sf

    recorder = Recorder(tmp_path / "rec", RATE, 3, RecorderOptions(segment_seconds=1.0))
    audio = (0.1 * np.random.default_rng(7).standard_normal((5 * RATE, 3))).astype(np.float32)
    for start in range(0, len(audio), 800):  # 0-2 s, the source down for 3 s, then 5-8 s
        at = start if start < 2 * RATE else start + 3 * RATE
        recorder.write(AudioChunk(audio[start : start + 800], RATE, at, time.time()))
    final = recorder.finalize()
    whole = final.recording.path
    pcm, _ = sf.read(whole, dtype="int32", always_2d=True)
    pcm[int(6.5 * RATE) :, 1] = 0  # the last 1.5 s of one seat silenced
    sf.write(whole, pcm, RATE, subtype=sf.info(whole).subtype, format=sf.info(whole).format)
    result = verify_recording(tmp_path / "rec")
    assert result.kind == "changed" and whole.name in result.message
    assert "first differs from the segments at 0:00:06, in segment 3 (segments/000003.flac, 0:00:06–0:00:07" \
        in result.message, result.message
    segment = tmp_path / "rec" / "segments" / "000003.flac"
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    result = verify_recording(tmp_path / "rec")
    assert (result.kind, result.index) == ("changed", 3)
    assert "segment 3 (segments/000003.flac, 0:00:06–0:00:07) was changed" in result.message, result.message


def test_a_final_file_cut_short_says_where_it_ends(tmp_path: Path) -> None:
    """A final recording cut at 3 s of an 8 s hearing whose 3 s were a gap read "first differs at 0:00:03,
    in a gap" (found in review): it says where it ends, and where the recording does."""
    import soundfile as sf

    recorder = Recorder(tmp_path / "rec", RATE, 2, RecorderOptions(segment_seconds=1.0))
    audio = (0.1 * np.random.default_rng(8).standard_normal((5 * RATE, 2))).astype(np.float32)
    for start in range(0, len(audio), 800):
        at = start if start < 3 * RATE else start + 3 * RATE
        recorder.write(AudioChunk(audio[start : start + 800], RATE, at, time.time()))
    whole = recorder.finalize().recording.path
    pcm, _ = sf.read(whole, dtype="int32", always_2d=True)
    sf.write(whole, pcm[: 3 * RATE], RATE, subtype=sf.info(whole).subtype, format=sf.info(whole).format)
    result = verify_recording(tmp_path / "rec")
    assert result.kind == "changed" and "it ends at 0:00:03, before the recording's end (0:00:08)" in result.message, \
        result.message
