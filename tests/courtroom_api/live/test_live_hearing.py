"""A hearing through a real server process, real WebSocket clients and the real capture stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
import pytest
import websockets
from live_server import PASSWORD, LiveServer

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "four_seats_tones.flac"
SPEECH = FIXTURE.with_name("demo_hearing_22s.flac")
SEALED = "【不公开内容 sealed】"


@pytest.fixture(scope="module")
def server(tmp_path_factory, whisper_base) -> LiveServer:
    data = tmp_path_factory.mktemp("live")
    srv = LiveServer(data, f"sqlite:///{data / 'courtroom.sqlite3'}",
                     extra_env={"COURTROOM_TRANSCRIBE__MODEL": whisper_base})
    assert srv.cli("db", "upgrade").returncode == 0
    out = srv.cli("users", "add", "admin", "--role", "admin", "--password", PASSWORD)
    assert out.returncode == 0, out.stderr
    srv.start()
    _seed(srv)
    yield srv
    srv.stop()


def _seed(srv: LiveServer) -> None:
    admin = srv.token("admin")
    c = httpx.Client(base_url=srv.base, headers=admin, timeout=30)
    court = c.post("/api/courts", json={"code": "T1", "name": "测试法院"}).json()
    room = c.post("/api/courtrooms", json={"court_id": court["id"], "name": "第一法庭", "profile_name": "demo"}).json()
    for login, role in (("clerk", "clerk"), ("judge", "judge"), ("party", "party"), ("stranger", "party")):
        r = c.post("/api/users", json={"login": login, "password": PASSWORD, "role": role})
        assert r.status_code == 201, r.text
    clerk = httpx.Client(base_url=srv.base, headers=srv.token("clerk"), timeout=30)
    case = clerk.post("/api/cases", json={"case_number": "(2024)测试1号", "court_id": court["id"]}).json()
    party_id = c.get("/api/users").json()[3]["id"]
    clerk.post(f"/api/cases/{case['id']}/participants",
               json={"name": "张三", "role": "plaintiff", "side": "plaintiff", "seat": "plaintiff", "user_id": party_id})
    clerk.post(f"/api/cases/{case['id']}/participants",
               json={"name": "王审判长", "role": "presiding_judge", "side": "bench", "seat": "judge"})
    srv.ids = {"case": case["id"], "room": room["id"]}  # type: ignore[attr-defined]


def _new_hearing(srv: LiveServer) -> int:
    clerk = srv.token("clerk")
    r = httpx.post(f"{srv.base}/api/cases/{srv.ids['case']}/hearings", json={"courtroom_id": srv.ids["room"]},
                   headers=clerk)
    return int(r.json()["id"])


async def _collect(url: str, out: list[dict], until: str) -> None:
    async with websockets.connect(url) as ws:
        async for message in ws:
            event = json.loads(message)
            out.append(event)
            if event["type"] == "status" and event["data"].get("status") == until:
                return


def _watch(server: LiveServer, hid: int, who: dict[str, str],
           seen: list[dict] | None = None) -> tuple[asyncio.Task, list[dict]]:
    """A viewer of the hearing's live stream (as ``who``) until it ends: its task and what it saw."""
    seen = [] if seen is None else seen
    token = who["Authorization"].split()[1]
    url = f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}"
    return asyncio.create_task(_collect(url, seen, "ended")), seen


async def _wait_status(seen: list[dict], status: str, timeout_s: float = 120) -> None:
    for _ in range(int(timeout_s * 10)):
        if any(e["type"] == "status" and e["data"]["status"] == status for e in seen):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status!r} status within {timeout_s} s: {[e['type'] for e in seen][-20:]}")


def _audio_s(recording: dict) -> float:
    """Where a filed recording's audio ends: a hearing stopped after its file ended records the time between
    as a gap at the end (its reason "source ended")."""
    gaps, duration = recording["gaps"], recording["duration_s"]
    return gaps[-1][0] if gaps and abs(gaps[-1][1] - duration) < 0.01 else duration


async def _start_watched(server: LiveServer, c: httpx.AsyncClient, clerk: dict[str, str],
                         who: dict[str, str]) -> tuple[int, asyncio.Task, list[dict]]:
    """A new hearing replaying the four seats' tones at 4x, started by ``clerk`` and watched by ``who``
    from before its start: (hearing id, the viewer's task, what it saw)."""
    hid = _new_hearing(server)
    viewer, seen = _watch(server, hid, who)
    await asyncio.sleep(0.3)
    r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(FIXTURE), "speed": 4},
                     headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress"
    return hid, viewer, seen


async def test_hearing_records_streams_and_files_into_dossier(server: LiveServer) -> None:
    clerk, party = server.token("clerk"), server.token("party")
    async with httpx.AsyncClient(base_url=server.base, timeout=120) as c:
        hid, viewer, seen = await _start_watched(server, c, clerk, party)
        shown = await c.put(f"/api/hearings/{hid}/display", json={"page": 2}, headers=clerk)
        assert shown.status_code == 200
        await _wait_status(seen, "source_ended")  # 6 s of audio at 4x
        r = await c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        await asyncio.wait_for(viewer, 30)
        seqs = [e["seq"] for e in seen if e["seq"] is not None]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        types = {e["type"] for e in seen}
        assert {"hello", "status", "meter", "display"} <= types
        meters = [e for e in seen if e["type"] == "meter"]
        assert len(meters[0]["data"]["rms_dbfs"]) == 4
        statuses = [e["data"]["status"] for e in seen if e["type"] == "status"]
        assert statuses[0] == "started" and "recording_filed" in statuses and statuses[-1] == "ended"
        recs = (await c.get(f"/api/hearings/{hid}/recordings", headers=party)).json()
        assert len(recs) == 1 and recs[0]["blob_sha256"] and abs(_audio_s(recs[0]) - 6.0) < 0.5
        assert set(recs[0]["tracks"]) == {"judge", "clerk", "plaintiff", "defendant", "mixdown"}
        audio = await c.get(f"/api/recordings/{recs[0]['id']}/audio", headers={**party, "Range": "bytes=0-3"})
        assert audio.status_code == 206 and audio.content == b"fLaC"
        play = await c.get(f"/api/hearings/{hid}/play", params={"t": 2.5}, headers=party)
        assert play.status_code == 307 and play.headers["location"].endswith("/mixdown#t=2.50")
        mix = await c.get(play.headers["location"].split("#")[0], headers=party)
        assert mix.status_code == 200 and mix.content[:4] == b"OggS"
    from capture.verify import verify_recording

    result = verify_recording(server.data_dir / "recordings" / f"hearing-{hid}")
    assert result.ok and result.finalized, str(result)


async def test_two_stops_at_once_close_the_hearing_once(server: LiveServer) -> None:
    """The judge's 闭庭 and the clerk's stop at the same moment: one stops and closes the hearing (its
    recording filed before the live stream ends), the other waits for it and gets 409; the hearing is
    ended once, in the audit chain and on the stream."""
    clerk, judge = server.token("clerk"), server.token("judge")
    async with httpx.AsyncClient(base_url=server.base, timeout=120) as c:
        hid, viewer, seen = await _start_watched(server, c, clerk, clerk)
        await _wait_status(seen, "source_ended")
        stops = await asyncio.gather(c.post(f"/api/hearings/{hid}/stop", headers=clerk),
                                     c.post(f"/api/hearings/{hid}/stop", headers=judge))
        assert sorted(s.status_code for s in stops) == [200, 409], [s.text for s in stops]
        refused = next(s for s in stops if s.status_code == 409)
        assert "being stopped by another request" in refused.json()["detail"]
        await asyncio.wait_for(viewer, 30)
        statuses = [e["data"]["status"] for e in seen if e["type"] == "status"]
        assert statuses.count("ended") == 1 and statuses.index("recording_filed") < statuses.index("ended")
        audit = (await c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=judge)).json()
        assert [a["action"] for a in audit].count("hearing.stop") == 1
        assert (await c.get(f"/api/hearings/{hid}", headers=clerk)).json()["status"] == "ended"
        again = await c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert again.status_code == 409 and "not in progress" in again.json()["detail"]


async def test_a_courtroom_holds_one_hearing_at_a_time(server: LiveServer) -> None:
    """A second hearing started in a room whose hearing is in progress is refused (409, naming the running
    one): it used to start and record the same array into a second dossier. A live hearing cannot be moved
    to another room either. Once the first is stopped, the room is free."""
    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        hid, viewer, seen = await _start_watched(server, c, clerk, clerk)
        other = _new_hearing(server)
        r = await c.post(f"/api/hearings/{other}/start", json={"source": "file", "url": str(FIXTURE), "speed": 4})
        assert r.status_code == 409 and f"hearing {hid} is in progress there" in r.json()["detail"], r.text
        assert (await c.get(f"/api/hearings/{other}")).json()["status"] == "scheduled"
        room2 = (await c.post("/api/courtrooms", headers=server.token("admin"),
                              json={"court_id": 1, "name": "第二法庭", "profile_name": "demo"})).json()
        moved = await c.patch(f"/api/hearings/{hid}", json={"courtroom_id": room2["id"]})
        assert moved.status_code == 409 and "another courtroom" in moved.json()["detail"], moved.text
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(viewer, 30)
        r = await c.post(f"/api/hearings/{other}/start", json={"source": "file", "url": str(FIXTURE), "speed": 4})
        assert r.status_code == 200, r.text
        assert (await c.post(f"/api/hearings/{other}/stop")).status_code == 200


async def test_a_second_server_on_the_same_data_directory_refuses_to_start(server: LiveServer) -> None:
    """`make run` in a second terminal: the second server's start-up resumed the first's live hearing into
    the same recording (gap and resume entries in its manifest, so its chain was refused at the stop)
    before it found the port taken. Now it stops before touching anything, and the hearing records on."""
    import subprocess
    import sys

    from live_server import ROOT, free_port

    from capture.verify import verify_recording

    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        hid, viewer, seen = await _start_watched(server, c, clerk, clerk)
        second = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "courtroom_api.cli", "serve", "--port", str(free_port())],
            env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "another courtroom server is using" in second.stderr, second.stderr
        await _wait_status(seen, "source_ended")
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(viewer, 30)
    result = verify_recording(server.data_dir / "recordings" / f"hearing-{hid}")
    assert result.ok and result.finalized, str(result)


async def test_a_file_source_that_is_not_the_rooms_audio_is_refused_and_the_hearing_stays_scheduled(
        server: LiveServer, tmp_path) -> None:
    """Text named .flac, or a mono file for the 4-seat room: 409 with the cause before anything starts
    (such a hearing used to start, record nothing, and be used up when it was stopped)."""
    import numpy as np
    import soundfile as sf

    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_text("not audio at all")
    mono = tmp_path / "mono.wav"
    sf.write(mono, np.zeros(16000, np.float32), 16000)
    hid = _new_hearing(server)
    async with httpx.AsyncClient(base_url=server.base, headers=server.token("clerk"), timeout=60) as c:
        for path, cause in ((corrupt, "not audio the server can read"), (mono, "has 1 channel(s)")):
            r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(path)})
            assert r.status_code == 409 and cause in r.json()["detail"], r.text
            hearing = (await c.get(f"/api/hearings/{hid}")).json()
            assert (hearing["status"], hearing["started_at"]) == ("scheduled", None)
        # a file started as a stream was recorded over and over, faster than real time
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "stream", "url": str(FIXTURE)})
        assert r.status_code == 409 and 'source "file"' in r.json()["detail"], r.text
        assert (await c.get(f"/api/hearings/{hid}/recordings")).json() == []


async def test_stranger_and_bad_token_are_refused_on_the_socket(server: LiveServer) -> None:
    hid = _new_hearing(server)
    stranger = server.token("stranger")["Authorization"].split()[1]
    for token, code in ((stranger, 4404), ("forged", 4401)):
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == code


async def test_server_killed_mid_hearing_resumes_into_same_hearing_with_gap(server: LiveServer) -> None:
    hid = _new_hearing(server)
    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, timeout=120) as c:
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(FIXTURE), "speed": 1},
                         headers=clerk)
        assert r.status_code == 200, r.text
        await asyncio.sleep(3.0)
    server.kill()
    server.start()
    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, timeout=120) as c:
        h = (await c.get(f"/api/hearings/{hid}", headers=clerk)).json()
        assert h["status"] == "in_progress"
        await asyncio.sleep(2.0)
        r = await c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert r.status_code == 200, r.text
        recs = (await c.get(f"/api/hearings/{hid}/recordings", headers=clerk)).json()
        assert len(recs) == 1  # the same recording continued
        audit = (await c.get("/api/audit", params={"object": f"recording:{recs[0]['id']}"},
                             headers=server.token("judge"))).json()
    actions = {e["action"] for e in audit}
    assert {"recording.start", "recording.resume"} <= actions
    directory = server.data_dir / "recordings" / f"hearing-{hid}"
    entries = [json.loads(line) for line in (directory / "manifest.jsonl").read_text().splitlines()]
    assert [e for e in entries if e["type"] == "gap"] and [e for e in entries if e["type"] == "resume"]
    assert "recording.finalize" in actions
    from capture.verify import verify_recording

    result = verify_recording(directory)
    assert result.ok and result.finalized, str(result)
    # The file replayed as the room went on where the room's time was, not from its start again (the
    # recording held its first seconds twice): after the gap, the recording is the file at that time.
    import numpy as np
    import soundfile as sf

    gap, *ended = [e for e in entries if e["type"] == "gap"]  # the restart's; the file's end to the stop, if any
    assert [e["reason"] for e in ended] in ([], ["source ended"]), entries
    resumed_at = gap["first_sample"] + gap["frames"]
    recorded, _ = sf.read(directory / "final" / "recording.flac", dtype="float32", always_2d=True)
    source, _ = sf.read(FIXTURE, dtype="float32", always_2d=True)
    after = recorded[resumed_at:]
    expected = source[resumed_at : resumed_at + len(after)]
    assert np.allclose(after[: len(expected)], expected, atol=1e-3)
    assert not np.any(np.abs(after[len(expected):]) > 1e-3)  # past the file's end: nothing replayed again


async def test_a_hearing_whose_resume_fails_says_so_and_its_stop_files_what_was_recorded(
        server: LiveServer, tmp_path) -> None:
    """Its file is gone when the server restarts: the bench and the clerk get a resume_failed alarm (it
    was a line in the server's log, the hearing showing in progress while nothing recorded), and the
    stop closes, finalizes and files the recording then (it waited for the next restart)."""
    import shutil

    source = tmp_path / "room.flac"
    shutil.copy(FIXTURE, source)
    hid = _new_hearing(server)
    async with httpx.AsyncClient(base_url=server.base, headers=server.token("clerk"), timeout=120) as c:
        assert (await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(source)})).status_code == 200
        await asyncio.sleep(2.0)
    token = server.token("clerk")["Authorization"].split()[1]
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}") as ws:
        before = json.loads(await ws.recv())["data"]  # the console's position in the stream before the restart
    server.kill()
    source.unlink()
    server.start()
    clerk = server.token("clerk")
    seen: list[dict] = []
    token = clerk["Authorization"].split()[1]
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}&after=0") as ws:
        with contextlib.suppress(asyncio.TimeoutError):
            while not any(e["type"] == "alarm" for e in seen):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    (alarm,) = [e["data"] for e in seen if e["type"] == "alarm"]
    assert alarm["kind"] == "resume_failed" and "did not resume" in alarm["message"], alarm
    # A page loaded now (a fresh socket, as the consoles open it) and one reconnecting with its position
    # from before the restart show it too: they got hello and no alarm, the hearing "in progress".
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}") as ws:
        fresh = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
    assert fresh[0]["type"] == "hello" and fresh[0]["data"]["epoch"] != before["epoch"]
    assert fresh[1]["type"] == "alarm" and fresh[1]["data"]["kind"] == "resume_failed", fresh
    query = f"token={token}&after={before['last_seq']}&epoch={before['epoch']}"
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?{query}") as ws:
        again = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
    assert [e["type"] for e in again] == ["hello", "reset", "alarm"], again
    assert again[1]["data"]["epoch"] == fresh[0]["data"]["epoch"] and again[2]["data"]["kind"] == "resume_failed"
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        assert (await c.get(f"/api/hearings/{hid}")).json()["status"] == "in_progress"
        assert (await c.post(f"/api/hearings/{hid}/stop")).json()["status"] == "ended"
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
    assert rec["blob_sha256"] and rec["duration_s"] >= 1.5, rec


async def test_full_hearing_through_the_real_model(server: LiveServer) -> None:
    """Events arrive in order; finals match the stored transcript; the recording verifies; the dossier has both."""
    hid = _new_hearing(server)
    clerk, party = server.token("clerk"), server.token("party")
    viewer, seen = _watch(server, hid, party)
    async with httpx.AsyncClient(base_url=server.base, timeout=300) as c:
        await asyncio.sleep(0.3)
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH), "speed": 2},
                         headers=clerk)
        assert r.status_code == 200, r.text
        await _wait_status(seen, "source_ended")  # 22 s of audio at 2x, decoding on 2 cores alongside
        r = await c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert r.status_code == 200, r.text
        await asyncio.wait_for(viewer, 60)
        stored = (await c.get(f"/api/hearings/{hid}/segments", headers=clerk)).json()
        recs = (await c.get(f"/api/hearings/{hid}/recordings", headers=clerk)).json()
        vtt = (await c.get(f"/api/hearings/{hid}/transcript", params={"format": "vtt"}, headers=party)).text
    seqs = [e["seq"] for e in seen if e["seq"] is not None]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finals = [e for e in seen if e["type"] == "transcript.final"]
    assert not [e for e in seen if e["type"] == "alarm" and "transcription" in e["data"]["kind"]]
    assert len(finals) >= 3, [e["data"]["text"] for e in finals]
    assert [(f["data"]["segment_id"], f["data"]["text"], f["seq"]) for f in finals] == [
        (s["id"], s["text"], s["seq"]) for s in sorted(stored, key=lambda s: s["seq"])]
    text = " ".join(f["data"]["text"] for f in finals).lower()
    assert "court" in text and "session" in text and "现在开" in text  # base model, synthetic voice
    by_seat = {f["data"]["seat"]: f["data"] for f in finals}
    assert set(by_seat) <= {"judge", "clerk", "plaintiff", "defendant"}, [(f["data"]["seat"], f["data"]["text"]) for f in finals]
    assert by_seat["clerk"]["role"] == "clerk" and by_seat["judge"]["role"] == "presiding_judge"
    # The seat's participant in this case is named with the role (seat attribution decides the seat).
    assert by_seat["judge"]["participant"] == "王审判长" and by_seat["judge"]["role_label"] == "审判长 王审判长"
    assert any(e["type"] == "transcript.partial" for e in seen)
    assert "<v 审判长 王审判长>" in vtt
    assert len(recs) == 1 and recs[0]["blob_sha256"] and abs(_audio_s(recs[0]) - 22.0) < 0.5
    from capture.verify import verify_recording

    result = verify_recording(server.data_dir / "recordings" / f"hearing-{hid}")
    assert result.ok and result.finalized, str(result)



async def _start_while_refused(server: LiveServer, seen: list[dict]) -> tuple[int, asyncio.Task]:
    """Start the 22 s demo hearing (a viewer filling ``seen``); return once a final went out unfiled."""
    hid = _new_hearing(server)
    clerk = server.token("clerk")
    viewer, _ = _watch(server, hid, clerk, seen)
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=300) as c:
        await asyncio.sleep(0.3)
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH), "speed": 2})
        assert r.status_code == 200, r.text
    for _ in range(600):
        if any(e["type"] == "transcript.final" and e["data"]["segment_id"] is None for e in seen):
            return hid, viewer
        await asyncio.sleep(0.1)
    raise AssertionError("no final while the dossier refused writes")


def _server_db(server: LiveServer):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{server.data_dir / 'courtroom.sqlite3'}", connect_args={"timeout": 30})


async def test_finals_the_dossier_refuses_are_held_then_filed_and_the_live_transcript_goes_on(
        server: LiveServer, refusing_writes) -> None:
    """The database refuses segments for the first finals (a full disk, say): the live transcript
    carries on, an alarm says so, and every final is in the dossier once it recovers."""
    seen: list[dict] = []
    engine = _server_db(server)
    with refusing_writes(engine, "transcript_segments"):
        hid, viewer = await _start_while_refused(server, seen)
        sign = httpx.post(f"{server.base}/api/hearings/{hid}/signoff", json={}, headers=server.token("judge"))
        assert sign.status_code == 409 and "not yet saved in the dossier" in sign.text, sign.text
    engine.dispose()
    async with httpx.AsyncClient(base_url=server.base, headers=server.token("clerk"), timeout=300) as c:
        await _wait_status(seen, "source_ended")
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(viewer, 60)
        stored = (await c.get(f"/api/hearings/{hid}/segments")).json()
        audit = (await c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=server.token("judge"))).json()
    finals = [e for e in seen if e["type"] == "transcript.final"]
    held = [f for f in finals if f["data"]["segment_id"] is None]
    filed = {e["data"]["seq"]: e["data"]["segment_id"] for e in seen if e["type"] == "transcript.filed"}
    alarms = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "transcript_not_saved"]
    assert not [e for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "transcription_failed"]
    assert alarms[0]["active"] and not alarms[-1]["active"]
    assert alarms[0]["message"] == ("transcript not saved to the dossier (the dossier refuses writes (test)); "
                                    "held on the server and retried")
    assert len(finals) >= 3 and held and finals[-1]["data"]["segment_id"] is not None  # it went on, filed again
    assert set(filed) == {f["seq"] for f in held}
    # Every final is in the dossier exactly once, under the seq it went out with.
    assert [(f["seq"], f["data"]["segment_id"] or filed[f["seq"]], f["data"]["text"]) for f in finals] == [
        (s["seq"], s["id"], s["text"]) for s in sorted(stored, key=lambda s: s["seq"])]
    late = sorted((e["details"]["seq"], e["details"]["segment_id"]) for e in audit
                  if e["action"] == "transcript.filed_late")
    assert late == sorted(filed.items())
    assert not (server.data_dir / "recordings" / f"hearing-{hid}" / "unfiled-finals.jsonl").exists()


async def test_finals_held_when_the_server_is_killed_are_filed_after_the_restart(
        server: LiveServer, refusing_writes) -> None:
    seen: list[dict] = []
    engine = _server_db(server)
    with refusing_writes(engine, "transcript_segments"):
        hid, viewer = await _start_while_refused(server, seen)
        held = [e for e in seen if e["type"] == "transcript.final" and e["data"]["segment_id"] is None]
        server.kill()  # the power cut: the held finals are only in the spill file now
        with contextlib.suppress(Exception):
            await asyncio.wait_for(viewer, 10)
        spill = server.data_dir / "recordings" / f"hearing-{hid}" / "unfiled-finals.jsonl"
        assert spill.is_file()
        server.start()  # the hearing resumes; its held finals still cannot be filed
        await asyncio.sleep(1.5)
    engine.dispose()
    async with httpx.AsyncClient(base_url=server.base, headers=server.token("clerk"), timeout=300) as c:
        for _ in range(600):  # retried with back-off until the dossier takes them
            stored = (await c.get(f"/api/hearings/{hid}/segments")).json()
            if {s["seq"] for s in stored} >= {e["seq"] for e in held}:
                break
            await asyncio.sleep(0.1)
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        stored = (await c.get(f"/api/hearings/{hid}/segments")).json()
    by_seq = {s["seq"]: s["text"] for s in stored}
    assert len(by_seq) == len(stored)  # none filed twice
    assert [by_seq.get(e["seq"]) for e in held] == [e["data"]["text"] for e in held]
    assert not spill.exists()

async def test_finals_held_when_their_time_is_sealed_are_filed_sealed_and_redacted_for_a_party(
        server: LiveServer, refusing_writes) -> None:
    """The judge seals the hearing's stretch by time while its first finals are held (the dossier refuses
    them): once filed they are sealed and go out again sealed, and so does every later final of the
    stretch. A party reads and hears none of it: its transcript, its live screen and its replay."""
    seen: list[dict] = []
    party_seen: list[dict] = []
    party = server.token("party")
    engine = _server_db(server)
    with refusing_writes(engine, "transcript_segments"):
        hid, viewer = await _start_while_refused(server, seen)
        r = httpx.post(f"{server.base}/api/hearings/{hid}/seal", json={"start_s": 0, "end_s": 3600,
                       "reason": "不公开审理部分"}, headers=server.token("judge"))
        assert r.status_code == 200 and r.json() == {"segment_ids": [], "sealed": True}, r.text
        party_viewer, _ = _watch(server, hid, party, party_seen)
        await asyncio.sleep(0.5)
    engine.dispose()
    async with httpx.AsyncClient(base_url=server.base, headers=server.token("clerk"), timeout=300) as c:
        await _wait_status(seen, "source_ended")
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(asyncio.gather(viewer, party_viewer), 60)
        stored = (await c.get(f"/api/hearings/{hid}/segments")).json()
        as_party = (await c.get(f"/api/hearings/{hid}/segments", headers=party)).json()
    held = {e["seq"] for e in seen if e["type"] == "transcript.final" and e["data"]["segment_id"] is None}
    assert held and len(stored) > len(held) and all(s["sealed"] for s in stored)
    assert {s["text"] for s in as_party} == {SEALED}
    filed = {e["data"]["seq"]: e["data"]["segment_id"] for e in seen if e["type"] == "transcript.filed"}
    resealed = {e["data"]["segment_id"] for e in party_seen
                if e["type"] == "transcript.revised" and e["data"]["change"] == "sealed"}
    assert resealed == {filed[seq] for seq in held}
    lines = [e["data"] for e in party_seen if e["type"].startswith("transcript.") and e["type"] != "transcript.filed"]
    assert lines and {d["text"] for d in lines} == {SEALED}, lines
    replay: list[dict] = []
    token = party["Authorization"].split()[1]
    with contextlib.suppress(websockets.ConnectionClosed):
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}&after=0") as ws:
            async for message in ws:
                replay.append(json.loads(message))
    finals = [e["data"] for e in replay if e["type"] == "transcript.final"]
    assert len(finals) == len(stored) and {d["text"] for d in finals} == {SEALED}


async def test_a_recording_the_dossier_refuses_at_the_stop_is_filed_later(server: LiveServer, refusing_writes) -> None:
    """The hearing still closes; the clerk is told; `courtroom recordings file-pending` files it after."""
    hid = _new_hearing(server)
    clerk = server.token("clerk")
    viewer, seen = _watch(server, hid, clerk)
    engine = _server_db(server)
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        await asyncio.sleep(0.3)
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(FIXTURE), "speed": 4})
        assert r.status_code == 200, r.text
        await _wait_status(seen, "source_ended")
        with refusing_writes(engine, "recordings", "UPDATE"):
            r = await c.post(f"/api/hearings/{hid}/stop")
        engine.dispose()
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        await asyncio.wait_for(viewer, 30)
        alarms = [e["data"] for e in seen if e["type"] == "alarm" and e["data"]["kind"] == "recording_not_filed"]
        assert len(alarms) == 1 and "(the dossier refuses writes (test))" in alarms[0]["message"]
        assert "recording_filed" not in [e["data"]["status"] for e in seen if e["type"] == "status"]
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        assert not rec["blob_sha256"]
        done = server.cli("recordings", "file-pending")
        assert done.returncode == 0, done.stdout + done.stderr
        (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
        assert f"recording {rec['id']} of hearing {hid}: filed ({rec['duration_s']:.1f} s)" in done.stdout.splitlines()
        assert rec["blob_sha256"] and abs(_audio_s(rec) - 6.0) < 0.5
        audio = await c.get(f"/api/recordings/{rec['id']}/audio", headers={"Range": "bytes=0-3"})
        assert audio.status_code == 206 and audio.content == b"fLaC"
        audit = (await c.get("/api/audit", params={"object": f"recording:{rec['id']}"},
                             headers=server.token("judge"))).json()
    assert [e["action"] for e in audit][:2] == ["recording.finalize", "recording.file_failed"]  # newest first
    again = server.cli("recordings", "file-pending")
    assert again.returncode == 0 and f"recording {rec['id']} " not in again.stdout


async def test_a_stop_the_database_could_not_record_is_completed_after_a_restart(
        server: LiveServer, refusing_writes) -> None:
    """The stop finalized the recording, then the database refused to file it and to end the hearing;
    after a restart the hearing is closed (not resumed: a finalized recording cannot go on) and filed."""
    hid = _new_hearing(server)
    clerk = server.token("clerk")
    engine = _server_db(server)
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(FIXTURE), "speed": 4})
        assert r.status_code == 200, r.text
        await asyncio.sleep(2.5)  # 6 s of audio at 4x
        with refusing_writes(engine, "recordings", "UPDATE"), refusing_writes(engine, "hearings", "UPDATE"):
            r = await c.post(f"/api/hearings/{hid}/stop")
        engine.dispose()
        assert r.status_code >= 400 and "refuses writes" in r.text, r.text
        assert (await c.get(f"/api/hearings/{hid}")).json()["status"] == "in_progress"
    server.kill()
    server.start()
    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=120) as c:
        assert (await c.get(f"/api/hearings/{hid}")).json()["status"] == "ended"
        for _ in range(300):  # filed by the start-up sweep, beside serving
            (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
            if rec["blob_sha256"]:
                break
            await asyncio.sleep(0.1)
        assert rec["blob_sha256"] and abs(_audio_s(rec) - 6.0) < 0.5
        audit = (await c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=server.token("judge"))).json()
    stop = [e for e in audit if e["action"] == "hearing.stop"]
    assert len(stop) == 1 and stop[0]["actor"] == "system" and "finalized before a restart" in stop[0]["details"]["reason"]


# The server's process dies as a recess or a stop begins to close the hearing's pipeline.
DIES_AT_CLOSE = ("import os\nfrom courtroom_api.live import pipeline\n\n"
                 "async def _die(self, **_):\n    os._exit(9)\n\npipeline.HearingPipeline.stop = _die")


@pytest.mark.parametrize(("asked", "status"), [("pause", "paused"), ("stop", "ended")])
async def test_a_recess_or_stop_cut_off_by_a_crash_is_completed_after_the_restart(
        server: LiveServer, asked: str, status: str) -> None:
    """The judge calls a recess (休庭) or ends the hearing (闭庭) and the server dies before the hearing is
    marked paused or ended: after the restart it was in progress again and the microphones recorded the
    courtroom on. Now the restart completes the request: nothing records, and the recording is filed."""
    from capture.verify import verify_recording

    hid = _new_hearing(server)
    directory = server.data_dir / "recordings" / f"hearing-{hid}"
    server.stop()
    server.prelude = DIES_AT_CLOSE
    try:
        server.start()
        async with httpx.AsyncClient(base_url=server.base, headers=server.token("judge"), timeout=120) as c:
            r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(FIXTURE), "speed": 1})
            assert r.status_code == 200, r.text
            await asyncio.sleep(2.0)
            with pytest.raises(httpx.HTTPError):
                await c.post(f"/api/hearings/{hid}/{asked}")
        assert server.proc is not None and server.proc.wait(30) == 9
        server.proc = None
    finally:
        server.prelude = ""
        if server.proc is None:
            server.start()
    judge = server.token("judge")
    async with httpx.AsyncClient(base_url=server.base, headers=judge, timeout=120) as c:
        assert (await c.get(f"/api/hearings/{hid}")).json()["status"] == status
        if asked == "pause":  # in recess, nothing recording, until the bench ends it (or starts again)
            entries = (directory / "manifest.jsonl").read_text()
            await asyncio.sleep(2.0)
            assert (directory / "manifest.jsonl").read_text() == entries
            assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        for _ in range(300):  # (a stop's: filed by the start-up sweep, beside serving)
            (rec,) = (await c.get(f"/api/hearings/{hid}/recordings")).json()
            if rec["blob_sha256"]:
                break
            await asyncio.sleep(0.1)
        assert rec["blob_sha256"] and 0 < _audio_s(rec) < 4.0, rec  # (up to the crash)
        audit = (await c.get("/api/audit", params={"object": f"hearing:{hid}"})).json()
    done = next(e for e in audit if e["action"] == f"hearing.{asked}")
    assert done["actor"] == "system" and "completed after" in done["details"]["reason"], done
    assert "resume" not in [json.loads(line)["type"] for line in (directory / "manifest.jsonl").read_text().splitlines()]
    result = verify_recording(directory)
    assert result.ok and result.finalized, str(result)


REFERENCE = Path(__file__).resolve().parents[3] / "hardware" / "samples" / "demo_hearing.json"


async def _reseated_hearing(server: LiveServer) -> dict:
    clerk = server.token("clerk")
    async with httpx.AsyncClient(base_url=server.base, headers=clerk, timeout=300) as c:
        second = await c.post(f"/api/cases/{server.ids['case']}/participants",
                              json={"name": "李审判员", "role": "judge"})
        assert second.status_code == 201, second.text
        hid = _new_hearing(server)
        viewer, seen = _watch(server, hid, clerk)
        await asyncio.sleep(0.3)
        r = await c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH), "speed": 2})
        assert r.status_code == 200, r.text
        bad = await c.post(f"/api/hearings/{hid}/seats", json={"seat": "podium", "participant_id": second.json()["id"]})
        assert bad.status_code == 422, bad.text  # not a seat of the running courtroom
        r = await c.post(f"/api/hearings/{hid}/seats",
                         json={"seat": "judge", "participant_id": second.json()["id"], "from_s": 16.0})
        assert r.status_code == 201, r.text
        again = await c.post(f"/api/hearings/{hid}/seats",
                             json={"seat": "judge", "participant_id": second.json()["id"], "from_s": 17.0})
        assert again.status_code == 409 and "already on seat" in again.text, again.text
        # The defendant (who answers at 19.4 s) is entered in the case while the hearing runs.
        defendant = await c.post(f"/api/cases/{server.ids['case']}/participants",
                                 json={"name": "李娜", "role": "defendant", "side": "defendant", "seat": "defendant"})
        assert defendant.status_code == 201, defendant.text
        await _wait_status(seen, "source_ended")
        assert (await c.post(f"/api/hearings/{hid}/stop")).status_code == 200
        await asyncio.wait_for(viewer, 60)
        stored = (await c.get(f"/api/hearings/{hid}/segments")).json()
        seats = (await c.get(f"/api/hearings/{hid}/seats")).json()
    return {"hid": hid, "second": second.json()["id"], "stored": stored, "seen": seen, "seats": seats,
            "defendant": defendant.json()["id"]}


@pytest.fixture(scope="module")
def reseated(server: LiveServer) -> dict:
    """The 22 s demo hearing replayed; while it runs, the clerk seats another judge from 16 s on."""
    return asyncio.run(_reseated_hearing(server))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def test_stored_segments_get_the_reference_roles(reseated: dict) -> None:
    """Seat attribution (diarize, bleed compensated) matches the demo hearing's reference roles.

    The reference's roles as seated: from 16 s the judge's seat holds the judge seated mid-hearing.
    """
    reference = [u for u in json.loads(REFERENCE.read_text())["utterances"] if u["end"] <= 22.0]
    stored = reseated["stored"]
    assert not [e for e in reseated["seen"] if e["type"] == "alarm" and "transcription" in e["data"]["kind"]]
    speech = sum(u["end"] - u["start"] for u in reference)
    right = wrong = 0.0
    for s in stored:
        for u in reference:
            o = _overlap(s["start_s"], s["end_s"], u["start"], u["end"])
            role = "judge" if u["seat"] == "judge" and u["start"] >= 16.0 else u["role"]
            right, wrong = (right + o, wrong) if s["role"] == role else (right, wrong + o)
    # Every utterance must be transcribed somewhere; time coverage itself is not asserted because
    # Whisper's word times on the poorly recognised synthetic Mandarin line shift by seconds from
    # run to run (its words land at 9.5 s instead of 6.3 s), which says nothing about attribution.
    uncovered = [u["text"] for u in reference if not any(_overlap(s["start_s"], s["end_s"], u["start"], u["end"]) > 0
                                                         for s in stored)]
    assert not uncovered, (uncovered, [(s["start_s"], s["end_s"], s["role"], s["text"]) for s in stored])
    assert right >= 0.5 * speech, (right, wrong, speech, [(s["start_s"], s["role"], s["text"]) for s in stored])
    assert wrong <= 0.1 * (right + wrong), [(s["start_s"], s["role"], s["text"]) for s in stored]
    plaintiff = [s for s in stored if _overlap(s["start_s"], s["end_s"], 13.5, 16.57) > 1.0]
    assert plaintiff and all(s["role"] == "plaintiff" and s["participant_name"] == "张三" for s in plaintiff)
    finals = [e["data"] for e in reseated["seen"] if e["type"] == "transcript.final"]
    assert finals and all(0.0 <= f["seat_confidence"] <= 1.0 for f in finals)


def test_a_participant_entered_mid_hearing_is_named_on_their_seat(reseated: dict) -> None:
    """The running hearing reads the case's participants again when one is added (it kept the roster of
    its start: the defendant's answer was filed with no participant until the server restarted)."""
    defendant = [s for s in reseated["stored"] if s["seat"] == "defendant"]
    assert defendant, [(s["start_s"], s["seat"], s["text"]) for s in reseated["stored"]]
    assert {(s["participant_id"], s["participant_name"]) for s in defendant} == {(reseated["defendant"], "李娜")}


def test_seat_reassignment_mid_hearing_changes_later_participants(reseated: dict) -> None:
    judge = [s for s in reseated["stored"] if s["seat"] == "judge"]
    before = [s for s in judge if (s["start_s"] + s["end_s"]) / 2 < 16.0]
    after = [s for s in judge if (s["start_s"] + s["end_s"]) / 2 >= 16.0]
    assert before and after, [(s["start_s"], s["end_s"], s["text"]) for s in judge]
    assert {s["participant_name"] for s in before} == {"王审判长"}
    assert {s["role"] for s in before} == {"presiding_judge"}
    assert {s["participant_id"] for s in after} == {reseated["second"]}
    assert {s["role"] for s in after} == {"judge"}
    assert [(a["seat"], a["participant_id"], a["from_s"], a["to_s"]) for a in reseated["seats"]] == [
        ("judge", reseated["second"], 16.0, None)]
