"""A signed court record stays what was signed: the names, roles and head it prints are in its digest,
and an edit of a case, a participant, a hearing or a courtroom that would rewrite a locked record is
refused until a judge unlocks it."""

import io
from datetime import UTC, datetime, timedelta

from docx import Document


def _engine(world):  # type: ignore[no-untyped-def]
    from models.db import make_engine

    return make_engine(world.client.app.state.services.engine.url.render_as_string(hide_password=False))


def _case_with_two_hearings(world, number: str) -> dict[str, int]:
    """A case of its own (shared worlds): 张三 seated and 李四 speaking in hearing 1; 王五, a witness of
    the later hearing 2, seated there only."""
    from models import Hearing, Participant, SeatAssignment, TranscriptSegment
    from models.db import session_factory

    c, clerk = world.client, world.auth("clerk")
    case = c.post("/api/cases", json={"case_number": number, "court_id": world.ids["court"],
                                      "cause_of_action": "买卖合同纠纷"}, headers=clerk).json()["id"]
    engine = _engine(world)
    with session_factory(engine)() as s:
        people = [Participant(case_id=case, name=n, role=r) for n, r in
                  (("张三", "plaintiff"), ("李四", "defendant"), ("王五", "witness"))]
        hearings = [Hearing(case_id=case, courtroom_id=world.ids["room"], title=t,
                            started_at=datetime(2024, 5, d, 1, 30, tzinfo=UTC), ended_at=datetime(2024, 5, d, 3, tzinfo=UTC))
                    for t, d in (("第一次开庭", 1), ("第二次开庭", 8))]
        s.add_all([*people, *hearings])
        s.flush()
        s.add_all([
            SeatAssignment(hearing_id=hearings[0].id, seat="plaintiff", participant_id=people[0].id),
            SeatAssignment(hearing_id=hearings[1].id, seat="witness", participant_id=people[2].id),
            TranscriptSegment(hearing_id=hearings[0].id, seq=1, start_s=0, end_s=1, text="现在开庭。",
                              role="presiding_judge"),
            TranscriptSegment(hearing_id=hearings[0].id, seq=2, start_s=2, end_s=4, text="被告对合同没有异议。",
                              role="defendant", participant_id=people[1].id),
        ])
        s.commit()
        ids = {"case": case, "h1": hearings[0].id, "h2": hearings[1].id, "zhang": people[0].id, "li": people[1].id,
               "wang": people[2].id}
    engine.dispose()
    return ids


def _lines(world, hid: int) -> list[str]:
    r = world.client.get(f"/api/hearings/{hid}/transcript", params={"format": "docx"}, headers=world.auth("judge"))
    assert r.status_code == 200, r.text
    return [p.text for p in Document(io.BytesIO(r.content)).paragraphs]


def _state(world, hid: int) -> dict:  # type: ignore[type-arg]
    return world.client.get(f"/api/hearings/{hid}/record", headers=world.auth("clerk")).json()


def test_a_locked_record_is_not_rewritten_by_editing_its_case_or_participants(world) -> None:
    """Judge and clerk signed; renaming a participant (李四 → 李四四, now the plaintiff) and adding a
    witness used to rewrite the exported record (its present line and its speaker's name) while it
    still said locked and unchanged since signed. Now such an edit is refused (409, naming the hearing);
    edits the record does not print go through; after an unlock with a reason the rename is made."""
    c, clerk = world.client, world.auth("clerk")
    ids = _case_with_two_hearings(world, "(2024)吉2424民初801号")
    h1 = ids["h1"]
    before = _lines(world, h1)
    # Present at hearing 1: who sat in it or spoke in it, not the witness of the later hearing.
    assert "到庭人员 Present: 原告 张三；被告 李四" in before, before
    assert "[00:00:02] 被告 李四：被告对合同没有异议。" in before
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth(who)).status_code == 200
    locked = {"hearing_id": h1, "locked": True, "signatures": ["clerk", "judge"], "unchanged_since_signed": True, "recording_lost": False}
    assert _state(world, h1) == locked
    signed = _lines(world, h1)

    for path, body in ((f"/api/participants/{ids['li']}", {"name": "李四四", "role": "plaintiff"}),
                       (f"/api/participants/{ids['zhang']}", {"name": "张三丰"}),
                       (f"/api/cases/{ids['case']}", {"cause_of_action": "借款合同纠纷"})):
        refused = c.patch(path, json=body, headers=clerk)
        assert refused.status_code == 409, (path, refused.text)
        detail = refused.json()["detail"]
        assert f"hearing {h1}" in detail and "unlock" in detail, detail
    assert [p["name"] for p in c.get(f"/api/cases/{ids['case']}/participants", headers=clerk).json()] == \
        ["张三", "李四", "王五"]

    # Not printed in hearing 1's record: the case's status, 李四's firm, the witness of hearing 2, a newcomer.
    assert c.patch(f"/api/cases/{ids['case']}", json={"status": "adjourned"}, headers=clerk).status_code == 200
    assert c.patch(f"/api/participants/{ids['li']}", json={"organization": "某律所"}, headers=clerk).status_code == 200
    assert c.patch(f"/api/participants/{ids['wang']}", json={"name": "王五五"}, headers=clerk).status_code == 200
    assert c.post(f"/api/cases/{ids['case']}/participants", json={"name": "赵七", "role": "witness"},
                  headers=clerk).status_code == 201
    assert _lines(world, h1) == signed and _state(world, h1) == locked
    assert "到庭人员 Present: 证人 王五五" in _lines(world, ids["h2"])

    assert c.post(f"/api/hearings/{h1}/unlock", json={"reason": "当事人姓名登记有误"},
                  headers=world.auth("judge")).status_code == 200
    assert c.patch(f"/api/participants/{ids['li']}", json={"name": "李四四"}, headers=clerk).status_code == 200
    after = _lines(world, h1)
    assert "到庭人员 Present: 原告 张三；被告 李四四" in after and "[00:00:02] 被告 李四四：被告对合同没有异议。" in after


def test_an_edit_after_one_signature_voids_it_and_the_digest_covers_the_names_and_head(world) -> None:
    """The clerk signed; a rename then voids that signature (audited, as a correction does). Signed by
    both, a name or the cause changed behind the API shows as a record no longer what was signed."""
    from sqlalchemy import text

    c, clerk = world.client, world.auth("clerk")
    ids = _case_with_two_hearings(world, "(2024)吉2424民初802号")
    h1 = ids["h1"]
    assert c.post(f"/api/hearings/{h1}/signoff", json={}, headers=clerk).json()["signatures"] == ["clerk"]
    assert c.patch(f"/api/participants/{ids['li']}", json={"name": "李肆"}, headers=clerk).status_code == 200
    assert _state(world, h1)["signatures"] == []
    voided = [e for e in c.get("/api/audit", params={"object": f"hearing:{h1}"}, headers=world.auth("judge")).json()
              if e["action"] == "record.void"]
    assert len(voided) == 1 and voided[0]["details"]["roles"] == ["clerk"]
    assert f"participant {ids['li']} (李四)" in voided[0]["details"]["reason"]

    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth(who)).status_code == 200
    assert _state(world, h1)["unchanged_since_signed"] is True
    engine = _engine(world)
    for sql, back in (("update participants set name = 'X' where id = :id", "update participants set name = '李肆' where id = :id"),
                      ("update cases set cause_of_action = 'X' where id = :case",
                       "update cases set cause_of_action = '买卖合同纠纷' where id = :case")):
        with engine.begin() as conn:
            conn.execute(text(sql), {"id": ids["li"], "case": ids["case"]})
        assert _state(world, h1)["unchanged_since_signed"] is False, sql
        with engine.begin() as conn:
            conn.execute(text(back), {"id": ids["li"], "case": ids["case"]})
        assert _state(world, h1)["unchanged_since_signed"] is True, back
    engine.dispose()


def test_a_hearings_room_and_time_and_who_sat_are_kept_in_a_locked_record(world) -> None:
    """A signed record of a hearing never opened prints its scheduled time and room: moving or renaming
    either, or seating someone in it, is refused while it is locked; a room's other settings are not."""
    c, clerk, admin = world.client, world.auth("clerk"), world.auth("admin")
    room = c.post("/api/courtrooms", json={"court_id": world.ids["court"], "name": "第九法庭", "profile_name": "demo"},
                  headers=admin).json()["id"]
    ids = _case_with_two_hearings(world, "(2024)吉2424民初803号")
    hid = c.post(f"/api/cases/{ids['case']}/hearings", json={"courtroom_id": room, "scheduled_start": "2030-01-03T14:00:00"},
                 headers=clerk).json()["id"]
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    for method, path, body, who in (
            ("PATCH", f"/api/hearings/{hid}", {"courtroom_id": world.ids["room"]}, clerk),
            ("PATCH", f"/api/hearings/{hid}", {"scheduled_start": "2030-01-04T14:00:00"}, clerk),
            ("PATCH", f"/api/courtrooms/{room}", {"name": "第十法庭"}, admin),
            ("POST", f"/api/hearings/{hid}/seats", {"seat": "plaintiff", "participant_id": ids["zhang"]}, clerk)):
        refused = c.request(method, path, json=body, headers=who)
        assert refused.status_code == 409 and f"hearing {hid}" in refused.json()["detail"], (path, body, refused.text)
    assert c.patch(f"/api/hearings/{hid}", json={"title": "改期前"}, headers=clerk).status_code == 200
    assert c.patch(f"/api/courtrooms/{room}", json={"profile_name": "demo"}, headers=admin).status_code == 200
    assert _state(world, hid)["locked"] is True and _state(world, hid)["unchanged_since_signed"] is True


def test_a_signature_made_before_the_digest_covered_the_head_is_still_checked(world) -> None:
    """Signatures made before this digest format kept the lines' digest only (no ``digest_version``):
    they are checked against what they signed, so existing records do not all read as changed."""
    from courtroom_api import record
    from models.audit import append_event
    from models.db import session_factory

    ids = _case_with_two_hearings(world, "(2024)吉2424民初804号")
    h1 = ids["h1"]
    engine = _engine(world)
    with session_factory(engine, write=True)() as s:
        for role in ("judge", "clerk"):
            append_event(s, actor=f"user:{role}", action="record.sign", obj=f"hearing:{h1}",
                         details={"role": role, "name": role, "note": "", "digest": record.record_digest(s, h1, 1)})
        s.commit()
    engine.dispose()
    assert _state(world, h1) == {"hearing_id": h1, "locked": True, "signatures": ["clerk", "judge"],
                                 "unchanged_since_signed": True, "recording_lost": False}
    # Locked all the same: the rename is refused.
    assert world.client.patch(f"/api/participants/{ids['li']}", json={"name": "李肆"},
                              headers=world.auth("clerk")).status_code == 409


def test_present_names_who_sat_on_their_default_seat_in_a_hearing_that_ran(world) -> None:
    """Parties given a default seat sit there from the opening (the live attribution credits that seat's
    speech to them): a defendant who attended and said nothing is present, not printed absent as if it
    were a judgment by default (缺席). A witness seated at a later hearing only, and anyone's default seat
    in a hearing never opened, are not."""
    from models import Hearing, Participant, SeatAssignment, TranscriptSegment
    from models.db import session_factory

    c, clerk = world.client, world.auth("clerk")
    case = c.post("/api/cases", json={"case_number": "(2024)吉2424民初901号", "court_id": world.ids["court"],
                                      "cause_of_action": "借款合同纠纷"}, headers=clerk).json()["id"]
    engine = _engine(world)
    with session_factory(engine)() as s:
        people = [Participant(case_id=case, name="原告甲", role="plaintiff", seat="plaintiff"),
                  Participant(case_id=case, name="被告乙", role="defendant", seat="defendant"),
                  Participant(case_id=case, name="证人丁", role="witness")]
        s.add_all(people)
        s.flush()
        now = datetime.now(UTC)  # after they joined the case
        ran = Hearing(case_id=case, courtroom_id=world.ids["room"], started_at=now - timedelta(hours=1), ended_at=now)
        later, unopened = (Hearing(case_id=case, courtroom_id=world.ids["room"]) for _ in range(2))
        s.add_all([ran, later, unopened])
        s.flush()
        s.add_all([
            TranscriptSegment(hearing_id=ran.id, seq=1, start_s=1, end_s=3, text="原告诉称借款未还。", role="plaintiff",
                              participant_id=people[0].id),
            SeatAssignment(hearing_id=later.id, seat="witness", participant_id=people[2].id),
        ])
        s.commit()
        ran_id, unopened_id = ran.id, unopened.id
    engine.dispose()
    # A co-defendant joined the case after that hearing ended: the roster never had them.
    r = c.post(f"/api/cases/{case}/participants", json={"name": "被告戊", "role": "defendant", "seat": "defendant"},
               headers=clerk)
    assert r.status_code == 201, r.text
    assert "到庭人员 Present: 原告 原告甲；被告 被告乙" in _lines(world, ran_id)
    assert not any("原告甲" in line or "被告乙" in line for line in _lines(world, unopened_id)
                   if line.startswith("到庭人员"))


def test_a_court_is_renamed_and_its_locked_records_keep_the_name_they_were_signed_with(world) -> None:
    """Courts had no update route: a typo in a court's name, or a renamed court, stayed printed at the head
    of every record. Renaming is an administrator's, and is refused while a locked record prints the name."""
    c, clerk, admin = world.client, world.auth("clerk"), world.auth("admin")
    court = c.post("/api/courts", json={"code": "吉2499", "name": "某某县人名法院"}, headers=admin).json()["id"]
    case = c.post("/api/cases", json={"case_number": "(2024)吉2499民初1号", "court_id": court,
                                      "cause_of_action": "买卖合同纠纷"}, headers=clerk).json()["id"]
    hid = c.post(f"/api/cases/{case}/hearings", json={"courtroom_id": world.ids["room"],
                                                      "scheduled_start": "2030-01-03T14:00:00"}, headers=clerk).json()["id"]
    assert c.patch(f"/api/courts/{court}", json={"name": "某某县人民法院"}, headers=clerk).status_code == 403
    r = c.patch(f"/api/courts/{court}", json={"name": "某某县人民法院"}, headers=admin)
    assert r.status_code == 200 and r.json() == {"id": court, "code": "吉2499", "name": "某某县人民法院"}, r.text
    docx = c.get(f"/api/hearings/{hid}/transcript", params={"format": "docx"}, headers=clerk).content
    head = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "某某县人民法院" in head and "人名" not in head
    assert c.patch(f"/api/courts/{court}", json={"code": "吉2424"}, headers=admin).status_code == 409
    assert c.patch(f"/api/courts/{court}", json={"name": ""}, headers=admin).status_code == 422
    assert c.patch("/api/courts/999999", json={"name": "x"}, headers=admin).status_code == 404
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    refused = c.patch(f"/api/courts/{court}", json={"name": "某某市人民法院"}, headers=admin)
    assert refused.status_code == 409 and f"hearing {hid}" in refused.json()["detail"], refused.text
    assert c.patch(f"/api/courts/{court}", json={"code": "吉2498"}, headers=admin).status_code == 200  # (not printed)
    assert _state(world, hid)["locked"] is True and _state(world, hid)["unchanged_since_signed"] is True
    assert {"name": "某某县人民法院", "code": "吉2498"}.items() <= next(
        x for x in c.get("/api/courts", headers=clerk).json() if x["id"] == court).items()


def test_a_gap_noted_in_the_recording_after_signing_reads_as_a_changed_record(world) -> None:
    """The record prints where its recording holds no audio ("录音中断…"): the digest did not cover it, so
    a gap added to (or taken from) the filed recording behind the API after sign-off still read as
    "unchanged since signed". Signatures made with the digest before (version 2) are still checked."""
    from courtroom_api import record
    from models import Recording
    from models.audit import append_event
    from models.db import session_factory

    ids = _case_with_two_hearings(world, "(2024)吉2424民初805号")
    h1, h2 = ids["h1"], ids["h2"]
    for who in ("judge", "clerk"):
        assert world.client.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth(who)).status_code == 200
    engine = _engine(world)
    with session_factory(engine, write=True)() as s:
        for role in ("judge", "clerk"):  # h2 signed with the version-2 digest
            append_event(s, actor=f"user:{role}", action="record.sign", obj=f"hearing:{h2}",
                         details={"role": role, "name": role, "note": "", "digest": record.record_digest(s, h2, 2),
                                  "digest_version": 2})
        s.commit()
    assert _state(world, h1)["unchanged_since_signed"] is True and _state(world, h2)["unchanged_since_signed"] is True
    with session_factory(engine)() as s:
        added = Recording(hearing_id=h1, sample_rate=16000, channel_count=4, channel_layout=[],
                          segment_files=[{"path": "x", "gaps": [{"first_sample": 16000 * 2, "frames": 16000 * 60,
                                                                  "reason": "server restart"}]}])
        s.add(added)
        s.commit()
        assert _state(world, h1)["unchanged_since_signed"] is False
        assert _state(world, h2)["unchanged_since_signed"] is True
        s.delete(added)  # (the shared world's records all read as signed again: `audit verify` checks them)
        s.commit()
    engine.dispose()
    assert _state(world, h1)["unchanged_since_signed"] is True


def test_a_record_is_not_signed_while_its_recording_is_not_filed(world) -> None:
    """The record prints the recording's gaps (digest v3): signed while the recording was still unfiled
    (the recording_not_filed alarm, a recess), filing it later made the locked record read as changed
    with nobody having touched it."""
    from datetime import UTC, datetime

    from models import Recording
    from models.db import session_factory

    ids = _case_with_two_hearings(world, "(2024)吉2424民初806号")
    h1 = ids["h1"]
    engine = _engine(world)
    with session_factory(engine)() as s:
        rec = Recording(hearing_id=h1, sample_rate=16000, channel_count=4, channel_layout=[])
        s.add(rec)
        s.commit()
        refused = world.client.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth("clerk"))
        assert refused.status_code == 409 and "not yet filed" in refused.json()["detail"], refused.text
        rec.finalized_at = datetime.now(UTC)
        rec.segment_files = [{"path": "x", "gaps": [{"first_sample": 0, "frames": 16000, "reason": "disk full"}]}]
        s.commit()
    engine.dispose()
    for who in ("judge", "clerk"):
        assert world.client.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth(who)).status_code == 200
    assert _state(world, h1)["unchanged_since_signed"] is True


def test_a_record_whose_recording_cannot_be_filed_is_signed_when_they_say_so(world) -> None:
    """A recording that can never be filed (its directory lost with a disk) blocked the record's sign-off
    for good (found in review): judge and clerk sign it saying so (`without_recording`, audited); in a
    recess never."""
    from models import Hearing, Recording
    from models.db import session_factory

    ids = _case_with_two_hearings(world, "(2024)吉2424民初807号")
    h1, c = ids["h1"], world.client
    engine = _engine(world)
    with session_factory(engine)() as s:
        s.add(Recording(hearing_id=h1, sample_rate=16000, channel_count=4, channel_layout=[]))
        s.get_one(Hearing, h1).status = "paused"
        s.commit()
        body = {"without_recording": True, "note": "录音目录随硬盘损毁"}
        refused = c.post(f"/api/hearings/{h1}/signoff", json=body, headers=world.auth("clerk"))
        assert refused.status_code == 409 and "in recess" in refused.json()["detail"], refused.text
        s.get_one(Hearing, h1).status = "ended"
        s.commit()
    engine.dispose()
    refused = c.post(f"/api/hearings/{h1}/signoff", json={}, headers=world.auth("clerk"))
    assert refused.status_code == 409 and '"without_recording": true' in refused.json()["detail"], refused.text
    # Its directory still on the server (held for a full disk, being filed): its filing would change the
    # locked record, so it is not signed without it (found in review).
    directory = c.app.state.services.settings.hearing_recording_dir(h1)
    directory.mkdir(parents=True)
    (directory / "manifest.jsonl").write_text("{}\n")
    refused = c.post(f"/api/hearings/{h1}/signoff", json=body, headers=world.auth("clerk"))
    assert refused.status_code == 409 and "still on the server" in refused.json()["detail"], refused.text
    assert _state(world, h1)["recording_lost"] is False  # the console offers no sign-off without it
    (directory / "manifest.jsonl").unlink()
    assert _state(world, h1)["recording_lost"] is True
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{h1}/signoff", json=body, headers=world.auth(who)).status_code == 200
    assert _state(world, h1)["locked"] is True
    signed = [e for e in c.get("/api/audit", params={"object": f"hearing:{h1}"}, headers=world.auth("judge")).json()
              if e["action"] == "record.sign"]
    assert len(signed) == 2 and all(e["details"]["without_recording"] for e in signed)


def test_the_recording_of_a_hearing_ended_in_recess_with_its_directory_lost_is_not_tried_for_ever(
        world, caplog) -> None:
    """Ended in recess, its recording directory gone: the late filing tried again every second for the
    server's life, a warning each time (found in review). It says once that it cannot be filed."""
    import time

    from models import Hearing, Recording
    from models.db import session_factory

    ids = _case_with_two_hearings(world, "(2024)吉2424民初808号")
    h1, c = ids["h1"], world.client
    engine = _engine(world)
    with session_factory(engine)() as s:
        s.add(Recording(hearing_id=h1, sample_rate=16000, channel_count=4, channel_layout=[]))
        s.get_one(Hearing, h1).status = "paused"
        s.commit()
    engine.dispose()
    with caplog.at_level("WARNING", logger="courtroom_api.live.late_filing"):
        assert c.post(f"/api/hearings/{h1}/stop", headers=world.auth("clerk")).json()["status"] == "ended"
        tried = len([r for r in caplog.records if "NOT filed" in r.getMessage()])
        time.sleep(2.5)
        again = len([r for r in caplog.records if "NOT filed" in r.getMessage()]) - tried
    assert tried >= 1 and again == 0, (tried, again)
    assert h1 not in c.app.state.services.hearings._filing


# Recorded as the hearing's recording notes them: a recess of 300 s at 60 s, then 2 s of audio lost.
_GAPS = [{"first_sample": 16000 * 60, "frames": 16000 * 300, "reason": "recess"},
         {"first_sample": 16000 * 500, "frames": 16000 * 2, "reason": "server restart"}]


def _ran_with_a_silent_party(world, number: str) -> dict[str, int]:
    """A hearing that ran, its recording filed with a recess and an audio loss: 原告甲 on the plaintiff's
    default seat spoke; 被告乙 sat on the defendant's and said nothing (present by the default seat only)."""
    from models import Hearing, Participant, Recording, TranscriptSegment
    from models.db import session_factory

    case = world.client.post("/api/cases", json={"case_number": number, "court_id": world.ids["court"],
                                                 "cause_of_action": "借款合同纠纷"}, headers=world.auth("clerk")).json()["id"]
    engine = _engine(world)
    with session_factory(engine)() as s:
        people = [Participant(case_id=case, name="原告甲", role="plaintiff", seat="plaintiff"),
                  Participant(case_id=case, name="被告乙", role="defendant", seat="defendant")]
        s.add_all(people)
        s.flush()
        now = datetime.now(UTC)  # after they joined the case
        hearing = Hearing(case_id=case, courtroom_id=world.ids["room"], started_at=now - timedelta(hours=1),
                          ended_at=now, status="ended")
        s.add(hearing)
        s.flush()
        s.add_all([
            TranscriptSegment(hearing_id=hearing.id, seq=1, start_s=1, end_s=3, text="原告诉称借款未还。",
                              role="plaintiff", participant_id=people[0].id),
            TranscriptSegment(hearing_id=hearing.id, seq=2, start_s=400, end_s=402, text="现在继续开庭。",
                              role="presiding_judge"),
            Recording(hearing_id=hearing.id, sample_rate=16000, channel_count=4, channel_layout=[], finalized_at=now,
                      segment_files=[{"path": "x", "gaps": _GAPS}]),
        ])
        s.commit()
        ids = {"hearing": hearing.id, "plaintiff": people[0].id, "defendant": people[1].id}
    engine.dispose()
    return ids


def _as_an_earlier_release_signed(s, hid: int, present: list[list], gaps: list[list] | None) -> str:  # type: ignore[no-untyped-def,type-arg]
    """The digest an earlier release kept in its ``record.sign``, made as its code made it (written out
    here, not taken from courtroom_api.record): the head line with Present as it printed it, the gap
    line as it wrote it (version 3 only), then the lines."""
    import hashlib
    import json

    from sqlalchemy import select

    from models import Court, Courtroom, Hearing
    from models import TranscriptSegment as S

    hearing = s.get(Hearing, hid)
    times = [t.astimezone(UTC).isoformat() for t in (hearing.started_at, hearing.ended_at)]
    head = [s.get(Court, hearing.case.court_id).name, hearing.case.case_number, hearing.case.cause_of_action,
            s.get(Courtroom, hearing.courtroom_id).name, *times, present]
    digest = hashlib.sha256(json.dumps(head, ensure_ascii=False).encode() + b"\n")
    if gaps is not None:
        digest.update(json.dumps(gaps).encode() + b"\n")
    for row in s.execute(select(S.id, S.revision, S.start_s, S.end_s, S.text, S.role, S.participant_id, S.sealed)
                         .where(S.hearing_id == hid).order_by(S.start_s, S.id)):
        line = [row.id, row.revision, row.start_s, row.end_s, row.text, str(row.role) if row.role else None,
                row.participant_id, bool(row.sealed)]
        digest.update(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def _sign_as_before(world, hid: int, roles: tuple[str, ...], digest: str, version: int) -> None:
    from models.audit import append_event
    from models.db import session_factory

    engine = _engine(world)
    with session_factory(engine, write=True)() as s:
        for role in roles:
            append_event(s, actor=f"user:{role}", action="record.sign", obj=f"hearing:{hid}",
                         details={"role": role, "name": role, "note": "", "digest": digest, "digest_version": version})
        s.commit()
    engine.dispose()


def test_records_signed_by_earlier_releases_read_unchanged_after_the_upgrade(world) -> None:
    """Version 2 of the digest came to count in Present who sat on their default seat and never spoke
    (da0bf72), and version 3 to mark a recess in its gap line (8185ad5), both under the same number: the
    records those releases signed read "CHANGED since signed" after the upgrade (`audit verify` exit 1,
    the console's flag), and one signed by the judge before it was locked as changed by the clerk's
    signature after. Each is checked with the formula it was signed with; new signatures are version 4."""
    from courtroom_api import record
    from models.db import session_factory

    c = world.client
    plain = [[60.0, 360.0], [500.0, 502.0]]
    marked = [[60.0, 360.0, "recess"], [500.0, 502.0]]
    # (digest version, Present as that release printed it, its gap line), by release
    releases = {"v2 before da0bf72": (2, ["plaintiff"], None), "v2 from da0bf72": (2, ["plaintiff", "defendant"], None),
                "v3 before 8185ad5": (3, ["plaintiff", "defendant"], plain),
                "v3 from 8185ad5": (3, ["plaintiff", "defendant"], marked)}
    signed, digests = {}, {}
    engine = _engine(world)
    for n, (release, (version, present, gaps)) in enumerate(releases.items()):
        ids = _ran_with_a_silent_party(world, f"(2024)吉2424民初{911 + n}号")
        names = {"plaintiff": [ids["plaintiff"], "plaintiff", "原告甲"], "defendant": [ids["defendant"], "defendant", "被告乙"]}
        with session_factory(engine)() as s:
            digests[release] = _as_an_earlier_release_signed(s, ids["hearing"], [names[p] for p in present], gaps)
            if release == "v3 from 8185ad5":  # what version 4 covers, in the same bytes
                assert digests[release] == record.record_digest(s, ids["hearing"])
        _sign_as_before(world, ids["hearing"], ("judge", "clerk"), digests[release], version)
        signed[release] = ids["hearing"]
    assert len(set(digests.values())) == len(releases)  # each release's digest of the same record differs
    assert {release: _state(world, hid)["unchanged_since_signed"] for release, hid in signed.items()} == \
        dict.fromkeys(releases, True)
    for hid in signed.values():
        assert _state(world, hid) == {"hearing_id": hid, "locked": True, "signatures": ["clerk", "judge"],
                                      "unchanged_since_signed": True, "recording_lost": False}
    with session_factory(engine)() as s:
        assert {hid: True for hid in signed.values()}.items() <= record.signed_records(s).items()

    # The judge signed with the release before 8185ad5, the clerk signs after the upgrade: locked, unchanged.
    ids = _ran_with_a_silent_party(world, "(2024)吉2424民初915号")
    hid = ids["hearing"]
    with session_factory(engine)() as s:
        names = [[ids["plaintiff"], "plaintiff", "原告甲"], [ids["defendant"], "defendant", "被告乙"]]
        _sign_as_before(world, hid, ("judge",), _as_an_earlier_release_signed(s, hid, names, plain), 3)
    engine.dispose()
    assert _state(world, hid)["unchanged_since_signed"] is True
    assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth("clerk")).status_code == 200
    assert _state(world, hid) == {"hearing_id": hid, "locked": True, "signatures": ["clerk", "judge"],
                                  "unchanged_since_signed": True, "recording_lost": False}
    events = [e["details"] for e in c.get("/api/audit", params={"object": f"hearing:{hid}"},
                                          headers=world.auth("judge")).json() if e["action"] == "record.sign"]
    assert sorted(e["digest_version"] for e in events) == [3, 4]


def test_a_record_signed_now_reads_changed_for_a_line_a_gap_or_who_was_present(world) -> None:
    """Signed with version 4, one formula: a line rewritten, a gap made a recess or taken away, or a
    silent party no longer on their default seat (Present changes) behind the API reads as changed, and
    as signed again once put back."""
    from sqlalchemy import select, text

    from models import Recording
    from models.db import session_factory

    c = world.client
    ids = _ran_with_a_silent_party(world, "(2024)吉2424民初916号")
    hid = ids["hearing"]
    assert "到庭人员 Present: 原告 原告甲；被告 被告乙" in _lines(world, hid)
    for who in ("judge", "clerk"):
        assert c.post(f"/api/hearings/{hid}/signoff", json={}, headers=world.auth(who)).status_code == 200
    assert _state(world, hid)["locked"] is True and _state(world, hid)["unchanged_since_signed"] is True
    assert {e["details"]["digest_version"] for e in c.get("/api/audit", params={"object": f"hearing:{hid}"},
            headers=world.auth("judge")).json() if e["action"] == "record.sign"} == {4}
    engine = _engine(world)
    for sql, back in (
            ("update transcript_segments set text = '原告诉称借款已还。' where hearing_id = :hid and seq = 1",
             "update transcript_segments set text = '原告诉称借款未还。' where hearing_id = :hid and seq = 1"),
            ("update participants set seat = null where id = :defendant",
             "update participants set seat = 'defendant' where id = :defendant")):
        with engine.begin() as conn:
            conn.execute(text(sql), {"hid": hid, "defendant": ids["defendant"]})
        assert _state(world, hid)["unchanged_since_signed"] is False, sql
        with engine.begin() as conn:
            conn.execute(text(back), {"hid": hid, "defendant": ids["defendant"]})
        assert _state(world, hid)["unchanged_since_signed"] is True, back
    restart_as_recess = [_GAPS[0], {**_GAPS[1], "reason": "recess"}]
    for gaps in (restart_as_recess, _GAPS[:1], _GAPS):
        with session_factory(engine)() as s:
            s.scalars(select(Recording).where(Recording.hearing_id == hid)).one().segment_files = [
                {"path": "x", "gaps": gaps}]
            s.commit()
        assert _state(world, hid)["unchanged_since_signed"] is (gaps is _GAPS), gaps
    engine.dispose()
