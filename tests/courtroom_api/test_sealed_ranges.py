"""A time range sealed with ``POST /api/hearings/{id}/seal`` seals the lines of that stretch that reach the
dossier after the seal too (a final the database refused, retried; a final late because transcription runs
behind the audio): in the dossier, search, the transcript, the recordings and the live stream."""

from __future__ import annotations

import io
import json

import soundfile as sf
from test_live_socket import _replayed
from test_sealed_audio import RATE, _recorded_hearing, _rms

from courtroom_api.exports.records import SEALED_TEXT
from courtroom_api.live.filing import file_final, hearing_stream
from courtroom_api.live.unfiled import Unfiled, file_held

SECRET = "证人住址是长春市机密路十八号。"
PUBLIC = "休庭十分钟后继续。"


def _values(text: str, start: float, end: float) -> dict:
    return {"start_s": start, "end_s": end, "text": text,
            "words": [{"start": start, "end": end, "word": text, "probability": 0.9}],
            "language": "zh", "channel": 3, "seat": "witness", "role": "witness", "participant_id": None,
            "confidence": 0.9, "engine": "test", "model": "test"}


def _final(text: str, start: float, end: float, segment_id: int | None) -> dict:
    """A final as the live pipeline publishes it (``live.events.transcript_data``'s keys that matter)."""
    return {"kind": "final", "segment_id": segment_id, "revision": 0, "start": start, "end": end, "text": text,
            "seat": "witness", "role": "witness", "words": [{"start": start, "end": end, "text": text, "p": 0.9}]}


def _seal(world, hid: int, start: float, end: float, sealed: bool = True) -> dict:
    r = world.client.post(f"/api/hearings/{hid}/seal", json={"start_s": start, "end_s": end, "sealed": sealed,
                                                             "reason": "证人个人信息"}, headers=world.auth("judge"))
    assert r.status_code == 200, r.text
    return r.json()


def _texts(world, hid: int, role: str) -> dict[int, str]:
    r = world.client.get(f"/api/hearings/{hid}/segments", headers=world.auth(role))
    assert r.status_code == 200, r.text
    return {s["id"]: s["text"] for s in r.json()}


def _heard(world, recording: int, role: str):  # type: ignore[no-untyped-def]
    r = world.client.get(f"/api/recordings/{recording}/audio", headers=world.auth(role))
    assert r.status_code == 200, r.text
    audio, rate = sf.read(io.BytesIO(r.content), dtype="float32", always_2d=True)
    assert rate == RATE
    return audio


def test_a_line_filed_after_a_range_seal_is_sealed_for_all_who_may_not_see_it(world) -> None:
    c, services = world.client, world.client.app.state.services
    hid, _, recording, _ = _recorded_hearing(world)  # lines at 0-2.5 s and 3.0-5.5 s, 10 s of tone
    assert _seal(world, hid, 6.0, 8.0) == {"segment_ids": [], "sealed": True}  # nothing filed there yet
    # A final of the sealed stretch reaches the dossier afterwards, by the path a held final is retried on;
    # one after the stretch is not sealed.
    inside = file_held(services, hid, Unfiled(seq=101, values=_values(SECRET, 6.4, 7.6))).segment_id
    outside = file_held(services, hid, Unfiled(seq=102, values=_values(PUBLIC, 8.6, 9.6))).segment_id
    lines = {s["id"]: s for s in c.get(f"/api/hearings/{hid}/segments", headers=world.auth("clerk")).json()}
    assert lines[inside]["sealed"] is True and lines[inside]["text"] == SECRET  # the bench reads it
    assert lines[outside]["sealed"] is False

    def found(q: str, role: str) -> set[int]:
        r = c.get("/api/search", params={"q": q}, headers=world.auth(role))
        assert r.status_code == 200, r.text
        return {h["segment_id"] for h in r.json()}

    assert inside not in found("机密路", "appeal_judge") and inside in found("机密路", "judge")
    assert outside in found("休庭十分钟", "appeal_judge")
    assert _texts(world, hid, "party")[inside] == SEALED_TEXT and _texts(world, hid, "party")[outside] == PUBLIC
    docx = c.get(f"/api/hearings/{hid}/transcript", params={"format": "docx"}, headers=world.auth("party"))
    assert docx.status_code == 200 and "机密路".encode() not in docx.content
    # A note on a moment of the sealed stretch where no line was said is not shown to a party either
    notes = [c.post(f"/api/hearings/{hid}/annotations", json={"kind": "note", "text": "此处", "visibility": "case",
                                                              "start_s": at}, headers=world.auth("clerk")).json()["id"]
             for at in (6.2, 9.8)]
    shown = {a["id"] for a in c.get(f"/api/hearings/{hid}/annotations", headers=world.auth("party")).json()}
    assert notes[0] not in shown and notes[1] in shown

    # Its recording is silent over the whole stretch for a party, also where no line was filed (6.0-6.4 s)
    for role in ("party", "appeal_judge"):
        audio = _heard(world, recording, role)
        assert _rms(audio, 6.0, 8.0) < 0.003, role
        assert _rms(audio, 8.6, 9.6) > 0.15 and _rms(audio, 3.0, 5.5) > 0.15, role
    assert _rms(_heard(world, recording, "clerk"), 6.0, 8.0) > 0.15

    # Live: a stream made after the seal (as after a restart) knows it, and the finals published now go
    # out redacted to a party's socket, whole to the bench's.
    stream = hearing_stream(services, hid)
    before = stream.last_seq
    stream.publish("transcript.final", _final(SECRET, 6.4, 7.6, inside))
    stream.publish("transcript.final", _final(PUBLIC, 8.6, 9.6, outside))
    party = [e["data"] for e in _replayed(c, hid, world.tokens["party"]) if e["seq"] > before]
    assert [(d["text"], d["words"] == []) for d in party] == [(SEALED_TEXT, True), (PUBLIC, False)]
    bench = [e["data"]["text"] for e in _replayed(c, hid, world.tokens["clerk"]) if e["seq"] > before]
    assert bench == [SECRET, PUBLIC]


async def test_a_final_held_while_its_range_was_sealed_is_filed_sealed_and_redacted_live(world) -> None:
    """The final went out live while the dossier refused it; the bench sealed its stretch; the retry files
    it: sealed, its earlier event redacted in replays, and sent again as sealed (a party's screen hides it)."""
    from courtroom_api.live.pipeline import HearingPipeline
    from courtroom_api.schemas import HearingStart

    c, services = world.client, world.client.app.state.services
    hid, _, _, _ = _recorded_hearing(world)
    pipeline = HearingPipeline(services, hid, HearingStart())
    pipeline.directory.mkdir(parents=True, exist_ok=True)
    pipeline.stream = hearing_stream(services, hid)
    held = pipeline.stream.publish("transcript.final", _final(SECRET, 6.4, 7.6, None))
    pipeline.backlog.hold(Unfiled(held.seq, values=_values(SECRET, 6.4, 7.6)), "the dossier refuses writes")
    assert _seal(world, hid, 6.0, 8.0) == {"segment_ids": [], "sealed": True}
    assert await pipeline.backlog.flush()

    lines = {s["seq"]: s for s in c.get(f"/api/hearings/{hid}/segments", headers=world.auth("clerk")).json()}
    assert lines[held.seq]["sealed"] is True
    segment_id = lines[held.seq]["id"]
    assert _texts(world, hid, "party")[segment_id] == SEALED_TEXT
    party = _replayed(c, hid, world.tokens["party"])
    assert all("机密路" not in e["data"]["text"] for e in party), party
    again = [e["data"] for e in party if e["type"] == "transcript.revised"]
    assert again and again[-1]["segment_id"] == segment_id and again[-1]["change"] == "sealed"
    assert again[-1]["sealed"] is True and again[-1]["text"] == SEALED_TEXT and again[-1]["words"] == []
    assert [e["data"]["text"] for e in _replayed(c, hid, world.tokens["clerk"])] == [SECRET, SECRET]


def test_unsealing_a_stretch_cuts_it_from_the_range_seal(world) -> None:
    """Unsealed, a part of a sealed stretch is public again for lines filed there later and in the recording;
    what is left of the range still seals its late lines. A seal the stored ranges already cover changes
    nothing (a signature stands). Every change is audited."""
    c = world.client
    services = c.app.state.services
    hid, _, recording, _ = _recorded_hearing(world)
    _seal(world, hid, 6.0, 9.0)
    first = file_final(services, hid, _values(SECRET, 6.4, 7.6)).segment_id
    # Unsealing 7.0-9.0 unseals the line running into it, whole: 6.0-6.4 stays sealed.
    assert _seal(world, hid, 7.0, 9.0, sealed=False) == {"segment_ids": [first], "sealed": False}
    early = file_final(services, hid, _values("早一点的一句。", 6.0, 6.4)).segment_id
    late = file_final(services, hid, _values(PUBLIC, 7.8, 8.8)).segment_id
    texts = _texts(world, hid, "party")
    assert (texts[first], texts[early], texts[late]) == (SECRET, SEALED_TEXT, PUBLIC)
    audio = _heard(world, recording, "party")
    assert _rms(audio, 6.0, 6.4) < 0.003 and _rms(audio, 7.0, 9.0) > 0.15
    # Unsealing one line cuts its time from the range as well: it is heard again.
    assert c.post(f"/api/segments/{early}/seal", json={"sealed": False, "reason": "可以公开"},
                  headers=world.auth("judge")).status_code == 200
    assert _rms(_heard(world, recording, "party"), 6.0, 6.4) > 0.15

    _seal(world, hid, 5.6, 5.9)
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).json()["signatures"] == ["clerk"]
    assert _seal(world, hid, 5.65, 5.85) == {"segment_ids": [], "sealed": True}  # covered already
    assert c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()["signatures"] == ["clerk"]
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}", "limit": 100}, headers=world.auth("admin")).json()
    actions = [e["action"] for e in reversed(audit) if e["action"].endswith("seal_range")]
    assert actions == ["hearing.seal_range", "hearing.unseal_range", "hearing.unseal_range", "hearing.seal_range"]
    cut = next(e["details"] for e in reversed(audit) if e["action"] == "hearing.unseal_range")
    assert cut["ranges"][0]["before"] == [6.0, 9.0] and cut["ranges"][0]["after"] == [[6.0, 6.4]]
    assert cut["segment_ids"] == [first] and cut["reason"] == "证人个人信息"


def test_finals_filed_while_their_range_is_sealed_are_all_sealed(world) -> None:
    """Finals of a stretch filed while it is sealed (four filers in a row each, the seal among them): each is
    either among the lines the seal flags, or filed after it and sealed by the stored range. On PostgreSQL
    a filing used to read no range, and the seal not to see its line, not yet committed."""
    import threading

    services = world.client.app.state.services
    hid, _, _, _ = _recorded_hearing(world)
    start, ids = threading.Barrier(5), []

    def file(i: int) -> None:
        start.wait()
        for n in range(12):
            at = 6.0 + (i * 12 + n) * 0.04
            ids.append(file_final(services, hid, _values(f"{SECRET}{i}-{n}", at, at + 0.03)).segment_id)

    def seal() -> None:
        start.wait()
        _seal(world, hid, 6.0, 8.0)

    threads = [threading.Thread(target=file, args=(i,)) for i in range(4)] + [threading.Thread(target=seal)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = _texts(world, hid, "party")
    assert len(ids) == 48 and [i for i in ids if texts[i] != SEALED_TEXT] == []


def _seal_held_open(monkeypatch, world, hid: int, start: float, end: float):  # type: ignore[no-untyped-def]
    """Seal ``start``-``end`` in a thread (returned, started) whose transaction stays open 0.4 s after the
    range is stored (a final filed meanwhile waits for it) and which tells the live stream 0.8 s after
    it commits: the window in which a final filed under the seal is published."""
    import threading
    import time

    from courtroom_api import sealed_audio, sealed_ranges

    store, prepare = sealed_ranges.store, sealed_audio.prepare_in_background

    def slow_store(*args, **kwargs):  # type: ignore[no-untyped-def]
        row = store(*args, **kwargs)
        time.sleep(0.4)
        return row

    def late(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.8)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(sealed_ranges, "store", slow_store)
    monkeypatch.setattr(sealed_audio, "prepare_in_background", late)
    thread = threading.Thread(target=_seal, args=(world, hid, start, end))
    thread.start()
    return thread


async def test_a_final_filed_while_its_range_is_sealed_goes_out_redacted_to_a_party(world, monkeypatch) -> None:
    """Transcription files a final of the stretch the judge is sealing that moment: it waits for the seal
    and is filed sealed. It went out whole to a party's screen when the stream learnt the range only after
    the seal (the final was published in between); now it goes out as the dossier filed it."""
    import asyncio

    from courtroom_api.live.pipeline import HearingPipeline
    from courtroom_api.schemas import HearingStart
    from diarize.types import Attribution
    from transcribe.types import Segment, TranscriptEvent, Word

    c, services = world.client, world.client.app.state.services
    hid, _, _, _ = _recorded_hearing(world)
    pipeline = HearingPipeline(services, hid, HearingStart())
    pipeline.directory.mkdir(parents=True, exist_ok=True)
    pipeline.stream = hearing_stream(services, hid)
    party = pipeline.stream.subscribe(may_see_sealed=False)
    event = TranscriptEvent("final", Segment(6.4, 7.6, SECRET, (Word(6.4, 7.6, SECRET, 0.9),), channel=3,
                                             language="zh", confidence=0.9, engine="test", model="test"))
    sealing = _seal_held_open(monkeypatch, world, hid, 6.0, 8.0)
    await asyncio.sleep(0.15)  # the seal holds the hearing
    await pipeline._file_and_publish(event, Attribution(seat="witness", role="witness", confidence=1.0))
    sent = [json.loads(e.wire_for(False))["data"] for e in list(party._queue) if e.type == "transcript.final"]
    await asyncio.to_thread(sealing.join)

    lines = [s for s in c.get(f"/api/hearings/{hid}/segments", headers=world.auth("clerk")).json()
             if s["text"] == SECRET]
    assert len(lines) == 1 and lines[0]["sealed"] is True
    assert [(d["segment_id"], d["text"], d["words"]) for d in sent] == [(lines[0]["id"], SEALED_TEXT, [])], sent


async def test_a_held_final_filed_while_its_range_is_sealed_goes_out_again_sealed(world, monkeypatch) -> None:
    """A held final (sent whole while the dossier refused it) is filed while the judge seals its stretch:
    filed sealed, it is sent again as sealed, so a party's screen hides it. The stream's copy of the ranges
    did not have the seal yet, and nothing was sent again."""
    import asyncio

    from courtroom_api.live.pipeline import HearingPipeline
    from courtroom_api.schemas import HearingStart

    services = world.client.app.state.services
    hid, _, _, _ = _recorded_hearing(world)
    pipeline = HearingPipeline(services, hid, HearingStart())
    pipeline.directory.mkdir(parents=True, exist_ok=True)
    pipeline.stream = hearing_stream(services, hid)
    held = pipeline.stream.publish("transcript.final", _final(SECRET, 6.4, 7.6, None))
    pipeline.backlog.hold(Unfiled(held.seq, values=_values(SECRET, 6.4, 7.6)), "the dossier refuses writes")
    party = pipeline.stream.subscribe(may_see_sealed=False)
    sealing = _seal_held_open(monkeypatch, world, hid, 6.0, 8.0)
    await asyncio.sleep(0.15)
    assert await pipeline.backlog.flush()
    sent = [(e.type, json.loads(e.wire_for(False))["data"]) for e in list(party._queue)]
    await asyncio.to_thread(sealing.join)

    again = [d for t, d in sent if t == "transcript.revised"]
    assert len(again) == 1 and again[0]["change"] == "sealed" and again[0]["text"] == SEALED_TEXT, sent
    assert json.loads(held.wire_for(False))["data"]["text"] == SEALED_TEXT  # its replay too


def _shown(events: list[dict]) -> dict[int, dict]:
    """The lines a terminal shows from these finals and revisions, by segment (as ``TranscriptView.apply``
    keeps them: the latest event naming a segment is its line)."""
    return {e["data"]["segment_id"]: e["data"] for e in events if e["data"].get("segment_id") is not None}


async def test_a_final_filed_sealed_is_marked_sealed_on_the_bench_live_and_in_replays(world, monkeypatch) -> None:
    """A final of a sealed stretch, filed sealed as it is published, goes out marked ``sealed`` — whole to
    the bench (tagged 不公开, the clerk console offers to unseal it), redacted to a party — as a held one
    filed sealed later is sent again; a line after the stretch is marked open. A bench that reconnects gets
    the same from the stream's ring as over REST. (It went out unmarked: an open line on the bench.)"""
    from courtroom_api.live import pipeline as live_pipeline
    from courtroom_api.schemas import HearingStart
    from diarize.types import Attribution
    from transcribe.types import Segment, TranscriptEvent, Word

    c, services = world.client, world.client.app.state.services
    hid, _, _, _ = _recorded_hearing(world)
    pipeline = live_pipeline.HearingPipeline(services, hid, HearingStart())
    pipeline.directory.mkdir(parents=True, exist_ok=True)
    pipeline.stream = hearing_stream(services, hid)
    _seal(world, hid, 6.0, 8.0)
    witness = Attribution(seat="witness", role="witness", confidence=1.0)

    async def final(text: str, start: float, end: float) -> None:
        await pipeline._file_and_publish(TranscriptEvent("final", Segment(
            start, end, text, (Word(start, end, text, 0.9),), channel=3, language="zh", confidence=0.9,
            engine="test", model="test")), witness)

    await final(SECRET, 6.4, 7.2)  # filed sealed at once
    await final(PUBLIC, 8.6, 9.6)
    file_final = live_pipeline.file_final

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("the dossier refuses writes")

    monkeypatch.setattr(live_pipeline, "file_final", refused)
    await final("证人电话是13912345678。", 7.3, 7.9)  # held, filed sealed by the retry
    monkeypatch.setattr(live_pipeline, "file_final", file_final)
    assert pipeline.backlog.pending and await pipeline.backlog.flush()

    stored = {s["id"]: s for s in c.get(f"/api/hearings/{hid}/segments", headers=world.auth("clerk")).json()
              if s["start_s"] > 6.0}
    assert sorted(s["sealed"] for s in stored.values()) == [False, True, True]
    bench = _shown(_replayed(c, hid, world.tokens["clerk"]))
    assert {i: (d["text"], d.get("sealed")) for i, d in bench.items()} == {
        i: (s["text"], s["sealed"]) for i, s in stored.items()}, bench
    party = _shown(_replayed(c, hid, world.tokens["party"]))
    assert {i: (d["text"], d.get("sealed")) for i, d in party.items()} == {
        i: (SEALED_TEXT if s["sealed"] else s["text"], s["sealed"]) for i, s in stored.items()}, party


def test_a_range_seal_over_lines_already_sealed_keeps_the_signed_record_as_it_is(world) -> None:
    """A database upgraded to 0004 keeps no range for a seal made before: sealing that stretch again by
    time was refused (409) on a signed and locked record, and voided the one signature of a half-signed
    one, though the record prints the same. It is kept as a range now and the signatures stand."""
    from courtroom_api.auth.policy import Principal
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c, services = world.client, world.client.app.state.services
    hid, second, _, _ = _recorded_hearing(world)  # lines at 0-2.5 s and 3.0-5.5 s
    judge = Principal(user_id=world.ids["user_judge"], login="judge", role="judge")
    _mark_started(services, judge, hid, HearingStart(source="file", url="/nonexistent.flac"))
    _mark_ended(services, judge, hid)
    # Sealed before ranges were kept: the line only.
    assert c.post(f"/api/segments/{second}/seal", json={"sealed": True, "reason": "证人个人信息"},
                  headers=world.auth("judge")).status_code == 200

    def state() -> dict:
        return c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()

    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).status_code == 200
    assert _seal(world, hid, 3.0, 4.0) == {"segment_ids": [second], "sealed": True}  # half-signed: kept
    assert state()["signatures"] == ["clerk"] and state()["unchanged_since_signed"] is True
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("judge")).status_code == 200
    assert _seal(world, hid, 2.8, 5.5) == {"segment_ids": [second], "sealed": True}  # locked: not refused
    after = state()
    assert after["locked"] is True and after["unchanged_since_signed"] is True, after
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("judge")).json()
    assert [a["action"] for a in audit].count("hearing.seal_range") == 2
    assert "record.void" not in [a["action"] for a in audit]
