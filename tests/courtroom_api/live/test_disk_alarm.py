"""The clerk is warned that the recordings disk is running out, before audio is lost, and told when
space is back: the estimate, and a real server recording onto a real tmpfs that a filler file fills."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
import websockets
from live_server import PASSWORD, LiveServer

from courtroom_api.live.disk import DiskAlarm, recording_minutes_left

TONES = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "four_seats_tones.flac"
SPEECH = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "demo_hearing_22s.flac"
MIB = 2**20


def test_minutes_left_reserve_the_finalize_copies_of_what_is_recorded() -> None:
    rate = 16000 * 4 * 2  # 4 channels of 16-bit PCM at 16 kHz: 128,000 bytes a second
    assert recording_minutes_left(3 * rate * 600, rate, 0) == pytest.approx(10.0)
    # After 5 minutes recorded, 2 x 5 minutes of it are set aside for the finalize.
    assert recording_minutes_left(3 * rate * 600, rate, 300) == pytest.approx(10.0 - 2 * 5 / 3)
    assert recording_minutes_left(rate * 60, rate, 3600) == 0.0  # the finalize no longer fits


def test_alarm_is_raised_once_and_cleared_well_above_the_threshold() -> None:
    alarm = DiskAlarm(warn_minutes=60)
    assert alarm.update(50 * 2**30, 90.0) is None
    raised = alarm.update(10 * 2**30, 59.0)
    assert raised is not None and raised["active"] and raised["kind"] == "disk_low"
    assert raised["message"].startswith("recordings disk 10.0 GiB free: about 59 min of this hearing left")
    assert alarm.update(9 * 2**30, 40.0) is None  # still low: not raised again
    assert alarm.update(12 * 2**30, 70.0) is None  # above 60 but within the hysteresis: no flapping
    cleared = alarm.update(20 * 2**30, 80.0)
    assert cleared is not None and not cleared["active"]


def _small_disk_server(tmp_path, tmpfs, whisper_base, db_url: str | None = None,  # type: ignore[no-untyped-def]
                       **env: str):
    """A server whose recordings directory is a real 32 MiB disk (``db_url``: its database, a SQLite file
    by default; ``env``: more COURTROOM_* settings)."""
    tmpfs(tmp_path / "recordings", "32m")
    srv = LiveServer(tmp_path, db_url or f"sqlite:///{tmp_path / 'courtroom.sqlite3'}",
                     extra_env={"COURTROOM_TRANSCRIBE__MODEL": whisper_base, **env})
    assert srv.cli("db", "upgrade").returncode == 0
    for login in ("admin", "clerk"):
        assert srv.cli("users", "add", login, "--role", login, "--password", PASSWORD).returncode == 0
    srv.start()
    return srv


def _fresh_database(request: pytest.FixtureRequest, backend: str, directory: Path) -> str:
    """A new empty database of ``backend``: a SQLite file, or a PostgreSQL database dropped after the test."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'courtroom.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = request.getfixturevalue("pg_server_url")
    name = f"courtroom_disk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()

    request.addfinalizer(drop)
    return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgres"])
def recess_disk_server(request, tmp_path, tmpfs, whisper_base) -> LiveServer:
    """The disk server on a SQLite file and on PostgreSQL, as the recess's API tests run on both."""
    srv = _small_disk_server(tmp_path, tmpfs, whisper_base, _fresh_database(request, request.param, tmp_path),
                             COURTROOM_CAPTURE__DISK_WARN_MINUTES="0.5", COURTROOM_CAPTURE__DISK_CHECK_SECONDS="0.2")
    yield srv
    srv.stop()


@pytest.fixture
def disk_server(tmp_path, tmpfs, whisper_base) -> LiveServer:
    """Warned under half a minute left."""
    srv = _small_disk_server(tmp_path, tmpfs, whisper_base, COURTROOM_CAPTURE__DISK_WARN_MINUTES="0.5",
                             COURTROOM_CAPTURE__DISK_CHECK_SECONDS="0.2")
    yield srv
    srv.stop()


async def _new_hearing(srv: LiveServer, c: httpx.AsyncClient) -> int:
    """A court, a courtroom with the demo profile, a case and a hearing (``c`` is the clerk's client)."""
    admin = srv.token("admin")
    court = (await c.post("/api/courts", json={"code": "D1", "name": "磁盘法院"}, headers=admin)).json()
    room = (await c.post("/api/courtrooms", json={"court_id": court["id"], "name": "一庭", "profile_name": "demo"},
                         headers=admin)).json()
    case = (await c.post("/api/cases", json={"case_number": "(2026)磁1号", "court_id": court["id"]})).json()
    return int((await c.post(f"/api/cases/{case['id']}/hearings", json={"courtroom_id": room["id"]})).json()["id"])


async def _start_watched(srv: LiveServer, c: httpx.AsyncClient,
                         source: Path = TONES) -> tuple[int, list[dict], asyncio.Task]:
    """A new hearing replaying the tones (or ``source``) at real time; the clerk's live socket fills ``seen``
    until it ends."""
    hid = await _new_hearing(srv, c)
    seen: list[dict] = []

    async def follow() -> None:
        token = c.headers["Authorization"].split()[1]
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws/hearings/{hid}?token={token}") as ws:
            async for message in ws:
                seen.append(json.loads(message))
                if seen[-1]["type"] == "status" and seen[-1]["data"]["status"] == "ended":
                    return

    reader = asyncio.create_task(follow())
    await asyncio.sleep(0.3)  # connected before the start
    r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(source), "speed": 1})
    assert r.status_code == 200, r.text
    return hid, seen, reader


async def test_a_stop_on_a_full_disk_closes_the_hearing_and_the_server_files_every_second_once_space_is_back(
        disk_server, tmp_path, fill_disk) -> None:
    """The disk fills mid-hearing and is still full at the stop: the close and finalize fail, the hearing
    still closes and the clerk is told. The audio the disk refused was only in the server's memory (the
    journal stops too): it used to be dropped with the pipeline, and the recording filed later held only
    what reached the disk before it filled (15 s of a 20 s hearing lost without a gap). Now the server
    keeps it, no other filing touches the recording meanwhile, and once space is freed the server files
    the whole recording itself."""
    srv = disk_server
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid, seen, reader = await _start_watched(srv, c)
        await asyncio.sleep(2.5)  # 2.5 s recorded (2 s segments: one committed, one open)
        filler = fill_disk(tmp_path / "recordings")
        await asyncio.sleep(3.0)  # 3 s more while the disk refuses every write
        r = await c.post(f"/api/hearings/{hid}/stop")
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        await asyncio.wait_for(reader, 30)
        alarms = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "finalize_failed"]
        assert len(alarms) == 1 and alarms[0]["message"].startswith("the recording could not be finalized (")
        assert "written to the hearing's recording directory" in alarms[0]["message"]  # not the server's path
        assert "the server holds its last" in alarms[0]["message"] and str(tmp_path) not in alarms[0]["message"]
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        assert not rec["blob_sha256"]
        busy = srv.cli("recordings", "file-pending")  # the operator's sweep leaves the held recording alone
        assert busy.returncode == 0 and "left alone" in busy.stdout + busy.stderr, busy.stdout + busy.stderr
        filler.unlink()  # the operator frees space
        for _ in range(100):
            (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
            if rec["blob_sha256"]:
                break
            await asyncio.sleep(0.1)
        audit = (await c.get("/api/audit", params={"object": f"recording:{rec['id']}"},
                             headers=srv.token("admin"))).json()
        # The clerk's console, reconnecting after the last event it saw, is told the alarm is over.
        token = c.headers["Authorization"].split()[1]
        later: list[dict] = []
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws/hearings/{hid}?token={token}"
                                      f"&after={seen[-1]['seq']}") as ws:
            async for message in ws:
                later.append(json.loads(message))
    cleared = [e["data"] for e in later if e["type"] == "alarm" and e["data"]["kind"] == "finalize_failed"]
    assert cleared and cleared[-1]["active"] is False, later
    assert any(e["type"] == "status" and e["data"]["status"] == "recording_filed" for e in later), later
    assert rec["blob_sha256"] and 4.5 <= rec["duration_s"] <= 6.0, rec  # every second up to the stop (4.5: load)
    assert [e["action"] for e in audit][:2] == ["recording.finalize", "recording.finalize_failed"]
    assert audit[0]["details"]["gaps"] == 0  # nothing dropped: no gap either


@pytest.fixture
def reserve_server(tmp_path, tmpfs, whisper_base) -> LiveServer:
    """Keeping a 4 MiB reserve on its 32 MiB recordings disk (capture/reserve.py)."""
    srv = _small_disk_server(tmp_path, tmpfs, whisper_base, COURTROOM_CAPTURE__DISK_RESERVE_MB="4")
    yield srv
    srv.stop()


async def test_a_disk_that_fills_mid_hearing_gives_up_its_reserve_and_loses_no_second(
        reserve_server, tmp_path, fill_disk) -> None:
    """The disk fills mid-hearing: with the server's reserve on it, the recorder gives it up at the first
    refused write and stores on, the clerk told to free space; the recording filed at the stop holds every
    second with no gap (without it, the stop's close failed and the audio waited in memory)."""
    srv = reserve_server
    reserve = tmp_path / "recordings" / ".disk-reserve"
    assert reserve.stat().st_size == 4 * MIB
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid, seen, reader = await _start_watched(srv, c)
        await asyncio.sleep(2.5)
        filler = fill_disk(tmp_path / "recordings")
        await asyncio.sleep(3.0)  # 3 s more, stored in the reserve's room
        full = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "disk_full"]
        assert full and "reserve (4 MiB) was given up" in full[0]["message"], full
        assert not reserve.exists()
        filler.unlink()  # the clerk's operator frees space (the finalize needs room for its copies)
        r = await c.post(f"/api/hearings/{hid}/stop")
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        await asyncio.wait_for(reader, 30)
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        audit = (await c.get("/api/audit", params={"object": f"recording:{rec['id']}"},
                             headers=srv.token("admin"))).json()
    # 4.5: a paced replay on a loaded machine runs a little behind the 5.5 s of wall clock (4.9 s at load 10)
    assert rec["blob_sha256"] and rec["duration_s"] >= 4.5 and rec["gaps"] == [], rec
    assert not [e for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "finalize_failed"]
    assert [e["details"]["gaps"] for e in audit if e["action"] == "recording.finalize"] == [0]
async def _until_seen(seen: list[dict], check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if any(check(e) for e in seen):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: {seen[-5:]}")


async def test_a_recess_on_a_full_disk_keeps_the_audio_held_and_writes_it_once_space_is_back(
        recess_disk_server, tmp_path, fill_disk) -> None:
    """The judge calls a recess while the disk is full: the close failed, the pipeline and the audio it held
    in memory were dropped, and the hearing stayed in progress with nothing recording (a later stop filed
    what had reached the disk, the lost seconds with no gap). Now the recess happens, the server keeps the
    held audio as a stop does and writes it once space is freed; the hearing goes on with every second.
    The recess is answered as one that worked, with the held recording as a warning (it was a 507: the
    judge was told the 休庭 failed while the hearing was paused and the parties told so)."""
    from capture.manifest import read_entries

    srv = recess_disk_server
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid, seen, reader = await _start_watched(srv, c, SPEECH)
        await asyncio.sleep(2.5)
        filler = fill_disk(tmp_path / "recordings")
        await asyncio.sleep(3.0)  # 3 s more that the disk refuses
        r = await c.post(f"/api/hearings/{hid}/pause")
        assert r.status_code == 200, r.text
        paused = r.json()
        assert paused["id"] == hid and paused["status"] == "paused" and paused["recording_held"] is True, paused
        warning = paused["warning"]
        assert "in recess" in warning and "until space is freed" in warning and str(tmp_path) not in warning
        assert (await c.get(f"/api/hearings/{hid}")).json()["status"] == "paused"
        audit = (await c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=srv.token("admin"))).json()
        assert [e["action"] for e in audit if e["action"].startswith("hearing.")][:3] == [
            "hearing.pause", "hearing.pause_requested", "hearing.start"], audit  # the recess once, no failed one
        held = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "recording_held"]
        assert held and held[0]["active"] and str(tmp_path) not in held[0]["message"], held
        assert any(e["type"] == "status" and e["data"]["status"] == "paused" for e in seen)
        r = await c.post(f"/api/hearings/{hid}/start", json={})  # not before the held audio is written
        assert r.status_code == 507 and "held" in r.json()["detail"], r.text
        filler.unlink()  # the operator frees space
        await _until_seen(seen, lambda e: e["type"] == "alarm" and e["data"]["kind"] == "recording_held"
                          and e["data"]["active"] is False, "the held audio was not written")
        r = await c.post(f"/api/hearings/{hid}/start", json={})
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        await asyncio.sleep(1.0)
        assert (await c.post(f"/api/hearings/{hid}/stop")).json()["status"] == "ended"
        await asyncio.wait_for(reader, 30)
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        refused = (await c.get("/api/audit", params={"object": f"recording:{rec['id']}",
                                                     "action": "recording.close_failed"},
                               headers=srv.token("admin"))).json()
    assert len(refused) == 1 and refused[0]["details"]["hearing_id"] == hid, refused  # the close the disk refused
    entries = read_entries(tmp_path / "recordings" / f"hearing-{hid}")
    (gap,) = [e for e in entries if e["type"] == "gap"]
    # every second up to it: the disk filled at 2.5 s, so the seconds from there on were the held ones (4.5: a
    # replay paced on a loaded machine runs a little behind the wall clock; 5.0 failed at load 11)
    assert gap["reason"] == "recess" and gap["first_sample"] >= 4.5 * 16000, gap
    assert rec["blob_sha256"] and len(rec["gaps"]) == 1, rec


async def test_ending_a_hearing_in_recess_on_a_full_disk_raises_the_alarm_and_files_it_once_space_is_back(
        disk_server, tmp_path, fill_disk) -> None:
    """The disk fills during the recess and the judge ends the hearing: the finalize failed with only a log
    line (no alarm, no audit entry) and nothing tried again before the server's next start."""
    srv = disk_server
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid, seen, reader = await _start_watched(srv, c, SPEECH)
        await asyncio.sleep(2.0)
        assert (await c.post(f"/api/hearings/{hid}/pause")).status_code == 200
        filler = fill_disk(tmp_path / "recordings")
        r = await c.post(f"/api/hearings/{hid}/stop")
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        await asyncio.wait_for(reader, 30)
        (alarm,) = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "finalize_failed"]
        assert alarm["active"] and alarm["message"].startswith("the recording could not be finalized (")
        assert str(tmp_path) not in alarm["message"], alarm
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        assert not rec["blob_sha256"]
        filler.unlink()  # the operator frees space
        for _ in range(100):
            (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
            if rec["blob_sha256"]:
                break
            await asyncio.sleep(0.1)
        assert rec["blob_sha256"], rec
        audit = (await c.get("/api/audit", params={"object": f"recording:{rec['id']}"},
                             headers=srv.token("admin"))).json()
        assert [e["action"] for e in audit][:2] == ["recording.finalize", "recording.finalize_failed"]
        token = c.headers["Authorization"].split()[1]
        later: list[dict] = []
        for _ in range(50):  # the clear follows the filing
            async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws/hearings/{hid}?token={token}"
                                          f"&after={seen[-1]['seq']}") as ws:
                later = [json.loads(message) async for message in ws]
            if later:
                break
            await asyncio.sleep(0.1)
    assert [(e["data"]["kind"], e["data"]["active"]) for e in later if e["type"] == "alarm"] == [
        ("finalize_failed", False)], later


async def test_a_hearing_warns_when_its_disk_fills_and_clears_when_space_is_freed(disk_server, tmp_path) -> None:
    srv = disk_server
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid, seen, reader = await _start_watched(srv, c)

        def disk_alarms() -> list[dict]:
            return [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "disk_low"]

        async def until(check, what: str) -> None:  # type: ignore[no-untyped-def]
            for _ in range(100):
                if check():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"{what}: {disk_alarms()}")

        await asyncio.sleep(0.6)  # three checks with ~32 MiB free (over a minute left): quiet
        assert disk_alarms() == []
        filler = tmp_path / "recordings" / "filler"
        filler.write_bytes(b"\0" * (26 * MIB))  # something else fills the disk: ~6 MiB left
        await until(lambda: len(disk_alarms()) == 1, "no low-disk alarm")
        assert disk_alarms()[0]["active"] and disk_alarms()[0]["value"] < 0.5
        filler.unlink()
        await until(lambda: len(disk_alarms()) == 2, "the alarm was not cleared")
        assert not disk_alarms()[1]["active"]
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(reader, 30)


async def test_a_start_on_a_full_disk_is_refused_clearly_and_works_once_space_is_freed(
        disk_server, tmp_path, fill_disk) -> None:
    """The recordings disk is full when the clerk opens the hearing: 507 with the cause, the hearing as
    it was (no opening time of a start that did not happen), nothing left behind that would make the
    next start a "resume" of nothing (it then failed with a 500 until files were deleted on the server)."""
    srv = disk_server
    async with httpx.AsyncClient(base_url=srv.base, headers=srv.token("clerk"), timeout=60) as c:
        hid = await _new_hearing(srv, c)
        filler = fill_disk(tmp_path / "recordings")
        for _ in range(2):
            r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(TONES), "speed": 1})
            assert r.status_code == 507, r.text
            assert "cannot start the recording" in r.json()["detail"] and "disk full" in r.json()["detail"]
            hearing = (await c.get(f"/api/hearings/{hid}")).json()
            assert (hearing["status"], hearing["started_at"]) == ("scheduled", None)
        filler.unlink()  # the operator frees space
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(TONES), "speed": 1})
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        await asyncio.sleep(1.0)
        assert (await c.post(f"/api/hearings/{hid}/stop")).json()["status"] == "ended"
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
    assert rec["blob_sha256"] and rec["duration_s"] > 0.5


def _console(hub: list[tuple[str, dict]]) -> set[str]:
    """The alarms left on the clerk console after these hub events (as clerk.js raises and clears them)."""
    shown: set[str] = set()
    for _, data in hub:
        shown -= set(data.get("clears", ()))
        if data["active"]:
            shown.add(data["kind"])
        else:
            shown.discard(data["kind"])
    return shown


def test_a_full_disk_alarm_is_cleared_when_writing_resumes_and_names_no_server_path(tmp_path, tmpfs) -> None:
    """The disk fills mid-hearing, then space is freed: disk_full and write_resumed stayed on the clerk
    console side by side, both active, and disk_full showed the server's recording path."""
    import time

    import numpy as np

    from capture.recorder import Recorder, RecorderOptions
    from capture.types import AudioChunk, CaptureEvent
    from courtroom_api.live.events import capture_event

    disk = tmpfs(tmp_path / "disk", "2m")
    hub: list[tuple[str, dict]] = []
    rate, block = 16000, 1600
    recorder = Recorder(disk / "hearing-1", rate, 4, RecorderOptions(segment_seconds=1.0, retry_seconds=0.0),
                        on_event=lambda e: hub.append(capture_event(e)))
    audio = (0.3 * np.random.default_rng(1).standard_normal((12 * rate, 4))).astype(np.float32)

    def record(seconds: range) -> None:
        for s in range(seconds.start * rate, seconds.stop * rate, block):
            recorder.write(AudioChunk(audio[s : s + block], rate, s, time.time()))

    record(range(0, 3))
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)
    record(range(3, 6))
    assert _console(hub) == {"disk_full"}
    full = next(data for _, data in hub if data["kind"] == "disk_full")
    assert str(tmp_path) not in full["message"] and "recording directory" in full["message"], full["message"]
    filler.unlink()
    record(range(6, 12))
    recorder.close()
    assert [d["kind"] for _, d in hub] == ["disk_full", "write_resumed"] and _console(hub) == set()
    source = [capture_event(CaptureEvent(kind, 1.0, "stream dropped")) for kind in ("source_error", "source_reopened")]
    assert _console(source) == set()
