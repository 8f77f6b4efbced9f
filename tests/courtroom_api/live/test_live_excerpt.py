"""A line said minutes ago is heard again while the hearing goes on: ``/excerpt`` of a live hearing, from
the segments already written and the audio the recorder still holds. The real app in-process, a hearing
replayed from a file through the real capture stack, the real model behind the transcriber."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from api_world import World, build_world

from capture.manifest import read_entries

TONES = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "four_seats_tones.flac"  # 6 s, a seat at a time
RATE = 16000


@pytest.fixture(scope="module")
def live(tmp_path_factory, whisper_base) -> World:  # type: ignore[no-untyped-def]
    """The seeded hearing (its witness line at 5.5-7 s sealed) started from the tones, 4 s segments, and
    run until its source ended: 0-4 s in a segment file, 4-6 s only in the recorder's memory."""
    from transcribe.model_store import ModelStore, load_model
    from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler

    data = tmp_path_factory.mktemp("excerpt")
    world = build_world(data, f"sqlite:///{data / 'courtroom.sqlite3'}", capture={"segment_seconds": 4.0})
    scheduler = TranscriptionScheduler(load_model(ModelStore(data / "cache"), whisper_base), SchedulerOptions(workers=1))
    world.client.portal.call(scheduler.__aenter__)  # on the app's event loop
    _services(world).transcription._scheduler = scheduler  # closed with the app
    c, hid = world.client, world.ids["hearing"]
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['clerk']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(TONES), "speed": 4},
                   headers=world.auth("clerk"))
        assert r.status_code == 200, r.text
        while (event := ws.receive_json())["type"] != "status" or event["data"]["status"] != "source_ended":
            pass
    yield world
    world.client.__exit__(None, None, None)


def _heard(start_s: float, end_s: float) -> np.ndarray:
    """The listening mix of the tones from ``start_s`` to ``end_s`` as 16-bit samples (every seat at 0 dB)."""
    tones, _ = sf.read(TONES, dtype="int16", start=round(start_s * RATE), stop=round(end_s * RATE))
    return np.rint(tones.astype(np.float64).sum(axis=1) / 2.0)


def _excerpt(world: World, who: str, start: float, end: float):  # type: ignore[no-untyped-def]
    return world.client.get(f"/api/hearings/{world.ids['hearing']}/excerpt", params={"start": start, "end": end},
                            headers=world.auth(who))


def _services(world: World) -> Any:
    return world.client.app.state.services  # type: ignore[attr-defined]


def _directory(world: World) -> Path:
    return Path(_services(world).settings.hearing_recording_dir(world.ids["hearing"]))


def _samples(response) -> np.ndarray:  # type: ignore[no-untyped-def]
    info = sf.info(io.BytesIO(response.content))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, RATE)
    samples, _ = sf.read(io.BytesIO(response.content), dtype="int16")
    return samples.astype(np.int64)


def test_the_bench_hears_a_stretch_of_a_live_hearing_from_disk_and_memory(live: World) -> None:
    hid = live.ids["hearing"]
    hearing = live.client.get(f"/api/hearings/{hid}", headers=live.auth("clerk")).json()
    assert hearing["status"] == "in_progress"
    play = live.client.get(f"/api/hearings/{hid}/play", headers=live.auth("clerk"), follow_redirects=False)
    assert play.status_code == 409 and "still being made" in play.text  # no filed recording yet
    written = [e for e in read_entries(_directory(live)) if e["type"] == "segment"]
    assert written[-1]["first_sample"] + written[-1]["frames"] == 4 * RATE  # 4-6 s: only in memory
    r = _excerpt(live, "clerk", 3.0, 5.5)  # 3-4 s from a segment file, 4-5.5 s from the recorder's memory
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    got = _samples(r)
    assert len(got) == 2.5 * RATE
    assert np.abs(got - _heard(3.0, 5.5)).max() <= 1
    assert np.abs(got[-RATE // 2 :]).max() > 1000  # the defendant's tone, only in memory, is heard
    part = live.client.get(f"/api/hearings/{hid}/excerpt", params={"start": 3.0, "end": 5.5},
                           headers={**live.auth("clerk"), "Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"RIFF"
    head = live.client.head(f"/api/hearings/{hid}/excerpt", params={"start": 3.0, "end": 5.5}, headers=live.auth("clerk"))
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(r.content)
    # Past what is recorded: silence, and a window that starts there is refused with the reason.
    assert not _samples(_excerpt(live, "clerk", 5.9, 7.0))[RATE // 10 :].any()
    later = _excerpt(live, "clerk", 6.5, 8.0)
    assert later.status_code == 409 and "nothing from 6.50 s on has been recorded yet" in later.text


def test_a_party_hears_its_own_live_hearing_through_a_media_link_with_the_sealed_line_silent(live: World) -> None:
    hid = live.ids["hearing"]
    link = live.client.post("/api/auth/media-links", json={"path": f"/api/hearings/{hid}/excerpt"},
                            headers=live.auth("party"))
    assert link.status_code == 200, link.text
    r = live.client.get(link.json()["url"] + "&start=4.6&end=5.7")  # no Authorization header
    assert r.status_code == 200, r.text
    heard, bench = _samples(r), _samples(_excerpt(live, "clerk", 4.6, 5.7))
    # The witness line at 5.5-7 s is sealed: silent from 5.2 s (0.3 s before it) for the party.
    assert np.abs(heard[: round(0.6 * RATE)] - _heard(4.6, 5.2)).max() <= 1
    assert not heard[round(0.6 * RATE) :].any()
    assert np.abs(bench[round(0.6 * RATE) :]).max() > 1000  # the bench hears it


@pytest.mark.parametrize("who", ["other_party", "other_terminal"])
def test_others_cannot_hear_the_hearing(live: World, who: str) -> None:
    """A party of another case, a terminal of another room: refused as they are the hearing's recordings."""
    r = _excerpt(live, who, 0.0, 1.0)
    assert r.status_code in (403, 404)
    recordings = live.client.get(f"/api/hearings/{live.ids['hearing']}/recordings", headers=live.auth(who))
    assert (r.status_code, r.json()) == (recordings.status_code, recordings.json())


@pytest.mark.parametrize(("start", "end"), [(2.0, 2.0), (3.0, 2.0), (0.0, 300.5), (-1.0, 1.0)])
def test_a_window_that_is_not_one_is_refused(live: World, start: float, end: float) -> None:
    r = _excerpt(live, "clerk", start, end)
    assert r.status_code == 422, r.text


def test_a_segment_file_or_a_directory_lost_while_the_hearing_goes_on_is_said_so(live: World) -> None:
    """A segment file gone (a disk error, a hand that deleted it) was "nothing of hearing N has been
    recorded yet", 409, while another stretch of the same hearing played: now 404 naming the time it
    held, and the recording's directory gone (a recordings disk unmounted) is said so too; no server path."""
    directory = _directory(live)
    segment = directory / "segments" / "000000.flac"  # 0-4 s
    aside = directory.with_name(directory.name + ".aside")
    segment.rename(aside)
    try:
        r = _excerpt(live, "clerk", 0.0, 6.0)
        assert r.status_code == 404, r.text
        detail = r.json()["detail"]
        assert "000000.flac" in detail and "0:00:00–0:00:04" in detail and "recorded yet" not in detail
        assert str(live.data_dir) not in detail
        assert _excerpt(live, "clerk", 4.5, 5.5).status_code == 200  # memory only: still heard
    finally:
        aside.rename(segment)
    directory.rename(aside)
    try:
        r = _excerpt(live, "clerk", 0.0, 1.0)
        assert r.status_code == 404 and "not on this server" in r.text and "recorded yet" not in r.text, r.text
        assert str(live.data_dir) not in r.text
    finally:
        aside.rename(directory)
    assert _excerpt(live, "clerk", 0.0, 6.0).status_code == 200
    later = live.client.post(f"/api/cases/{live.ids['case']}/hearings", json={"courtroom_id": live.ids["room"]},
                             headers=live.auth("clerk")).json()["id"]  # not started: nothing recorded, as before
    r = live.client.get(f"/api/hearings/{later}/excerpt", params={"start": 0, "end": 1}, headers=live.auth("clerk"))
    assert r.status_code == 409 and f"nothing of hearing {later} has been recorded yet" in r.text, r.text


def test_after_the_hearing_the_excerpt_is_served_while_its_segments_are_there(live: World) -> None:
    hid = live.ids["hearing"]
    stop = live.client.post(f"/api/hearings/{hid}/stop", headers=live.auth("clerk"))
    assert stop.status_code == 200, stop.text
    r = _excerpt(live, "clerk", 3.0, 5.5)
    assert r.status_code == 200 and np.abs(_samples(r) - _heard(3.0, 5.5)).max() <= 1
    shutil.rmtree(_directory(live) / "segments")
    gone = _excerpt(live, "clerk", 3.0, 5.5)
    assert gone.status_code == 404 and f"/api/hearings/{hid}/play" in gone.text
