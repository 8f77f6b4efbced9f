"""The clerk is told when the model fails every decode of a running hearing, and when it works again;
the recording goes on meanwhile. The real app in-process, its live socket, the real model behind a
decoder that fails on demand (a GPU fault, say)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_world import build_world

from transcribe.decoder import Decoder
from transcribe.errors import TranscribeError
from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler

HEARING_AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "demo_hearing_22s.flac"


class FailingDecoder(Decoder):
    """The real decoder, failing every decode while ``failing`` is set."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, "base")
        self.failing = True

    def decode(self, audio, offset_s, options):  # type: ignore[no-untyped-def]
        if self.failing:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return super().decode(audio, offset_s, options)


class FailingFeed(TranscriptionScheduler):
    """The real scheduler, whose ``feed`` fails from the ``fail_at``-th chunk on (a transcriber bug)."""

    def __init__(self, decoder: Decoder, fail_at: int) -> None:
        super().__init__(decoder, SchedulerOptions(workers=1))
        self.fed, self.fail_at = 0, fail_at

    def feed(self, room_id, chunk):  # type: ignore[no-untyped-def]
        self.fed += 1
        if self.fed >= self.fail_at:
            raise TranscribeError("the room's transcriber broke")
        super().feed(room_id, chunk)


@pytest.fixture
def courthouse(tmp_path, whisper_base):  # type: ignore[no-untyped-def]
    """``courthouse(make_scheduler)``: the app in-process, its one transcription scheduler
    ``make_scheduler(model)`` (the real model)."""
    from transcribe.model_store import ModelStore, load_model

    worlds = []

    def build(make_scheduler):  # type: ignore[no-untyped-def]
        world = build_world(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}")
        worlds.append(world)
        scheduler = make_scheduler(load_model(ModelStore(tmp_path / "cache"), whisper_base))
        world.client.portal.call(scheduler.__aenter__)  # on the app's event loop
        world.client.app.state.services.transcription._scheduler = scheduler  # closed with the app
        return world, scheduler

    yield build
    for world in worlds:
        world.client.__exit__(None, None, None)


def _alarms_until(ws, active: bool) -> list[dict]:  # type: ignore[no-untyped-def]
    """Alarm events until the transcription_failed one with ``active``; fails if the audio ends first."""
    seen = []
    while True:
        event = ws.receive_json()
        assert event["type"] != "status" or event["data"]["status"] != "source_ended", seen
        if event["type"] == "alarm":
            seen.append(event["data"])
            if event["data"]["kind"] == "transcription_failed" and event["data"]["active"] is active:
                return seen


def test_decodes_failing_in_a_row_raise_an_alarm_cleared_when_they_work_again(courthouse) -> None:
    world, scheduler = courthouse(lambda model: TranscriptionScheduler(FailingDecoder(model), SchedulerOptions(workers=1)))
    decoder = scheduler.decoder
    c, hid = world.client, world.ids["hearing"]
    r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(HEARING_AUDIO)},
               headers=world.auth("clerk"))
    assert r.status_code == 200, r.text
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        raised = _alarms_until(ws, True)[-1]
        assert "decodes in a row failed" in raised["message"] and "illegal memory access" in raised["message"]
        assert "recording continues" in raised["message"]
        decoder.failing = False
        cleared = _alarms_until(ws, False)
        assert cleared[-1]["message"] == "transcription working again"
        # Raised once while it failed, not once per failed decode.
        assert [a["active"] for a in cleared if a["kind"] == "transcription_failed"] == [False]
    r = c.post(f"/api/hearings/{hid}/stop", headers=world.auth("clerk"))
    assert r.status_code == 200, r.text
    recordings = c.get(f"/api/hearings/{hid}/recordings", headers=world.auth("clerk"))
    assert recordings.status_code == 200 and recordings.json()[0]["duration_s"] > 1.0, recordings.text


def test_a_transcriber_that_fails_mid_hearing_raises_one_alarm_not_one_per_hundred_chunks(
        courthouse, tmp_path) -> None:
    """Its audio was still queued for it after it failed: the queue filled and "consumer 'transcriber' is
    behind" was raised every 100 chunks for the rest of the hearing (715 false alarms an hour)."""
    import numpy as np
    import soundfile as sf

    world, _ = courthouse(lambda model: FailingFeed(Decoder(model, "base"), fail_at=10))
    audio, rate = sf.read(HEARING_AUDIO, dtype="float32", always_2d=True)
    long_hearing = tmp_path / "long_hearing.flac"  # 88 s: 880 chunks of 100 ms, the queue holds 512
    sf.write(long_hearing, np.tile(audio, (4, 1)), rate)
    c, hid = world.client, world.ids["hearing"]
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(long_hearing), "speed": 40},
                   headers=world.auth("clerk"))
        assert r.status_code == 200, r.text
        alarms = []
        while (event := ws.receive_json())["type"] != "status" or event["data"]["status"] != "source_ended":
            if event["type"] == "alarm":
                alarms.append(event["data"])
    assert [(a["kind"], a["active"]) for a in alarms] == [("transcription_failed", True)], alarms
    assert "the room's transcriber broke" in alarms[0]["message"]
    assert c.post(f"/api/hearings/{hid}/stop", headers=world.auth("clerk")).status_code == 200
    recordings = c.get(f"/api/hearings/{hid}/recordings", headers=world.auth("clerk")).json()
    gaps = recordings[0]["gaps"]  # (the moment from the file's end to the stop a gap at the end, if any)
    audio_s = gaps[-1][0] if gaps else recordings[0]["duration_s"]
    assert audio_s == pytest.approx(88.0, abs=0.5)  # recorded to the end
