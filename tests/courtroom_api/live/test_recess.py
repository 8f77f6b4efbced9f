"""A recess: the bench pauses a hearing and later goes on with it. One hearing, one recording with the recess
as a gap, the transcript of both parts. The real app in-process on SQLite and PostgreSQL, the demo hearing
replayed through the real capture stack, the real model behind the transcriber."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from capture.journal import JOURNAL_NAME
from capture.manifest import MANIFEST_NAME, read_entries

SPEECH = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "demo_hearing_22s.flac"
RATE = 16000


@pytest.fixture
def transcribing(world, whisper_base):  # type: ignore[no-untyped-def]
    """The shared world with the real model behind its transcriber for this test (none loads otherwise)."""
    from transcribe.decoder import Decoder
    from transcribe.model_store import ModelStore, load_model
    from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler

    services = world.client.app.state.services
    before = services.transcription._scheduler
    model = load_model(ModelStore(world.data_dir / "cache"), whisper_base)
    scheduler = TranscriptionScheduler(Decoder(model, "base"), SchedulerOptions(workers=1))
    world.client.portal.call(scheduler.__aenter__)  # on the app's event loop
    services.transcription._scheduler = scheduler
    yield world
    services.transcription._scheduler = before
    world.client.portal.call(scheduler.__aexit__, None, None, None)


def _until(ws: Any, done: Any) -> list[dict]:
    """Events of the socket up to the first one ``done`` accepts (that one included)."""
    seen = []
    while True:
        seen.append(ws.receive_json())
        if done(seen[-1]):
            return seen


def _status(name: str) -> Any:
    return lambda e: e["type"] == "status" and e["data"]["status"] == name


def test_a_recess_pauses_the_hearing_and_start_goes_on_with_the_same_recording(transcribing) -> None:
    world = transcribing
    c, clerk, judge = world.client, world.auth("clerk"), world.auth("judge")
    room = c.post("/api/courtrooms", headers=world.auth("admin"), json={
        "court_id": world.ids["court"], "name": f"休庭庭-{uuid.uuid4().hex[:6]}", "profile_name": "demo"}).json()
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": room["id"]}, headers=clerk).json()["id"]
    directory = Path(c.app.state.services.settings.hearing_recording_dir(hid))
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH)},
                   headers=clerk)
        assert r.status_code == 200, r.text
        # The clerk's "Please rise. The court is now in session." (1.8-4.3 s) said, the judge calls a recess.
        before = _until(ws, lambda e: e["type"] == "meter" and e["data"]["time_s"] >= 4.6)
        r = c.post(f"/api/hearings/{hid}/pause", headers=judge)
        assert r.status_code == 200 and r.json()["status"] == "paused", r.text
        assert r.json()["recording_held"] is False and r.json()["warning"] is None  # all of it on disk
        before += _until(ws, _status("paused"))
        assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "paused"
        # Everything recorded so far is on disk, committed in the manifest (no journal left to recover), and
        # the finals of the first part are filed.
        entries = read_entries(directory)
        written = [e for e in entries if e["type"] == "segment"]
        paused_at = written[-1]["first_sample"] + written[-1]["frames"]
        assert paused_at >= 4.6 * RATE and not (directory / JOURNAL_NAME).exists()
        assert not [e for e in entries if e["type"] in ("gap", "final")]
        first_part = c.get(f"/api/hearings/{hid}/segments", headers=clerk).json()
        finals = [e["data"] for e in before if e["type"] == "transcript.final"]
        assert finals and sorted(f["segment_id"] for f in finals) == sorted(s["id"] for s in first_part)
        assert "session" in " ".join(s["text"] for s in first_part).lower()
        # Nothing is recorded in the recess; a second pause is refused.
        manifest = (directory / MANIFEST_NAME).read_bytes()
        time.sleep(1.5)
        assert (directory / MANIFEST_NAME).read_bytes() == manifest
        again = c.post(f"/api/hearings/{hid}/pause", headers=clerk)
        assert again.status_code == 409 and "not in progress" in again.json()["detail"]
        # The bench's 开庭 goes on with the hearing, as it was started (the same file, at the room's time: in
        # real time, as a room's microphones are, so that the recess is as long in the recording).
        r = c.post(f"/api/hearings/{hid}/start", json={}, headers=judge)
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        after = _until(ws, _status("source_ended"))
        assert [e["data"]["status"] for e in after if e["type"] == "status"] == ["resumed", "source_ended"]
        r = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    gaps = [e for e in read_entries(directory) if e["type"] == "gap"]
    # The recess; then, the stop coming a moment after the file ended, that moment (see the test below).
    gap, *stopped = gaps
    assert [g["reason"] for g in stopped] in ([], ["source ended"]), gaps
    assert gap["reason"] == "recess" and gap["first_sample"] == paused_at and gap["frames"] >= RATE
    resumed_s = (gap["first_sample"] + gap["frames"]) / RATE
    (recording,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    audio_end = stopped[0]["first_sample"] / RATE if stopped else recording["duration_s"]
    assert recording["blob_sha256"] and abs(audio_end - 22.0) < 0.5  # the file at the room's time
    assert [tuple(g) for g in recording["gaps"][:1]] == [(pytest.approx(paused_at / RATE, abs=0.01),
                                                          pytest.approx(resumed_s, abs=0.01))]
    segments = c.get(f"/api/hearings/{hid}/segments", headers=clerk).json()
    assert [s["id"] for s in first_part] == [s["id"] for s in segments[: len(first_part)]]
    later = [s for s in segments if s["start_s"] >= resumed_s - 0.1]  # (the model's times: to 0.02 s or so)
    assert later and "present" in " ".join(s["text"] for s in later).lower(), segments
    assert not [s for s in segments if paused_at / RATE + 0.1 < s["start_s"] < resumed_s - 0.1]
    from capture.verify import verify_recording

    result = verify_recording(directory)
    assert result.ok and result.finalized, str(result)
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("admin")).json()
    assert [a["action"] for a in reversed(audit)] == ["hearing.create", "hearing.start", "hearing.pause_requested",
                                                      "hearing.pause", "hearing.start", "hearing.stop_requested",
                                                      "hearing.stop"]
    assert json.dumps(audit[2]["details"]).find("after_recess") >= 0  # (the second start)


def _recess_hearing(world: Any, name: str) -> int:
    """A new hearing of the world's case in a new demo room."""
    c, clerk = world.client, world.auth("clerk")
    room = c.post("/api/courtrooms", headers=world.auth("admin"), json={
        "court_id": world.ids["court"], "name": f"{name}-{uuid.uuid4().hex[:6]}", "profile_name": "demo"}).json()
    return int(c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": room["id"]},
                      headers=clerk).json()["id"])


def test_a_seat_given_in_a_recess_holds_from_where_the_recording_goes_on(world) -> None:
    """The clerk seats the next speaker at the plaintiff's microphone during the recess: the seat held from
    0 s, so the one seated there before kept the microphone after the recess; a dismissal was a 422."""
    c, clerk = world.client, world.auth("clerk")
    hid = _recess_hearing(world, "休庭换座")
    people = [c.post(f"/api/cases/{world.ids['case']}/participants", headers=clerk, json={
        "name": f"{who}-{uuid.uuid4().hex[:6]}", "role": "plaintiff"}).json()["id"] for who in ("甲", "乙")]
    directory = Path(c.app.state.services.settings.hearing_recording_dir(hid))
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH)}, headers=clerk)
        assert r.status_code == 200, r.text
        _until(ws, lambda e: e["type"] == "meter" and e["data"]["time_s"] >= 1.0)
        first = c.post(f"/api/hearings/{hid}/seats", json={"seat": "plaintiff", "participant_id": people[0]},
                       headers=clerk).json()
        _until(ws, lambda e: e["type"] == "meter" and e["data"]["time_s"] >= 2.5)
        assert c.post(f"/api/hearings/{hid}/pause", headers=clerk).status_code == 200
        _until(ws, _status("paused"))
        written = [e for e in read_entries(directory) if e["type"] == "segment"]
        paused_at = (written[-1]["first_sample"] + written[-1]["frames"]) / RATE
        r = c.post(f"/api/hearings/{hid}/seats", json={"seat": "plaintiff", "participant_id": people[1]},
                   headers=clerk)
        assert r.status_code == 201 and r.json()["from_s"] == pytest.approx(paused_at), r.text
        r = c.post(f"/api/hearings/{hid}/seats/{first['id']}/dismiss", json={}, headers=clerk)
        assert r.status_code == 200 and r.json()["to_s"] == pytest.approx(paused_at), r.text
        assert c.post(f"/api/hearings/{hid}/stop", headers=clerk).status_code == 200


def test_the_alarms_of_the_stopped_capture_end_with_the_recess(world) -> None:
    """An alarm raised before the recess (here: the disk is low, as a warning threshold above any disk's
    space makes it) stayed in force through the recess and after it, shown to every console that came, as
    the pipeline that goes on starts knowing of none and so never clears it."""
    c, clerk = world.client, world.auth("clerk")
    hid = _recess_hearing(world, "休庭告警")
    url = f"/ws/hearings/{hid}?token={world.tokens['clerk']}"
    capture = c.app.state.services.settings.capture
    warn = capture.disk_warn_minutes
    capture.disk_warn_minutes = 1e9
    try:
        with c.websocket_connect(url) as ws:
            r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH)}, headers=clerk)
            assert r.status_code == 200, r.text
            raised = _until(ws, lambda e: e["type"] == "alarm" and e["data"]["kind"] == "disk_low")[-1]["data"]
            assert raised["active"]
            assert c.post(f"/api/hearings/{hid}/pause", headers=clerk).status_code == 200
            _until(ws, _status("paused"))
    finally:
        capture.disk_warn_minutes = warn
    with c.websocket_connect(url) as ws:  # a console opened in the recess: the alarms in force come first
        assert c.post(f"/api/hearings/{hid}/stop", headers=clerk).status_code == 200
        first = _until(ws, _status("ended"))
    assert not [e for e in first if e["type"] == "alarm" and e["data"]["kind"] == raised["kind"]], (raised, first)


def test_an_end_called_while_the_recess_is_being_called_ends_the_hearing(world) -> None:
    """The judge's 休庭 and the clerk's 闭庭 at once: the stop waited for the recess, then answered 409 "it is
    stopped now" while the hearing was in recess. It now goes on and ends the hearing."""
    from concurrent.futures import ThreadPoolExecutor

    c, clerk = world.client, world.auth("clerk")
    services = c.app.state.services
    hid = _recess_hearing(world, "休庭闭庭")
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH)}, headers=clerk)
        assert r.status_code == 200, r.text
        _until(ws, lambda e: e["type"] == "meter" and e["data"]["time_s"] >= 1.0)
        with ThreadPoolExecutor(1) as pool:
            pause = pool.submit(c.post, f"/api/hearings/{hid}/pause", headers=world.auth("judge"))
            while services.hearings.get(hid) is not None:  # the recess has begun: its pipeline is stopping
                time.sleep(0.005)
            stop = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
            assert pause.result().status_code == 200
        assert stop.status_code == 200 and stop.json()["status"] == "ended", stop.text
    (recording,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    assert recording["blob_sha256"]


TONES = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "four_seats_tones.flac"  # 6 s, the room's seats


def _record_lines(world: Any, hid: int) -> list[str]:
    """The court record's lines (庭审笔录, DOCX) that say where the recording holds no audio."""
    import io

    from docx import Document

    r = world.client.get(f"/api/hearings/{hid}/transcript", params={"format": "docx"}, headers=world.auth("clerk"))
    assert r.status_code == 200, r.text
    return [p.text for p in Document(io.BytesIO(r.content)).paragraphs if "（录音中断" in p.text or "（休庭" in p.text]


def test_a_source_that_ended_before_the_recess_is_an_outage_not_part_of_the_recess(world) -> None:
    """The hearing's file ended, the hearing went on, the judge called a recess and went on after it: the record
    printed all of it, from the end of the file to the resume, as the recess (（休庭48秒…） for a 3 s recess), and
    the time from the file's second end to the stop nowhere."""
    c, clerk, judge = world.client, world.auth("clerk"), world.auth("judge")
    hid = _recess_hearing(world, "断录休庭")
    directory = Path(c.app.state.services.settings.hearing_recording_dir(hid))
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(TONES), "speed": 4},
                   headers=clerk)
        assert r.status_code == 200, r.text
        _until(ws, _status("source_ended"))
        time.sleep(2.0)  # the hearing goes on, nothing recorded
        paused = time.time()
        assert c.post(f"/api/hearings/{hid}/pause", headers=judge).status_code == 200
        _until(ws, _status("paused"))
        time.sleep(1.0)
        r = c.post(f"/api/hearings/{hid}/start", json={}, headers=judge)
        assert r.status_code == 200, r.text
        resumed = time.time()
        _until(ws, _status("source_ended"))  # (the file at the room's time: past its end)
        time.sleep(1.5)
        r = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    gaps = [(e["first_sample"], e["frames"], e["reason"]) for e in read_entries(directory) if e["type"] == "gap"]
    assert [reason for _, _, reason in gaps] == ["source ended", "recess", "source ended"], gaps
    ended, recess, again = gaps
    assert ended[0] == 6 * RATE and ended[1] >= 2.0 * RATE  # from the file's end to the recess
    assert 1.0 * RATE <= recess[1] <= (resumed - paused) * RATE  # only the recess
    assert again[1] >= 1.5 * RATE  # from the resume to the stop
    (recording,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    end = (again[0] + again[1]) / RATE
    assert recording["duration_s"] == pytest.approx(end, abs=0.01)  # the recording runs to the stop
    assert [tuple(g) for g in recording["gaps"]] == [
        (pytest.approx(first / RATE, abs=0.01), pytest.approx((first + frames) / RATE, abs=0.01))
        for first, frames, _ in gaps]
    from courtroom_api.exports.records import clock

    lines = _record_lines(world, hid)
    printed = [f"[{clock(first / RATE)[:8]}] （{'休庭' if reason == 'recess' else '录音中断'}" for first, _, reason in gaps]
    assert len(lines) == 3 and all(line.startswith(p) for line, p in zip(lines, printed, strict=True)), lines
    from capture.verify import verify_recording

    assert verify_recording(directory).ok


def test_a_device_that_never_opened_is_said_in_the_record(world) -> None:
    """A hearing whose microphones never opened was filed with an empty recording (0 s, no gaps): the record
    said nothing of the hearing going on unrecorded."""
    c, clerk = world.client, world.auth("clerk")
    hid = _recess_hearing(world, "无设备")
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        began = time.time()
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "device", "device": "no-such-device-xyz"},
                   headers=clerk)
        assert r.status_code == 200, r.text
        _until(ws, lambda e: e["type"] == "alarm" and e["data"]["kind"] == "source_error")
        time.sleep(1.5)
        r = c.post(f"/api/hearings/{hid}/stop", headers=clerk)
        held = time.time() - began
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    (recording,) = c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json()
    assert recording["blob_sha256"] and 1.5 <= recording["duration_s"] <= held, recording
    assert recording["gaps"] == [[0.0, pytest.approx(recording["duration_s"], abs=0.01)]]
    (line,) = _record_lines(world, hid)
    assert line.startswith("[00:00:00] （录音中断"), line
