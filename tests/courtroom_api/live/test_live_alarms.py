"""Alarms on a hearing's live stream as every viewer gets them, a resume that failed and its way back, and a
start that failed. The real app in-process, its live socket, the real capture stack (ffmpeg for a stream)."""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from api_world import build_world
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from capture.manifest import MANIFEST_NAME, read_entries
from courtroom_api.app import create_app

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "four_seats_tones.flac"
MODEL = "/srv/courtroom/models/large-v3"  # no model there: transcription fails, naming it
STREAM = "rtsp://camadmin:S3cretPW@127.0.0.1:9/room1"  # nothing listens there: the source fails, naming it


def _alarms(ws: Any, until: Any) -> list[dict]:
    """Alarm data off the socket until ``until(alarms so far)`` holds."""
    alarms: list[dict] = []
    while not until(alarms):
        event = ws.receive_json()
        if event["type"] == "alarm":
            alarms.append(event["data"])
    return alarms


def _kinds(*kinds: str) -> Any:
    return lambda alarms: set(kinds) <= {a["kind"] for a in alarms}


def _in_force(ws: Any, nudge: Any = None) -> list[dict]:
    """The alarms in force a console opened now is sent after hello, before anything live: up to the end of
    an ended hearing's stream, or up to the first event published after it opened (``nudge()`` publishes one)."""
    hello = ws.receive_json()
    assert hello["type"] == "hello", hello
    if nudge is not None:
        nudge()
    alarms = []
    while True:
        try:
            event = ws.receive_json()
        except WebSocketDisconnect:
            return alarms
        if event["type"] == "closed" or (event["seq"] or 0) > hello["data"]["last_seq"]:
            return alarms
        if event["type"] == "alarm":
            alarms.append(event["data"])


def _display(client: TestClient, token: str, hid: int) -> Any:
    """A display change on the hearing's stream (nothing shown): a live event after those a console gets first."""
    return lambda: client.put(f"/api/hearings/{hid}/display", json={},
                              headers={"Authorization": f"Bearer {token}"}).raise_for_status()


def test_alarms_name_no_stream_password_and_no_server_path_to_any_viewer(tmp_path, caplog) -> None:
    """A party's screen and a room's terminal get every alarm: the stream's password and the server's paths
    were in them ("cannot read rtsp://camadmin:S3cretPW@…", "/srv/courtroom/models/large-v3 is not a …").
    The server's log keeps the whole text."""
    world = build_world(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}", transcribe={"model": MODEL},
                        capture={"retry_seconds": 0.5})
    c, hid = world.client, world.ids["hearing"]
    try:
        with caplog.at_level(logging.WARNING), \
                c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['party']}") as party, \
                c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['terminal']}") as terminal:
            party.receive_json(), terminal.receive_json()  # hello
            r = c.post(f"/api/hearings/{hid}/start", json={"source": "stream", "url": STREAM},
                       headers=world.auth("clerk"))
            assert r.status_code == 200, r.text
            seen = [*_alarms(party, _kinds("source_error", "transcription_failed")),
                    *_alarms(terminal, _kinds("source_error", "transcription_failed"))]
        with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['terminal']}") as later:
            in_force = _in_force(later, _display(c, world.tokens["judge"], hid))  # a terminal switched on now
        assert {"source_error", "transcription_failed"} <= {a["kind"] for a in in_force}, in_force
        for alarm in seen + in_force:
            text = json.dumps(alarm, ensure_ascii=False)
            assert "S3cretPW" not in text and "camadmin" not in text and "/srv/" not in text, alarm
        (source,) = {a["message"] for a in seen if a["kind"] == "source_error"}
        assert "rtsp://127.0.0.1:9/room1" in source, source  # which stream failed: still said
        (model,) = {a["message"] for a in seen if a["kind"] == "transcription_failed"}
        assert model.startswith("transcription stopped (a path on the server is not a CTranslate2"), model
        # The log says which stream and which model, and the stream's password to nobody.
        assert "rtsp://127.0.0.1:9/room1" in caplog.text and MODEL in caplog.text
        assert "S3cretPW" not in caplog.text
        assert c.post(f"/api/hearings/{hid}/stop", headers=world.auth("clerk")).status_code == 200
        # Nor the audit trail (the start's plan keeps the URL whole to resume the stream) to its readers,
        # nor the recording's manifest (its notes and gaps), which is filed with the evidence.
        for reader in ("judge", "admin"):
            trail = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth(reader))
            assert trail.status_code == 200 and "S3cretPW" not in trail.text and "camadmin" not in trail.text
            assert "rtsp://127.0.0.1:9/room1" in trail.text, trail.text
        assert c.get("/api/audit/verify", headers=world.auth("admin")).json()["ok"] is True
        manifest = (Path(c.app.state.services.settings.hearing_recording_dir(hid)) / "manifest.jsonl").read_text()
        assert "source" in manifest and "S3cretPW" not in manifest and "camadmin" not in manifest, manifest
    finally:
        world.client.__exit__(None, None, None)


def test_a_hearing_whose_resume_failed_records_again_after_a_recess_and_its_alarm_ends(tmp_path) -> None:
    """resume_failed told the clerk to stop the hearing and start it again: a stop ends it for good (the
    start is then refused). A recess and a start record again, as the alarm now says; and the alarm ended
    neither with the recess nor with the stop: consoles opened later still showed it in force."""
    world = build_world(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}", transcribe={"model": MODEL})
    c, clerk = world.client, world.auth("clerk")
    recessed, stopped = world.ids["hearing"], world.ids["other_hearing"]
    sources = {hid: tmp_path / f"room-{hid}.flac" for hid in (recessed, stopped)}
    for hid, source in sources.items():
        shutil.copy(FIXTURE, source)
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(source)}, headers=clerk)
        assert r.status_code == 200, r.text
    time.sleep(1.5)
    settings = c.app.state.services.settings
    c.__exit__(None, None, None)  # the server stops; its hearings stay in progress, to resume
    for source in sources.values():
        source.unlink()  # gone at the restart: the resumes fail
    c = TestClient(create_app(settings))
    c.__enter__()
    try:
        token = world.tokens["clerk"]
        with c.websocket_connect(f"/ws/hearings/{recessed}?token={token}") as ws:
            (alarm,) = _in_force(ws, _display(c, world.tokens["judge"], recessed))
            assert alarm["kind"] == "resume_failed" and alarm["active"], alarm
            assert "call a recess (休庭), then start the hearing again" in alarm["message"], alarm
            assert "stop the hearing" not in alarm["message"] and str(tmp_path) not in alarm["message"], alarm
            r = c.post(f"/api/hearings/{recessed}/pause", headers=clerk)
            assert r.status_code == 200 and r.json()["status"] == "paused", r.text
            events = []
            while not events or events[-1]["type"] != "status":
                events.append(ws.receive_json())
            assert events[-1]["data"]["status"] == "paused", events
            ended = [e["data"] for e in events if e["type"] == "alarm"]
            assert [(a["kind"], a["active"]) for a in ended] == [("resume_failed", False)], events
        shutil.copy(FIXTURE, sources[recessed])
        r = c.post(f"/api/hearings/{recessed}/start", json={}, headers=clerk)
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        with c.websocket_connect(f"/ws/hearings/{recessed}?token={token}") as ws:
            in_force = _in_force(ws, _display(c, world.tokens["judge"], recessed))
            assert "resume_failed" not in {a["kind"] for a in in_force}, in_force
        for hid in (recessed, stopped):
            r = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
            assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        with c.websocket_connect(f"/ws/hearings/{stopped}?token={token}") as ws:  # its stream, over
            assert "resume_failed" not in {a["kind"] for a in _in_force(ws)}
        (rec,) = c.get(f"/api/hearings/{recessed}/recordings", headers=clerk).json()
        assert rec["blob_sha256"] and rec["duration_s"] >= 1.5, rec  # recorded before the restart: filed
    finally:
        c.__exit__(None, None, None)


def test_a_start_the_dossier_refused_leaves_nothing_and_the_next_one_records_from_the_beginning(
        world, refusing_writes, monkeypatch) -> None:
    """The dossier refused the recording's row after the recorder had opened: its directory stayed, so
    the next start resumed it, a gap "after a crash" at 0:00, the file replayed from where that gap ended
    (its first seconds never recorded)."""
    from models.db import make_engine

    c, clerk = world.client, world.auth("clerk")
    services = c.app.state.services

    async def no_transcriber() -> None:  # this test is about the recording (the decoder is tested elsewhere)
        raise RuntimeError("no transcriber in this test")

    monkeypatch.setattr(services.transcription, "scheduler", no_transcriber)
    room = c.post("/api/courtrooms", headers=world.auth("admin"), json={
        "court_id": world.ids["court"], "name": f"重开法庭-{uuid.uuid4().hex[:6]}", "profile_name": "demo"}).json()
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": room["id"]},
                 headers=clerk).json()["id"]
    directory = Path(services.settings.hearing_recording_dir(hid))
    plan = {"source": "file", "url": str(FIXTURE), "speed": 4}
    engine = make_engine(services.settings.database.url)
    try:
        with refusing_writes(engine, "recordings"):
            try:
                r = c.post(f"/api/hearings/{hid}/start", json=plan, headers=clerk)
                refused = (r.status_code, r.text)
            except Exception as exc:  # PostgreSQL's refusal is no integrity error: a 500, the test client raises it
                refused = (500, str(exc))
    finally:
        engine.dispose()
    assert refused[0] in (409, 500) and "refuses writes" in refused[1], refused
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"
    assert not directory.exists(), sorted(p.name for p in directory.rglob("*"))
    time.sleep(1.0)  # the clerk tries again a moment later
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json=plan, headers=clerk)
        assert r.status_code == 200, r.text
        statuses = []
        while not statuses or statuses[-1] != "source_ended":
            event = ws.receive_json()
            if event["type"] == "status":
                statuses.append(event["data"]["status"])
    assert statuses[0] == "started", statuses  # a new recording, not a resumed one
    r = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
    assert r.status_code == 200, r.text
    (rec,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    # No gap but the moment from the file's end to the stop ("source ended"), none from a restart at 0:00.
    assert [g for g in rec["gaps"] if g[0] < 5.9] == [] and rec["duration_s"] >= 5.8, rec
    entries = read_entries(directory)
    assert [e for e in entries if e["type"] == "resume"] == [] and (directory / MANIFEST_NAME).exists()
    assert {e["reason"] for e in entries if e["type"] == "gap"} <= {"source ended"}, entries
    import numpy as np
    import soundfile as sf

    recorded, _ = sf.read(directory / "final" / "recording.flac", dtype="float32", always_2d=True)
    source, _ = sf.read(FIXTURE, dtype="float32", always_2d=True)
    assert np.allclose(recorded[: len(source)], source[: len(recorded)], atol=1e-3)  # from its first second

