"""Recordings a failed stop left out of the dossier are filed when the server next starts."""

from __future__ import annotations

import time

import numpy as np
from fastapi.testclient import TestClient

from capture.recorder import Recorder
from capture.types import AudioChunk
from courtroom_api.app import create_app
from courtroom_api.config import get_settings

RATE = 16000


def _record(directory, seconds: float, *, finalize: bool) -> None:
    recorder = Recorder(directory, RATE, 2)
    audio = (0.1 * np.random.default_rng(3).standard_normal((int(seconds * RATE), 2))).astype(np.float32)
    for start in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[start:start + RATE // 10], RATE, start, time.time()))
    if finalize:
        recorder.finalize()  # finalized, then the filing failed
    else:
        recorder.close()  # closed, then the finalize failed


def _ended_hearings(tmp_path, case_number: str, count: int):  # type: ignore[no-untyped-def]
    """A server's services on a fresh SQLite dossier with ``count`` ended hearings of one case, each with
    an unfiled recording row: (settings, services, [(hearing id, recording id)])."""
    from courtroom_api.services import build_services
    from models import Case, Hearing, Recording
    from models.db import upgrade
    from models.enums import HearingStatus

    url = f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
    settings = get_settings(data_dir=tmp_path, database={"url": url})
    upgrade(url)
    services = build_services(settings)
    with services.write_sessions() as s:
        case = Case(case_number=case_number)
        s.add(case)
        s.flush()
        hearings = [Hearing(case_id=case.id, status=HearingStatus.ENDED) for _ in range(count)]
        s.add_all(hearings)
        s.flush()
        recordings = [Recording(hearing_id=h.id, sample_rate=RATE, channel_count=2, channel_layout=[])
                      for h in hearings]
        s.add_all(recordings)
        s.commit()
        made = [(h.id, r.id) for h, r in zip(hearings, recordings, strict=True)]
    return settings, services, made


def test_the_server_files_recordings_left_unfiled_when_it_starts(tmp_path) -> None:
    from models import Case, Court, Hearing, Recording
    from models.db import make_engine, session_factory, upgrade
    from models.enums import HearingStatus

    url = f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
    settings = get_settings(data_dir=tmp_path, database={"url": url})
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        court = Court(code="P1", name="测试法院")
        s.add(court)
        s.flush()
        case = Case(court_id=court.id, case_number="(2026)测试9号")
        s.add(case)
        s.flush()
        hearings = [Hearing(case_id=case.id, status=status) for status in
                    (HearingStatus.ENDED, HearingStatus.ENDED, HearingStatus.SCHEDULED)]
        s.add_all(hearings)
        s.flush()
        recordings = [Recording(hearing_id=h.id, sample_rate=RATE, channel_count=2,
                                channel_layout=[{"channel": c, "seat": f"ch0{c}", "role": role}
                                                for c, role in enumerate(("judge", "clerk"))])
                      for h in hearings]
        s.add_all(recordings)
        s.commit()
        hids, rids = [h.id for h in hearings], [r.id for r in recordings]
    for hid, finalize in zip(hids, (True, False, False), strict=True):
        _record(settings.recordings_dir / f"hearing-{hid}", 2.0, finalize=finalize)

    with TestClient(create_app(settings)):
        pass  # the start-up sweep runs beside serving; the shutdown waits for it

    with session_factory(engine)() as s:
        done = {r.id: r for r in s.query(Recording).where(Recording.id.in_(rids))}
        for rid in rids[:2]:
            assert done[rid].finalized_at is not None and done[rid].blob_sha256, rid
            assert abs(done[rid].duration_s - 2.0) < 0.01
            assert [(e["seat"], e["role"]) for e in done[rid].channel_layout] == [
                ("ch00", "judge"), ("ch01", "clerk"), ("mixdown", None)]
        assert done[rids[2]].finalized_at is None  # not ended: not the sweep's to file
    engine.dispose()


def test_two_filings_at_once_file_a_recording_once_and_its_chain_holds(tmp_path) -> None:
    """The server's start-up sweep and `courtroom recordings file-pending` at the same moment: each
    recording is finalized and filed once (two "final" entries broke its tamper-evident chain)."""
    import threading

    from capture.manifest import read_entries
    from capture.verify import verify_recording
    from courtroom_api.live.filing import file_pending_recordings
    from models import AuditEvent

    settings, services, made = _ended_hearings(tmp_path, "(2026)测试10号", 3)
    hids = [hid for hid, _ in made]
    for hid in hids:
        _record(settings.recordings_dir / f"hearing-{hid}", 3.0, finalize=False)
    reports: list[list[str]] = []
    runs = [threading.Thread(target=lambda: reports.append(file_pending_recordings(services))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    lines = [line for report in reports for line in report]
    assert sum("filed (3.0 s)" in line for line in lines) == 3 and not any("NOT filed" in line for line in lines)
    for hid in hids:
        directory = settings.recordings_dir / f"hearing-{hid}"
        assert verify_recording(directory).ok
        assert [e["type"] for e in read_entries(directory)].count("final") == 1
    with services.sessions() as s:
        assert s.query(AuditEvent).filter(AuditEvent.action == "recording.finalize").count() == 3
    services.engine.dispose()


def test_a_hearing_stopped_before_any_audio_closes_its_recording_with_no_files(tmp_path) -> None:
    """No audio arrived: finalizing used to file a 0-byte FLAC and a malformed Opus as the hearing's
    recording. The row is closed with no files and a duration of 0, and the audit log says why."""
    from capture.verify import verify_recording
    from courtroom_api.live.filing import file_pending_recordings
    from models import AuditEvent, Recording

    settings, services, ((hid, rid),) = _ended_hearings(tmp_path, "(2026)测试11号", 1)
    directory = settings.recordings_dir / f"hearing-{hid}"
    _record(directory, 0.0, finalize=False)
    assert file_pending_recordings(services) == [f"recording {rid} of hearing {hid}: filed, no audio"]
    assert file_pending_recordings(services) == []  # closed: not pending again
    check = verify_recording(directory)
    with services.sessions() as s:
        row = s.get(Recording, rid)
        assert row.finalized_at is not None and row.blob_sha256 is None and row.duration_s == 0.0
        assert row.chain_head == check.chain_head and check.ok
        assert s.query(AuditEvent).filter(AuditEvent.action == "recording.empty").count() == 1
    services.engine.dispose()
