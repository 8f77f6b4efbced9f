"""Corrections as revisions, sealing, annotations, sign-off locking the record, unlock with a reason."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _new_hearing_with_segments(world) -> tuple[int, list[int]]:
    """A fresh hearing of case 123 with two segments (shared worlds: keep tests independent)."""
    from models import TranscriptSegment
    from models.db import make_engine, session_factory

    c, h = world.client, world.auth("clerk")
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]}, headers=h).json()["id"]
    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        rows = [TranscriptSegment(hearing_id=hid, seq=i + 1, start_s=i * 3.0, end_s=i * 3.0 + 2.5, text=t,
                                  role="plaintiff", seat="plaintiff")
                for i, t in enumerate(("原告要求被告支付货款十万元。", "The invoice is dated May 1."))]
        s.add_all(rows)
        s.commit()
        ids = [r.id for r in rows]
    engine.dispose()
    return hid, ids


def _held_hearing(world, started_at, ended_at, line: str, *more: str) -> int:  # type: ignore[no-untyped-def]
    """A hearing of case 123 held at ``started_at`` (to ``ended_at``) with the clerk's lines."""
    from models import Hearing, TranscriptSegment
    from models.db import make_engine, session_factory

    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        hearing = Hearing(case_id=world.ids["case"], courtroom_id=world.ids["room"], title="已开庭",
                          started_at=started_at, ended_at=ended_at)
        s.add(hearing)
        s.flush()
        s.add_all([TranscriptSegment(hearing_id=hearing.id, seq=i + 1, start_s=i, end_s=i + 1, text=text, role="clerk")
                   for i, text in enumerate((line, *more))])
        s.commit()
        hid = hearing.id
    engine.dispose()
    return hid


def test_correction_keeps_revision_with_author_reason_and_diff(world) -> None:
    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    r = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款二十万元。", "reason": "听错数字"},
                headers=world.auth("clerk"))
    assert r.status_code == 200 and r.json()["status"] == "corrected"
    revs = c.get(f"/api/segments/{seg}/revisions", headers=world.auth("judge")).json()
    assert len(revs) == 1
    assert revs[0]["before_text"] == "原告要求被告支付货款十万元。" and revs[0]["reason"] == "听错数字"
    assert revs[0]["author_id"] == world.ids["user_clerk"]
    assert revs[0]["diff"] == "原告要求被告支付货款{+二+}十万元。"
    hits = c.get("/api/search", params={"q": "二十万", "case": world.ids["case"]}, headers=world.auth("appeal_judge"))
    assert seg in [h["segment_id"] for h in hits.json()]
    audit = c.get("/api/audit", params={"object": f"segment:{seg}"}, headers=world.auth("judge")).json()
    assert audit[0]["action"] == "segment.correct" and audit[0]["details"]["reason"] == "听错数字"


def test_a_corrected_line_drops_the_words_the_model_heard(world) -> None:
    """The model's word timings spell the text it heard: after a correction they no longer match the
    line (a party's API view and the JSON export showed 二十万元 as text and 十万元 as words), so the
    corrected line has none; the text before is kept in the revision."""
    from models import TranscriptSegment
    from models.db import make_engine, session_factory

    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    heard = [{"start": 0.0, "end": 1.2, "word": "原告要求被告", "probability": 0.9},
             {"start": 1.2, "end": 2.5, "word": "支付货款十万元。", "probability": 0.8}]
    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        s.get_one(TranscriptSegment, seg).words = heard
        s.commit()
    engine.dispose()
    assert c.get(f"/api/segments/{seg}", headers=world.auth("party")).json()["words"] == heard
    r = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款二十万元。", "reason": "听错数字"},
                headers=world.auth("clerk"))
    assert r.status_code == 200 and r.json()["words"] == [], r.text
    assert c.get(f"/api/segments/{seg}", headers=world.auth("party")).json()["words"] == []
    export = c.get(f"/api/hearings/{hid}/transcript", params={"format": "json"}, headers=world.auth("party"))
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [(x["text"], x["words"]) for x in lines if x["text"].startswith("原告")] == [("原告要求被告支付货款二十万元。", [])]


def test_a_correction_made_on_an_older_text_is_refused_and_changes_nothing(world) -> None:
    """Two of the pool's clerks (or the judge and a clerk) open the same line: the second save names
    the text it was made on, which is no longer the line's, so it is refused and nothing is written."""
    c = world.client
    _hid, (seg, _) = _new_hearing_with_segments(world)
    read = c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()
    assert read["revision"] == 0
    first = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款二十万元。", "reason": "回放核对",
                                                 "revision": read["revision"]}, headers=world.auth("judge"))
    assert first.status_code == 200 and first.json()["revision"] == 1
    late = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款十二万元。", "reason": "听错数字",
                                                "revision": read["revision"]}, headers=world.auth("clerk"))
    assert late.status_code == 409 and "corrected meanwhile" in late.json()["detail"]
    now = c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()
    assert (now["text"], now["revision"]) == ("原告要求被告支付货款二十万元。", 1)
    assert len(c.get(f"/api/segments/{seg}/revisions", headers=world.auth("judge")).json()) == 1
    audit = c.get("/api/audit", params={"object": f"segment:{seg}"}, headers=world.auth("judge")).json()
    assert [a["action"] for a in audit].count("segment.correct") == 1
    # Made again on the current text, it is kept, and the history reads as one chain.
    again = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款十二万元。", "reason": "听错数字",
                                                 "revision": now["revision"]}, headers=world.auth("clerk"))
    assert again.status_code == 200 and again.json()["revision"] == 2
    revs = c.get(f"/api/segments/{seg}/revisions", headers=world.auth("judge")).json()
    assert [(r["before_text"], r["after_text"]) for r in revs] == [
        ("原告要求被告支付货款十万元。", "原告要求被告支付货款二十万元。"),
        ("原告要求被告支付货款二十万元。", "原告要求被告支付货款十二万元。")]
    # Sealing (not a text change) leaves the revision as it is.
    sealed = c.post(f"/api/segments/{seg}/seal", json={"sealed": True, "reason": "涉及隐私"}, headers=world.auth("judge"))
    assert sealed.status_code == 200
    assert c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()["revision"] == 2


def test_corrections_saved_at_the_same_moment_keep_one_chain_of_revisions(world) -> None:
    """Eight saves of one line at once, on the real database, from eight threads: the ones made on the
    same revision let exactly one through; without a revision each that is kept replaced the text
    the one before it wrote (no two revisions start from the same text, none is lost from the chain)."""
    import threading

    c = world.client
    _hid, (seg, _) = _new_hearing_with_segments(world)
    original = "原告要求被告支付货款十万元。"

    def race(with_revision: bool) -> list[int]:
        base = c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()["revision"]
        start, codes = threading.Barrier(8), [0] * 8

        def save(i: int) -> None:
            body = {"text": f"原告要求被告支付货款{i + 1}{'甲' if with_revision else '乙'}万元。", "reason": f"第{i}次"}
            if with_revision:
                body["revision"] = base
            start.wait()
            codes[i] = c.patch(f"/api/segments/{seg}", json=body, headers=world.auth("clerk")).status_code

        threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return codes

    codes = race(with_revision=True)
    assert sorted(codes) == [200] + [409] * 7, codes
    codes += race(with_revision=False)
    assert set(codes[8:]) <= {200, 409} and 200 in codes[8:], codes
    revs = c.get(f"/api/segments/{seg}/revisions", headers=world.auth("judge")).json()
    assert len(revs) == codes.count(200)
    chain = [original] + [r["after_text"] for r in revs]
    assert [r["before_text"] for r in revs] == chain[:-1]
    now = c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()
    assert now["text"] == chain[-1] and now["revision"] == len(revs)


def test_sign_off_locks_and_unlock_needs_judge_and_reason(world) -> None:
    c = world.client
    hid, (seg, seg2) = _new_hearing_with_segments(world)
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).json()["locked"] is False
    again = c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk"))
    assert again.status_code == 422
    state = c.post(f"/api/hearings/{hid}/signoff", json={"note": "核对无误"}, headers=world.auth("judge")).json()
    assert state == {"hearing_id": hid, "locked": True, "signatures": ["clerk", "judge"], "unchanged_since_signed": True, "recording_lost": False}
    assert c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()["status"] == "signed"
    locked = c.patch(f"/api/segments/{seg}", json={"text": "x", "reason": "y"}, headers=world.auth("clerk"))
    assert locked.status_code == 409 and "unlock" in locked.json()["detail"]
    seal = c.post(f"/api/segments/{seg2}/seal", json={"reason": "隐私"}, headers=world.auth("judge"))
    assert seal.status_code == 409
    assert c.post(f"/api/hearings/{hid}/unlock", json={"reason": "r"}, headers=world.auth("clerk")).status_code == 403
    assert c.post(f"/api/hearings/{hid}/unlock", json={}, headers=world.auth("judge")).status_code == 422
    unlocked = c.post(f"/api/hearings/{hid}/unlock", json={"reason": "当事人申请更正"}, headers=world.auth("judge"))
    assert unlocked.json() == {"hearing_id": hid, "locked": False, "signatures": [], "unchanged_since_signed": None, "recording_lost": False}
    assert c.patch(f"/api/segments/{seg}", json={"text": "改正。", "reason": "申请"},
                   headers=world.auth("clerk")).status_code == 200
    pdf = c.get(f"/api/hearings/{hid}/transcript", params={"format": "pdf"}, headers=world.auth("party"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    actions = [e["action"] for e in c.get("/api/audit", params={"object": f"hearing:{hid}"},
                                          headers=world.auth("judge")).json()]
    assert actions[:4] == ["record.unlock", "record.sign", "record.sign", "hearing.create"]


def test_a_change_after_one_signature_voids_it_and_a_record_changed_behind_the_api_shows(world) -> None:
    """The clerk signs, then the judge corrects a line: the clerk signed a text that is no longer the
    record, so that signature is voided (audited) and the clerk signs again. Each signature keeps the
    record's sha256 in the hash-chained audit log: a line rewritten in the database behind the API
    afterwards shows as a record no longer what was signed."""
    from sqlalchemy import text

    from models.db import make_engine

    c = world.client
    hid, (seg, seg2) = _new_hearing_with_segments(world)
    state = lambda: c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()  # noqa: E731
    assert state()["unchanged_since_signed"] is None
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).json()["signatures"] == ["clerk"]
    assert state()["unchanged_since_signed"] is True
    fixed = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款十一万元。", "reason": "核对录音"},
                    headers=world.auth("judge"))
    assert fixed.status_code == 200
    assert state() == {"hearing_id": hid, "locked": False, "signatures": [], "unchanged_since_signed": None, "recording_lost": False}
    voided = [e for e in c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("judge")).json()
              if e["action"] == "record.void"]
    assert len(voided) == 1 and voided[0]["details"]["roles"] == ["clerk"] and voided[0]["actor"].endswith(":judge")
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    assert state() == {"hearing_id": hid, "locked": True, "signatures": ["clerk", "judge"], "unchanged_since_signed": True, "recording_lost": False}

    engine = make_engine(str(c.app.state.services.engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        conn.execute(text("update transcript_segments set text = :t where id = :id"),
                     {"t": "The invoice is dated June 1.", "id": seg2})
    engine.dispose()
    assert state()["locked"] is True and state()["unchanged_since_signed"] is False
    assert c.get("/api/audit/verify", headers=world.auth("admin")).json()["ok"] is True  # the log itself is intact
    # The court's integrity check names it (and only it) and fails; the line put back, it passes again.
    url = c.app.state.services.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "COURTROOM_DATABASE__URL": url}
    cli = [sys.executable, "-m", "courtroom_api.cli", "audit", "verify"]
    out = subprocess.run(cli, cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "chain intact" in out.stdout, out.stdout + out.stderr
    assert "CHANGED since signed: hearing " + str(hid) + " (" in out.stdout
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("update transcript_segments set text = :t where id = :id"),
                     {"t": "The invoice is dated May 1.", "id": seg2})
    engine.dispose()
    out = subprocess.run(cli, cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "signed records unchanged since they were signed" in out.stdout, out.stdout


def test_a_record_is_signed_only_while_its_hearing_is_not_running(world) -> None:
    """Its finals are still being written into it: a signature now would not be on the whole record."""
    from courtroom_api.auth.policy import Principal
    from courtroom_api.live.lifecycle import _mark_ended, _mark_started
    from courtroom_api.schemas import HearingStart

    c = world.client
    services = c.app.state.services
    hid, _ = _new_hearing_with_segments(world)
    judge = Principal(user_id=world.ids["user_judge"], login="judge", role="judge")
    _mark_started(services, judge, hid, HearingStart(source="file", url="/nonexistent.flac"))
    early = c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk"))
    assert early.status_code == 409 and "still in progress" in early.json()["detail"]
    _mark_ended(services, judge, hid)
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).status_code == 200

    # A hearing resumed after a recess in which one of them signed: that signature is voided, since the
    # finals to come will be in the record; one whose record both signed (locked) does not start.
    recess, _ = _new_hearing_with_segments(world)
    assert c.post(f"/api/hearings/{recess}/signoff", json={}, headers=world.auth("clerk")).status_code == 200
    _mark_started(services, judge, recess, HearingStart(source="file", url="/nonexistent.flac"))
    record = c.get(f"/api/hearings/{recess}/record", headers=world.auth("clerk")).json()
    assert record["signatures"] == [] and record["unchanged_since_signed"] is None
    voided = [e for e in c.get("/api/audit", params={"object": f"hearing:{recess}"}, headers=world.auth("judge")).json()
              if e["action"] == "record.void"]
    assert voided[0]["details"]["reason"] == "the hearing resumed after the record was signed"
    _mark_ended(services, judge, recess)
    locked, _ = _new_hearing_with_segments(world)
    for who in ("clerk", "judge"):
        assert c.post(f"/api/hearings/{locked}/signoff", json={}, headers=world.auth(who)).status_code == 200
    refused = c.post(f"/api/hearings/{locked}/start", json={"source": "file", "url": "/nonexistent.flac"},
                     headers=world.auth("clerk"))
    assert refused.status_code == 409 and "signed and locked" in refused.json()["detail"]
    assert c.get(f"/api/hearings/{locked}", headers=world.auth("clerk")).json()["status"] == "scheduled"


def test_a_correction_racing_the_sign_off_that_locks_the_record_never_lands_after_it(world) -> None:
    """The judge signs (locking the record) while a clerk saves a correction. Whichever order the
    database lets them through, no correction may be committed after the signature that locked the
    record: either the correction goes in first and is signed with the record, or it is refused (409).
    Made deterministic by holding the audit chain's lock while the judge's sign-off queues for it and
    only then sending the correction (on PostgreSQL the waiters are served in order, so the sign-off
    goes first: the correction checked the record before the signature was committed)."""
    import threading
    import time

    from sqlalchemy import update

    from models.audit import HEAD_ID, AuditHead
    from models.db import make_engine, session_factory

    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    assert c.post(f"/api/hearings/{hid}/signoff", json={"note": ""}, headers=world.auth("clerk")).status_code == 200
    engine = make_engine(str(c.app.state.services.engine.url.render_as_string(hide_password=False)))
    holder = session_factory(engine, write=True)()
    holder.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=AuditHead.hash))
    results: dict[str, object] = {}

    def sign() -> None:
        results["sign"] = c.post(f"/api/hearings/{hid}/signoff", json={"note": ""}, headers=world.auth("judge"))

    def correct() -> None:
        results["correct"] = c.patch(f"/api/segments/{seg}", json={"text": "原告要求被告支付货款九万元。",
                                                                    "reason": "听错数字"}, headers=world.auth("clerk"))

    try:
        signer = threading.Thread(target=sign)
        signer.start()
        time.sleep(1.0)  # the sign-off is waiting for the chain
        corrector = threading.Thread(target=correct)
        corrector.start()
        time.sleep(1.0)
    finally:
        holder.commit()
        holder.close()
        engine.dispose()
    signer.join(60)
    corrector.join(60)
    signed, corrected = results["sign"], results["correct"]
    assert signed.status_code == 200, signed.text  # type: ignore[attr-defined]
    record_events = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("judge")).json()
    judge_signed_at = max(e["id"] for e in record_events if e["action"] == "record.sign")
    text = c.get(f"/api/segments/{seg}", headers=world.auth("clerk")).json()["text"]
    if corrected.status_code == 409:  # type: ignore[attr-defined]
        # the signature came first and locked the record
        assert signed.json()["locked"] and signed.json()["unchanged_since_signed"]  # type: ignore[attr-defined]
        assert "locked" in corrected.json()["detail"] and text == "原告要求被告支付货款十万元。"  # type: ignore[attr-defined]
    else:
        # the correction came first: it voided the clerk's signature, so the judge's alone does not lock
        assert corrected.status_code == 200, corrected.text  # type: ignore[attr-defined]
        assert signed.json()["signatures"] == ["judge"] and not signed.json()["locked"]  # type: ignore[attr-defined]
        events = c.get("/api/audit", params={"object": f"segment:{seg}"}, headers=world.auth("judge")).json()
        assert max(e["id"] for e in events if e["action"] == "segment.correct") < judge_signed_at


def test_sign_off_waits_for_finals_held_outside_the_dossier(world) -> None:
    """A stopped hearing whose last finals the database refused (kept in its spill file, filed at the
    next start): its record cannot be signed, and so locked, without them."""
    c = world.client
    hid, _ = _new_hearing_with_segments(world)
    spill = world.client.app.state.services.settings.recordings_dir / f"hearing-{hid}" / "unfiled-finals.jsonl"
    spill.parent.mkdir(parents=True, exist_ok=True)
    spill.write_text('{"seq": 3, "values": {"text": "x"}}\n{"seq": 4, "values": {"text": "y"}}\n')
    try:
        r = c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("judge"))
        assert r.status_code == 409, r.text
        assert r.json()["detail"].startswith("2 final(s) of this hearing are not yet saved in the dossier")
    finally:
        spill.unlink()
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("judge")).status_code == 200


def test_range_sealing_and_annotations_visibility(world) -> None:
    c = world.client
    hid, (seg, seg2) = _new_hearing_with_segments(world)
    r = c.post(f"/api/hearings/{hid}/seal", json={"start_s": 2.9, "end_s": 10, "reason": "商业秘密"},
               headers=world.auth("judge"))
    assert r.json() == {"segment_ids": [seg2], "sealed": True}
    docx = c.get(f"/api/hearings/{hid}/transcript", params={"format": "docx"}, headers=world.auth("party"))
    assert docx.status_code == 200 and b"invoice" not in docx.content
    note = c.post(f"/api/hearings/{hid}/annotations",
                  json={"kind": "note", "segment_id": seg2, "text": "核对发票", "visibility": "case"},
                  headers=world.auth("clerk")).json()
    mark = c.post(f"/api/hearings/{hid}/annotations", json={"kind": "bookmark", "start_s": 0.0, "visibility": "bench"},
                  headers=world.auth("clerk")).json()
    private = c.post(f"/api/hearings/{hid}/annotations", json={"kind": "highlight", "segment_id": seg, "color": "yellow"},
                     headers=world.auth("judge")).json()
    as_clerk = {a["id"] for a in c.get(f"/api/hearings/{hid}/annotations", headers=world.auth("clerk")).json()}
    assert {note["id"], mark["id"]} <= as_clerk and private["id"] not in as_clerk
    as_party = {a["id"] for a in c.get(f"/api/hearings/{hid}/annotations", headers=world.auth("party")).json()}
    assert note["id"] not in as_party  # on a sealed segment
    # Notes on a moment or a stretch of the recording: hidden from a party where it is sealed (3.0–5.5 s)
    timed = {where: c.post(f"/api/hearings/{hid}/annotations", json={"kind": "note", "text": f"在{where}秒",
                                                                       "visibility": "case", **span},
                           headers=world.auth("clerk")).json()["id"]
             for where, span in (("4", {"start_s": 4.0}), ("2-3.5", {"start_s": 2.0, "end_s": 3.5}),
                                 ("1", {"start_s": 1.0}), ("0.5-2.8", {"start_s": 0.5, "end_s": 2.8}),
                                 # anchored to the open line, timed on the sealed one: it was shown
                                 ("open line, 4-5", {"segment_id": seg, "start_s": 4.0, "end_s": 5.0}))}
    as_party = {a["id"] for a in c.get(f"/api/hearings/{hid}/annotations", headers=world.auth("party")).json()}
    assert timed["4"] not in as_party and timed["2-3.5"] not in as_party and timed["open line, 4-5"] not in as_party
    assert timed["1"] in as_party and timed["0.5-2.8"] in as_party
    as_clerk = {a["id"] for a in c.get(f"/api/hearings/{hid}/annotations", headers=world.auth("clerk")).json()}
    assert set(timed.values()) <= as_clerk
    assert c.delete(f"/api/annotations/{mark['id']}", headers=world.auth("judge")).status_code == 403
    assert c.delete(f"/api/annotations/{mark['id']}", headers=world.auth("clerk")).status_code == 204


def test_an_annotation_deleted_is_audited_with_what_it_was_and_listed_with_its_hearing(world) -> None:
    """Deleting a note left `annotation.delete {}`: what it said, where and for whom were gone, and the
    hearing's audit (`?object=hearing:N`) listed none of its notes' events. A private note's text is its
    author's: the audit keeps its sha256; an administrator (no sealed items) reads every note's as such."""
    import hashlib

    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    other, _ = _new_hearing_with_segments(world)
    made = {}
    for visibility, text in (("bench", "书记员标注：此处需核对"), ("private", "my own reminder")):
        r = c.post(f"/api/hearings/{hid}/annotations", headers=world.auth("clerk"),
                   json={"kind": "note", "segment_id": seg, "text": text, "visibility": visibility})
        assert r.status_code == 201, r.text
        made[visibility] = r.json()["id"]
        assert c.delete(f"/api/annotations/{made[visibility]}", headers=world.auth("clerk")).status_code == 204
    r = c.post(f"/api/hearings/{other}/annotations", headers=world.auth("clerk"),
           json={"kind": "note", "segment_id": None, "start_s": 1.0, "text": "elsewhere", "visibility": "case"})
    assert r.status_code == 201, r.text  # another hearing's note: not in this hearing's audit
    where = {"hearing_id": hid, "segment_id": seg, "start_s": None, "end_s": None, "kind": "note"}
    sha = hashlib.sha256("书记员标注：此处需核对".encode()).hexdigest()
    for reader, bench_text in (("judge", {"text": "书记员标注：此处需核对"}), ("admin", {"text_sha256": sha})):
        events = c.get(f"/api/audit?object=hearing:{hid}", headers=world.auth(reader)).json()
        notes = [(e["action"], e["object"], e["details"]) for e in reversed(events) if e["action"].startswith("annotation.")]
        private = {**where, "visibility": "private",
                   "text_sha256": hashlib.sha256(b"my own reminder").hexdigest()}
        assert notes == [(action, f"annotation:{made[v]}", details)
                         for v, details in (("bench", {**where, "visibility": "bench", **bench_text}),
                                            ("private", private))
                         for action in ("annotation.add", "annotation.delete")], reader


def test_search_takes_any_case_text_and_a_correction_no_control_characters(world) -> None:
    c = world.client
    for case in ("①", "²", "2024①"):  # digits to str.isdigit(), not to int(): a case number that matches nothing
        r = c.get("/api/search", params={"q": "合同", "case": case}, headers=world.auth("appeal_judge"))
        assert r.status_code == 200 and r.json() == []
    hits = c.get("/api/search", params={"q": "现在开庭"}, headers=world.auth("appeal_judge")).json()
    assert hits and all("held_at" in h for h in hits)
    _, (seg, _) = _new_hearing_with_segments(world)
    for text in ("原告陈述：\x0b见证据一。", "a\x00b", "x\x1b[31m"):  # Word's pasted vertical tab, NUL, an escape
        r = c.patch(f"/api/segments/{seg}", json={"text": text, "reason": "粘贴"}, headers=world.auth("clerk"))
        assert r.status_code == 422, text
    r = c.patch(f"/api/segments/{seg}", json={"text": "第一行\n第二行\t完", "reason": "分行"}, headers=world.auth("clerk"))
    assert r.status_code == 200


def test_search_case_filter_takes_the_number_as_printed_or_pasted(world) -> None:
    """Official case numbers are printed with full-width brackets and are pasted with a blank after them:
    '（2024）吉2424民初123号' and '(2024)吉2424民初123号 ' found nothing while '(2024)吉2424民初123号' found the
    case's lines. An unknown number (or one the caller may not see) gives no hits, not a 404 that tells
    them apart."""
    c, ids = world.client, world.ids

    def found(case: str) -> set[int]:
        r = c.get("/api/search", params={"q": "现在开庭", "case": case}, headers=world.auth("appeal_judge"))
        assert r.status_code == 200, r.text
        return {h["segment_id"] for h in r.json()}

    as_filed = found("(2024)吉2424民初123号")
    assert ids["segment"] in as_filed
    for case in ("（2024）吉2424民初123号", "(2024)吉2424民初123号 ", " （２０２４）吉2424民初123号\u3000",
                 "(2024) 吉2424民初123号", f" {ids['case']} "):
        assert found(case) == as_filed, case
    assert found("（2024）吉2424民初456号") == found("（2024）吉2424民初999号") == set()


def test_search_dates_are_the_courts_days(world) -> None:
    """A hearing opened at 07:30 in Beijing on 2 May (23:30 UTC on 1 May) is found under 2 May."""
    from datetime import UTC, datetime

    hid = _held_hearing(world, datetime(2024, 5, 1, 23, 30, tzinfo=UTC), None, "清晨开庭核对借据。")

    def found(day: str) -> bool:
        hits = world.client.get("/api/search", params={"q": "核对借据", "from": day, "to": day},
                                headers=world.auth("appeal_judge")).json()
        return hid in {h["hearing_id"] for h in hits}

    assert found("2024-05-02") and not found("2024-05-01")


def test_search_pages_reach_every_hearing_of_a_case(world) -> None:
    """A retrial judge searching one case for a word said 100 times in each of three hearings: the first
    page (limit 200) ranks all 300 and holds hits of every hearing, X-Next-Cursor pages on to each match
    once and the last page has none. (The newest 200 matches were all there was: the first hearing's
    matches unreachable, the page the same whatever was asked.)"""
    from datetime import UTC, datetime

    lines = [f"第{k}次提到往来对账单。" for k in range(100)]
    held = [_held_hearing(world, datetime(2024, month, 10, 1, tzinfo=UTC), None, *lines) for month in (1, 2, 3)]
    query, seen, pages = {"q": "往来对账单", "case": str(world.ids["case"]), "limit": 200}, [], []
    while len(pages) < 10:
        r = world.client.get("/api/search", params=query, headers=world.auth("appeal_judge"))
        assert r.status_code == 200, r.text
        pages.append({h["hearing_id"] for h in r.json()})
        seen += [h["segment_id"] for h in r.json()]
        if "X-Next-Cursor" not in r.headers:
            break
        query["cursor"] = r.headers["X-Next-Cursor"]
    assert pages[0] == set(held) and len(pages) == 2
    assert len(seen) == len(set(seen)) == 300
    r = world.client.get("/api/search", params={**query, "cursor": "not-a-cursor"}, headers=world.auth("appeal_judge"))
    assert r.status_code == 422


def test_search_hits_carry_the_courts_day(world) -> None:
    """held_on: the hearing's day in the court's zone (07:30 in Beijing on 4 May is 23:30 UTC on 3 May),
    the day from/to find it under; the page showed the UTC day of held_at."""
    from datetime import UTC, datetime

    hid = _held_hearing(world, datetime(2024, 5, 3, 23, 30, tzinfo=UTC), None, "清晨开庭核对收条。")
    hits = world.client.get("/api/search", params={"q": "核对收条", "from": "2024-05-04", "to": "2024-05-04"},
                            headers=world.auth("appeal_judge")).json()
    assert [(h["hearing_id"], h["held_at"][:10], h["held_on"]) for h in hits] == [(hid, "2024-05-03", "2024-05-04")]


def test_search_to_before_from_is_refused(world) -> None:
    """`to` before `from` is a 422 saying so (it silently found nothing)."""
    r = world.client.get("/api/search", params={"q": "开庭", "from": "2024-05-04", "to": "2024-05-03"},
                         headers=world.auth("appeal_judge"))
    assert r.status_code == 422 and "before" in r.text, r.text
    r = world.client.get("/api/search", params={"q": "开庭", "from": "2024-05-04", "to": "2024-05-04"},
                         headers=world.auth("appeal_judge"))
    assert r.status_code == 200


def test_search_from_the_first_day_there_is_finds_every_hearing(world) -> None:
    """`from=0001-01-01` (an appeal judge's "from the beginning") was a 500: the court's zone put its
    midnight before year 1 in UTC. A day before 1900 or after 2200 leaves that end open."""
    from datetime import UTC, datetime

    hid = _held_hearing(world, datetime(2024, 5, 6, 1, 30, tzinfo=UTC), datetime(2024, 5, 6, 3, 0, tzinfo=UTC),
                        "从头检索的庭审记录。")
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}):
        r = world.client.get("/api/search", params={"q": "从头检索", **params}, headers=world.auth("appeal_judge"))
        assert r.status_code == 200 and [h["hearing_id"] for h in r.json()] == [hid], (params, r.text)


def test_a_seal_that_changes_nothing_keeps_the_signature(world) -> None:
    """Unsealing a line that is not sealed (a repeated or mistaken click) changes nothing: the clerk's
    signature stands and nothing is audited (it was voided, with a record.void and a segment.unseal)."""
    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).json()["signatures"] == ["clerk"]
    before = len(c.get("/api/audit", headers=world.auth("admin"), params={"limit": 1000}).json())
    r = c.post(f"/api/segments/{seg}/seal", json={"sealed": False, "reason": "误点"}, headers=world.auth("judge"))
    assert r.status_code == 200 and r.json() == {"segment_ids": [seg], "sealed": False}, r.text
    assert c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()["signatures"] == ["clerk"]
    assert len(c.get("/api/audit", headers=world.auth("admin"), params={"limit": 1000}).json()) == before
    sealed = c.post(f"/api/segments/{seg}/seal", json={"reason": "涉及隐私"}, headers=world.auth("judge"))
    assert sealed.status_code == 200 and sealed.json()["sealed"]
    assert c.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()["signatures"] == []


@pytest.mark.parametrize("reason", ["   ", "\n", "\t", "\u3000"])
def test_a_blank_reason_is_refused(world, reason) -> None:
    """Corrections, seals and unlocks are audited with their reason: a blank one is a 422, not a reason."""
    c = world.client
    hid, (seg, _) = _new_hearing_with_segments(world)
    for method, path, body, who in (
            ("PATCH", f"/api/segments/{seg}", {"text": "改正后的文字。", "reason": reason}, "clerk"),
            ("POST", f"/api/segments/{seg}/seal", {"reason": reason}, "judge"),
            ("POST", f"/api/hearings/{hid}/unlock", {"reason": reason}, "judge")):
        r = c.request(method, path, json=body, headers=world.auth(who))
        assert r.status_code == 422 and "reason" in r.text, (path, r.text)
    r = c.request("PATCH", f"/api/segments/{seg}", json={"text": "改正后的文字。", "reason": f"{reason}核对录音"},
                  headers=world.auth("clerk"))
    assert r.status_code == 200, r.text


def test_an_annotation_time_must_be_a_time_in_the_hearing(world) -> None:
    """1e999 (infinity) was stored and shown as null: a bookmark with no place; a zoom region is fractions."""
    hid, _ = _new_hearing_with_segments(world)
    for start in ("1e999", "1e300"):
        r = world.client.post(f"/api/hearings/{hid}/annotations", headers={**world.auth("clerk"),
                              "content-type": "application/json"},
                              content=f'{{"kind": "bookmark", "start_s": {start}}}')
        assert r.status_code == 422, r.text
    for zoom in ("[0, 0, 1e999, 1]", "[0, 0, 2.0, 0.5]"):  # shown on the party screens as is
        r = world.client.put(f"/api/hearings/{hid}/display", headers={**world.auth("clerk"),
                             "content-type": "application/json"}, content=f'{{"zoom": {zoom}}}')
        assert r.status_code == 422, r.text


def test_half_an_emoji_in_a_correction_or_note_is_refused_with_a_422(world) -> None:
    """A browser that cut an emoji in half sends a lone surrogate ("\\ud83d"): the refusal echoed it back
    and could not encode it, a 500 instead of the 422."""
    hid, (seg, _) = _new_hearing_with_segments(world)
    clerk = {**world.auth("clerk"), "content-type": "application/json"}
    for method, path, body in (("PATCH", f"/api/segments/{seg}", '{"text": "\\u6211\\ud83d", "reason": "r"}'),
                               ("POST", f"/api/hearings/{hid}/annotations",
                                '{"kind": "note", "start_s": 1, "text": "\\ud83d", "visibility": "case"}')):
        r = world.client.request(method, path, content=body, headers=clerk)
        assert r.status_code == 422 and "\\ud83d" in r.text, r.text


def test_the_segment_list_pages_and_leaves_words_out_when_asked(world) -> None:
    """A 6-hour hearing's list was 11 MB, mostly word timings the terminals do not show, and `limit` was
    silently ignored: ``words=false`` leaves them out, ``limit``/``offset`` page in time order."""
    from models import TranscriptSegment
    from models.db import make_engine, session_factory

    c = world.client
    hid, (first, second) = _new_hearing_with_segments(world)
    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        s.get_one(TranscriptSegment, first).words = [{"start": 0.0, "end": 1.0, "word": "原告", "probability": 0.9}]
        s.commit()
    engine.dispose()
    url = f"/api/hearings/{hid}/segments"
    every = c.get(url, headers=world.auth("clerk")).json()
    assert [x["id"] for x in every] == [first, second] and every[0]["words"]
    lines = c.get(url, params={"words": "false"}, headers=world.auth("clerk")).json()
    assert [(x["id"], x["text"], x["words"]) for x in lines] == [(x["id"], x["text"], []) for x in every]
    assert [x["id"] for x in c.get(url, params={"limit": 1}, headers=world.auth("clerk")).json()] == [first]
    assert [x["id"] for x in c.get(url, params={"limit": 1, "offset": 1}, headers=world.auth("clerk")).json()] == [second]


def test_a_recording_still_being_made_says_so(world) -> None:
    """Mid-hearing the audio, mixdown and play links were 404s, as if the hearing had no recording: a 409
    saying it can be played once the hearing has ended; a filed recording without audio stays a 404."""
    from datetime import UTC, datetime

    from models import Recording
    from models.db import make_engine, session_factory

    hid = _held_hearing(world, datetime(2024, 5, 2, 1, 0, tzinfo=UTC), None, "现在开庭。")
    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        rec = Recording(hearing_id=hid, sample_rate=16000, channel_count=4, channel_layout=[])
        s.add(rec)
        s.commit()
        rid = rec.id
    c, clerk = world.client, world.auth("clerk")
    for path in (f"/api/recordings/{rid}/audio", f"/api/recordings/{rid}/mixdown", f"/api/hearings/{hid}/play"):
        r = c.get(path, headers=clerk, follow_redirects=False)
        assert r.status_code == 409 and "still being made" in r.json()["detail"], (path, r.text)
    with session_factory(engine)() as s:
        s.get_one(Recording, rid).finalized_at = datetime.now(UTC)
        s.commit()
    engine.dispose()
    r = c.get(f"/api/recordings/{rid}/audio", headers=clerk)
    assert r.status_code == 404 and "held no audio" in r.json()["detail"], r.text


def test_the_segment_list_gives_the_last_lines_when_asked(world) -> None:
    """``tail=N``: the last N lines in time order, sealed lines shown to each reader as the whole list shows
    them; the clerk console's cards show a room's latest lines and read the whole transcript for them (a
    6-hour room was 1.44 MB per card, 58 MB for the console). Bounded, and not mixed with limit/offset."""
    from datetime import UTC, datetime

    from courtroom_api.routes.transcript import MAX_TAIL

    c, clerk, party = world.client, world.auth("clerk"), world.auth("party")
    lines = [f"第{i}句。" for i in range(8)]
    hid = _held_hearing(world, datetime(2025, 5, 6, 9, tzinfo=UTC), datetime(2025, 5, 6, 10, tzinfo=UTC), *lines)
    url = f"/api/hearings/{hid}/segments"
    every = c.get(url, headers=clerk).json()
    sealed = every[6]["id"]
    r = c.post(f"/api/segments/{sealed}/seal", json={"sealed": True, "reason": "涉及隐私"}, headers=world.auth("judge"))
    assert r.status_code == 200, r.text
    for who in (clerk, party):
        whole = c.get(url, params={"words": "false"}, headers=who).json()
        last = c.get(url, params={"tail": 3, "words": "false"}, headers=who)
        assert last.status_code == 200, last.text
        assert last.json() == whole[-3:]
    assert [x["text"] for x in c.get(url, params={"tail": 2}, headers=party).json()] != lines[-2:]  # sealed hidden
    assert [x["text"] for x in c.get(url, params={"tail": 2}, headers=clerk).json()] == lines[-2:]
    assert [x["text"] for x in c.get(url, params={"tail": 3, "after_s": 6.5}, headers=clerk).json()] == lines[-2:]
    assert len(c.get(url, params={"tail": MAX_TAIL}, headers=clerk).json()) == len(lines)
    for bad in ({"tail": 0}, {"tail": MAX_TAIL + 1}, {"tail": 2, "limit": 5}, {"tail": 2, "offset": 1}):
        assert c.get(url, params=bad, headers=clerk).status_code == 422, bad
    assert c.get(url, params={"tail": 2}, headers=world.auth("other_party")).status_code in (403, 404)


def test_a_clerk_corrects_who_said_a_line_and_the_change_is_a_revision(world) -> None:
    """A line heard on a neighbour's microphone, or a voice diarization named wrongly, was credited to the
    wrong speaker for good: a clerk could correct its text only. Now who said it is corrected too, kept as
    a revision (before, after, who, why), and search by role follows it."""
    c, clerk = world.client, world.auth("clerk")
    hid, (_, seg) = _new_hearing_with_segments(world)
    li = c.post(f"/api/cases/{world.ids['case']}/participants", json={"name": "李四说话", "role": "defendant"},
                headers=clerk).json()["id"]
    body = {"participant_id": li, "reason": "被告席发言，误记为原告"}
    assert c.put(f"/api/segments/{seg}/speaker", json=body, headers=world.auth("party")).status_code == 403
    r = c.put(f"/api/segments/{seg}/speaker", json=body, headers=clerk)
    assert r.status_code == 200, r.text
    line = r.json()
    assert (line["role"], line["participant_id"], line["participant_name"]) == ("defendant", li, "李四说话")
    assert (line["text"], line["revision"], line["status"]) == ("The invoice is dated May 1.", 1, "corrected")
    (rev,) = c.get(f"/api/segments/{seg}/revisions", headers=world.auth("judge")).json()
    assert rev["speaker_changed"] and rev["before_text"] == rev["after_text"] == line["text"]
    assert (rev["before_role"], rev["before_participant_id"], rev["after_role"], rev["after_participant_id"]) == (
        "plaintiff", None, "defendant", li)
    assert rev["author_id"] == world.ids["user_clerk"] and rev["reason"] == body["reason"]

    def roles_found() -> set[str]:
        hits = c.get("/api/search", params={"q": "invoice is dated", "case": world.ids["case"]},
                     headers=world.auth("judge")).json()
        return {h["role"] for h in hits if h["hearing_id"] == hid}

    assert roles_found() == {"defendant"}
    # the same speaker again, a participant of another case, nobody named, a stale revision: nothing changes
    for wrong, status in (({"participant_id": li}, 422), ({"participant_id": world.ids["participant"] + 999}, 422),
                          ({}, 422), ({"role": "witness", "revision": 0}, 409)):
        r = c.put(f"/api/segments/{seg}/speaker", json={**wrong, "reason": "再改"}, headers=clerk)
        assert r.status_code == status, (wrong, r.text)
    r = c.put(f"/api/segments/{seg}/speaker", json={"role": "witness", "revision": 1, "reason": "证人"}, headers=clerk)
    assert r.status_code == 200 and (r.json()["role"], r.json()["participant_id"]) == ("witness", None), r.text
    assert len(c.get(f"/api/segments/{seg}/revisions", headers=clerk).json()) == 2
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    r = c.put(f"/api/segments/{seg}/speaker", json={"participant_id": li, "reason": "锁定后"}, headers=clerk)
    assert r.status_code == 409, r.text


def test_a_participants_corrected_role_is_theirs_on_the_lines_they_said(world) -> None:
    """A participant entered as the plaintiff who is the defendant: the role was corrected on the case, but
    every line they had said kept "plaintiff", so the record printed 原告 张伟 beside a head listing 被告 张伟
    and search by role found them as the plaintiff."""
    from models import TranscriptSegment
    from models.db import make_engine, session_factory

    c, clerk = world.client, world.auth("clerk")
    hid, (first, second) = _new_hearing_with_segments(world)
    pid = c.post(f"/api/cases/{world.ids['case']}/participants", json={"name": "张伟改", "role": "plaintiff"},
                 headers=clerk).json()["id"]
    engine = make_engine(str(world.client.app.state.services.engine.url.render_as_string(hide_password=False)))
    with session_factory(engine)() as s:
        for seg in (first, second):
            s.get_one(TranscriptSegment, seg).participant_id = pid
        s.get_one(TranscriptSegment, second).role = "agent"  # (said in another role: stays so)
        s.commit()
    engine.dispose()
    r = c.patch(f"/api/participants/{pid}", json={"role": "defendant"}, headers=clerk)
    assert r.status_code == 200, r.text
    got = {seg: c.get(f"/api/segments/{seg}", headers=clerk).json() for seg in (first, second)}
    assert (got[first]["role"], got[first]["revision"], got[first]["status"]) == ("defendant", 1, "corrected")
    assert (got[second]["role"], got[second]["revision"]) == ("agent", 0)
    (rev,) = c.get(f"/api/segments/{first}/revisions", headers=clerk).json()
    assert rev["speaker_changed"] and (rev["before_role"], rev["after_role"]) == ("plaintiff", "defendant")
    hits = c.get("/api/search", params={"q": "货款十万元", "case": world.ids["case"], "role": "plaintiff"},
                 headers=world.auth("judge")).json()
    assert [h for h in hits if h["hearing_id"] == hid] == []
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    r = c.patch(f"/api/participants/{pid}", json={"role": "third_party"}, headers=clerk)
    assert r.status_code == 409 and f"hearing {hid}" in r.json()["detail"], r.text
    assert c.get(f"/api/segments/{first}", headers=clerk).json()["role"] == "defendant"
