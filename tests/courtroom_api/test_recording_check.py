"""`courtroom recordings verify`: the filed copies the court serves are re-hashed against the dossier,
the recording's manifest and the audit log; a changed or missing one is named, exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from capture.manifest import MANIFEST_NAME, ManifestWriter, read_entries
from capture.recorder import Recorder, RecorderOptions
from capture.types import AudioChunk
from courtroom_api.config import get_settings

RATE = 16000


@dataclass
class Filed:
    env: dict[str, str]
    services: object
    hearing_id: int
    recording_id: int
    directory: Path


def _record(directory: Path, seconds: float, hz: float) -> object:
    recorder = Recorder(directory, RATE, 2, RecorderOptions(seats=("judge", "plaintiff")))
    t = np.arange(int(seconds * RATE)) / RATE
    audio = np.stack([0.3 * np.sin(2 * np.pi * hz * t), 0.2 * np.sin(2 * np.pi * 1.5 * hz * t)], axis=1)
    audio = audio.astype(np.float32)  # (frames, channels)
    for start in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[start:start + RATE // 10], RATE, start, time.time()))
    return recorder.finalize()


def _file_hearing(services, case_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from courtroom_api.live.filing import file_recording
    from models import Hearing, Recording
    from models.enums import HearingStatus

    with services.write_sessions() as s:
        hearing = Hearing(case_id=case_id, status=HearingStatus.ENDED)
        s.add(hearing)
        s.flush()
        recording = Recording(hearing_id=hearing.id, sample_rate=RATE, channel_count=2, channel_layout=[
            {"channel": 0, "seat": "judge", "role": "judge"}, {"channel": 1, "seat": "plaintiff", "role": None}])
        s.add(recording)
        s.commit()
        hid, rid = hearing.id, recording.id
    final = _record(services.settings.hearing_recording_dir(hid), 3.0, 220.0 * hid)  # blobs of their own
    file_recording(services, hid, rid, final)
    return hid, rid


@pytest.fixture
def filed(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A SQLite dossier with two ended hearings, each with its recording filed as a stop files it."""
    from courtroom_api.services import build_services
    from models import Case
    from models.db import upgrade

    url = f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
    upgrade(url)
    services = build_services(get_settings(data_dir=tmp_path, database={"url": url}))
    with services.write_sessions() as s:
        case = Case(case_number="(2026)核验1号")
        s.add(case)
        s.commit()
        case_id = case.id
    _file_hearing(services, case_id)
    hid, rid = _file_hearing(services, case_id)
    env = {**os.environ, "COURTROOM_DATA_DIR": str(tmp_path), "COURTROOM_DATABASE__URL": url}
    yield Filed(env, services, hid, rid, services.settings.hearing_recording_dir(hid))
    services.engine.dispose()


def verify(filed: Filed, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtroom_api.cli", "recordings", "verify", *extra],
                          capture_output=True, text=True, env=filed.env, timeout=120)


def _row(filed: Filed):  # type: ignore[no-untyped-def]
    from models import Recording

    with filed.services.sessions() as s:  # type: ignore[attr-defined]
        return s.get(Recording, filed.recording_id)


def _blob(filed: Filed, sha256: str) -> Path:
    path: Path = filed.services.blobs.path(sha256)  # type: ignore[attr-defined]
    os.chmod(path, 0o644)  # the store keeps them read-only; whoever changes one has the rights to
    return path


def test_intact_filed_recordings_verify(filed: Filed) -> None:
    out = verify(filed)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(": OK: 4 filed files as recorded (checked against its manifest") == 2, out.stdout
    assert out.stdout.rstrip().endswith("2 of 2 filed recordings as recorded")
    only = verify(filed, "--hearing", str(filed.hearing_id))
    assert only.returncode == 0 and only.stdout.count(": OK") == 1
    assert f"recording {filed.recording_id} of hearing {filed.hearing_id}: OK" in only.stdout


def test_a_hearing_that_does_not_exist_or_has_nothing_filed_is_said(filed: Filed) -> None:
    """`--hearing 999` (no such hearing) printed "0 of 0 filed recordings as recorded", exit 0, as if checked."""
    from models import Hearing
    from models.enums import HearingStatus

    out = verify(filed, "--hearing", "999")
    assert (out.returncode, out.stdout, out.stderr) == (2, "", "courtroom recordings verify: no hearing 999\n")
    with filed.services.write_sessions() as s:  # type: ignore[attr-defined]
        hearing = Hearing(case_id=1, status=HearingStatus.SCHEDULED)
        s.add(hearing)
        s.commit()
        hid = hearing.id
    out = verify(filed, "--hearing", str(hid))
    assert (out.returncode, out.stdout) == (0, f"hearing {hid} has no filed recordings\n"), out.stderr


def test_silence_written_over_the_served_recording_is_found(filed: Filed) -> None:
    # The hunter's case: a second of the filed multi-channel FLAC silenced in the blob store. The court
    # served it (its ETag unchanged) and no check looked at it: `courtroom verify DIR` reads the
    # recording directory, `courtroom audit verify` the audit chain and signed records.
    path = _blob(filed, _row(filed).blob_sha256)
    audio, _ = sf.read(path, dtype="int16")
    audio[RATE:2 * RATE] = 0
    sf.write(path, audio, RATE, format="FLAC", subtype="PCM_16")
    out = verify(filed)
    assert out.returncode == 1, out.stdout + out.stderr
    name = f"recording {filed.recording_id} of hearing {filed.hearing_id}: BROKEN: "
    assert f"{name}the multi-channel recording was changed in the blob store: {path} hashes to" in out.stdout
    assert out.stdout.count("BROKEN") == 2 and "1 of 2 filed recordings as recorded; 1 BROKEN" in out.stdout
    assert verify(filed, "--hearing", str(filed.hearing_id - 1)).returncode == 0  # the other is intact


def test_a_missing_track_and_a_changed_mixdown_are_each_named(filed: Filed) -> None:
    layout = {e["seat"]: e["track_sha256"] for e in _row(filed).channel_layout}
    _blob(filed, layout["plaintiff"]).unlink()
    mixdown = _blob(filed, layout["mixdown"])
    mixdown.write_bytes(mixdown.read_bytes()[:-100])
    out = verify(filed)
    assert out.returncode == 1
    assert (f"the track of seat plaintiff (channel 1) is missing from the blob store (blob {layout['plaintiff']})"
            in out.stdout), out.stdout
    assert "BROKEN: the mixdown was changed in the blob store" in out.stdout
    assert "the track of seat judge" not in out.stdout


def test_a_dossier_pointed_at_another_file_disagrees_with_the_manifest_and_the_audit_log(filed: Filed) -> None:
    # Blob and row changed together (a silenced copy stored properly, the row set to its hash): the
    # blob hashes to its address, but the manifest's final entry and the filing's audit event say otherwise.
    from courtroom_api.blobstore import file_chunks
    from models import Recording

    row = _row(filed)
    audio, _ = sf.read(filed.services.blobs.path(row.blob_sha256), dtype="int16")  # type: ignore[attr-defined]
    audio[RATE:2 * RATE] = 0
    forged = filed.directory / "forged.flac"
    sf.write(forged, audio, RATE, format="FLAC", subtype="PCM_16")
    sha = filed.services.blobs.put_stream(file_chunks(forged)).sha256  # type: ignore[attr-defined]
    with filed.services.write_sessions() as s:  # type: ignore[attr-defined]
        s.get(Recording, filed.recording_id).blob_sha256 = sha
        s.commit()
    out = verify(filed)
    assert out.returncode == 1
    assert (f"the multi-channel recording: the dossier's sha256 {sha} is not the manifest's ({row.blob_sha256}, "
            "final/recording.flac)") in out.stdout, out.stdout
    assert "is not the one the audit log recorded at filing" in out.stdout


def test_the_recording_directory_is_verified_against_the_dossiers_head(filed: Filed) -> None:
    entries = read_entries(filed.directory)
    end = sum(e["frames"] for e in entries if e["type"] in ("segment", "gap"))
    ManifestWriter(filed.directory, entries[-1]["chain"]).append(
        {"type": "gap", "first_sample": end, "frames": RATE, "reason": "x"})
    out = verify(filed)
    assert out.returncode == 1
    assert f"BROKEN: its recording directory {filed.directory}: BROKEN (inserted)" in out.stdout, out.stdout


def test_an_unreadable_manifest_is_said_once(filed: Filed) -> None:
    manifest = filed.directory / MANIFEST_NAME
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text(lines[0] + "{not json\n" + "".join(lines[1:]))
    out = verify(filed)
    assert out.returncode == 1
    assert f"BROKEN: its recording directory {filed.directory}: BROKEN (corrupt)" in out.stdout, out.stdout
    assert "final entry" not in out.stdout  # nothing compared with a manifest that could not be read


def test_a_recording_directory_no_longer_here_is_said_and_fails_unless_the_dossier_alone_is_asked_for(
        filed: Filed) -> None:
    # It printed "OK … checked against the dossier only" and exit 0: its chain and manifest went unchecked.
    shutil.rmtree(filed.directory)
    out = verify(filed)
    assert out.returncode == 1, out.stdout
    name = f"recording {filed.recording_id} of hearing {filed.hearing_id}"
    assert (f"{name}: NO RECORDING DIRECTORY: it is neither at {filed.directory}: its chain and manifest are not "
            "checked (4 filed files as the dossier says)") in out.stdout, out.stdout
    assert f"{name}: OK" not in out.stdout and out.stdout.count(": OK: 4 filed files as recorded") == 1
    assert out.stdout.rstrip().endswith("1 of 2 filed recordings as recorded; 1 without their recording directory "
                                        "(--dossier-only checks those against the dossier alone)")
    out = verify(filed, "--hearing", str(filed.hearing_id), "--dossier-only")
    assert out.returncode == 0, out.stdout
    assert f"{name}: OK: 4 filed files as recorded (checked against the dossier only" in out.stdout
    _blob(filed, _row(filed).blob_sha256).write_bytes(b"not audio")
    out = verify(filed, "--hearing", str(filed.hearing_id), "--dossier-only")
    assert out.returncode == 1 and "the multi-channel recording was changed" in out.stdout


def test_a_moved_data_directory_s_recordings_are_still_verified(filed: Filed, tmp_path: Path) -> None:
    # The dossier keeps the path the recording was filed at; once the data directory moved, the check
    # found nothing there and passed the recording as OK "against the dossier only", its chain unchecked.
    moved = tmp_path / "moved"
    moved.mkdir()
    for child in [c for c in tmp_path.iterdir() if c != moved]:
        shutil.move(child, moved / child.name)
    env = {**filed.env, "COURTROOM_DATA_DIR": str(moved), "COURTROOM_DATABASE__URL": f"sqlite:///{moved / 'courtroom.sqlite3'}"}
    directory = moved / "recordings" / filed.directory.name
    entries = read_entries(directory)
    end = sum(e["frames"] for e in entries if e["type"] in ("segment", "gap"))
    ManifestWriter(directory, entries[-1]["chain"]).append({"type": "gap", "first_sample": end, "frames": RATE, "reason": "x"})
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "recordings", "verify"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"BROKEN: its recording directory {directory}: BROKEN (inserted)" in out.stdout, out.stdout
    assert out.stdout.count("checked against its manifest and recording directory") == 1  # the other, moved too


def test_audit_verify_names_the_recordings_check(filed: Filed) -> None:
    # `audit verify` checks the chain and the signed records, not the recordings: it says where they are checked.
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "audit", "verify"], capture_output=True,
                         text=True, env=filed.env, timeout=120)
    assert out.returncode == 0 and "courtroom recordings verify" in out.stdout, out.stdout
