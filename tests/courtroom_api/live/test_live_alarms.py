"""Alarms on a hearing's live stream as every viewer gets them, a resume that failed and its way back, and a
start that failed. The real app in-process, its live socket, the real capture stack (ffmpeg for a stream)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from api_world import build_world
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

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
        assert STREAM in caplog.text and MODEL in caplog.text
        assert c.post(f"/api/hearings/{hid}/stop", headers=world.auth("clerk")).status_code == 200
    finally:
        world.client.__exit__(None, None, None)

