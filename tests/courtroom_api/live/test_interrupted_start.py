"""A start whose first manifest line a power cut tore, and a start on a manifest that is broken: the real app
in-process on SQLite and PostgreSQL, the demo hearing replayed through the real capture stack."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from capture.manifest import MANIFEST_NAME, read_entries
from capture.verify import verify_recording

SPEECH = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "demo_hearing_22s.flac"


def _hearing(world: Any, name: str) -> tuple[int, Path]:
    """A new hearing of the world's case in a new demo room, and its recording directory."""
    c, clerk = world.client, world.auth("clerk")
    room = c.post("/api/courtrooms", headers=world.auth("admin"), json={
        "court_id": world.ids["court"], "name": f"{name}-{uuid.uuid4().hex[:6]}", "profile_name": "demo"}).json()
    hid = int(c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": room["id"]},
                     headers=clerk).json()["id"])
    return hid, Path(c.app.state.services.settings.hearing_recording_dir(hid))


def test_a_hearing_whose_first_manifest_line_was_torn_starts_and_records_from_0_s(world) -> None:
    """The power failed while the hearing's recording wrote its start: every later start was refused (409,
    naming a server path), after a restart the hearing could not resume. Nothing was recorded then, so the
    start records a new recording from 0 s; the torn bytes are kept beside the manifest."""
    c, clerk = world.client, world.auth("clerk")
    hid, directory = _hearing(world, "断电开庭")
    directory.mkdir(parents=True)
    torn = b'{"chain":"0f3a","channels":4,"format":"courtroom-recording/1","gains_db":[0.0,'
    (directory / MANIFEST_NAME).write_bytes(torn)
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH), "speed": 4},
                   headers=clerk)
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        while (event := ws.receive_json())["type"] != "meter" or event["data"]["time_s"] < 1.0:
            pass
        assert c.post(f"/api/hearings/{hid}/stop", headers=clerk).json()["status"] == "ended"
    (recording,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    assert recording["blob_sha256"] and recording["duration_s"] >= 1.0 and recording["gaps"] == [], recording
    entries = read_entries(directory)
    assert entries[0]["type"] == "start" and not [e for e in entries if e["type"] in ("gap", "resume")]
    assert verify_recording(directory).ok
    (kept,) = directory.glob(f"{MANIFEST_NAME}.torn-*")
    assert kept.read_bytes() == torn


def test_a_start_on_a_broken_manifest_is_refused_without_server_paths(world) -> None:
    """A whole first line that is no start entry is not a torn write: refused (409), the hearing as it was,
    the manifest untouched; the answer names the hearing's recording directory, not its path on the server."""
    c, clerk = world.client, world.auth("clerk")
    hid, directory = _hearing(world, "损坏开庭")
    directory.mkdir(parents=True)
    broken = b'{"type":"segment","first_sample":0,"frames":16000}\n'
    (directory / MANIFEST_NAME).write_bytes(broken)
    r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH)}, headers=clerk)
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "does not start with a courtroom-recording/1 start entry" in detail, detail
    assert str(world.data_dir) not in detail and "the hearing's recording directory" in detail
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"
    assert (directory / MANIFEST_NAME).read_bytes() == broken
