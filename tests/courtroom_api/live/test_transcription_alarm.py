"""The clerk is told when the model fails every decode of a running hearing, and when it works again;
the recording goes on meanwhile. The real app in-process, its live socket, the real model behind a
decoder that fails on demand (a GPU fault, say)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_world import build_world

from transcribe.decoder import Decoder

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


@pytest.fixture
def failing_world(tmp_path, whisper_base):  # type: ignore[no-untyped-def]
    """A courthouse whose one transcription scheduler decodes with a ``FailingDecoder``."""
    from transcribe.model_store import ModelStore, load_model
    from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler

    world = build_world(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}")
    decoder = FailingDecoder(load_model(ModelStore(tmp_path / "cache"), whisper_base))
    scheduler = TranscriptionScheduler(decoder, SchedulerOptions(workers=1))
    world.client.portal.call(scheduler.__aenter__)  # on the app's event loop
    world.client.app.state.services.transcription._scheduler = scheduler  # closed with the app
    yield world, decoder
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


def test_decodes_failing_in_a_row_raise_an_alarm_cleared_when_they_work_again(failing_world) -> None:
    world, decoder = failing_world
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
