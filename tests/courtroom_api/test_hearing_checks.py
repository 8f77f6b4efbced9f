"""What a hearing's start, its seats and its courtroom's profile are checked against before anything
records: a request that cannot work is refused with a clear answer, not a 500 or a hearing used up."""

from __future__ import annotations


def _engine(world):  # type: ignore[no-untyped-def]
    from models.db import make_engine

    return make_engine(world.client.app.state.services.engine.url.render_as_string(hide_password=False))


def _room_with_profile(world, name: str, profile_name: str) -> int:  # type: ignore[no-untyped-def]
    """A courtroom written straight into the dossier (as one saved before profiles were checked, or whose
    profile file went away since)."""
    from models import Courtroom
    from models.db import session_factory

    engine = _engine(world)
    try:
        with session_factory(engine)() as s:
            room = Courtroom(court_id=world.ids["court"], name=name, profile_name=profile_name)
            s.add(room)
            s.commit()
            return room.id
    finally:
        engine.dispose()


def _hearing(world, room: int | None, case: str = "case") -> int:  # type: ignore[no-untyped-def]
    r = world.client.post(f"/api/cases/{world.ids[case]}/hearings", headers=world.auth("clerk"),
                          json={"courtroom_id": room} if room is not None else {})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_seating_in_a_room_whose_profile_is_gone_is_a_clear_409(world) -> None:
    """A courtroom naming a profile that does not exist: seating someone there is a 409 naming the profile
    (load_profile's ProfileNotFoundError was not caught: a 500)."""
    room = _room_with_profile(world, "座位检查法庭-无配置", "no-such-profile-seats")
    hid = _hearing(world, room)
    r = world.client.post(f"/api/hearings/{hid}/seats", headers=world.auth("judge"),
                          json={"seat": "witness", "participant_id": world.ids["participant"]})
    assert r.status_code == 409 and "no-such-profile-seats" in r.json()["detail"], r.text
    assert world.client.get(f"/api/hearings/{hid}/seats", headers=world.auth("judge")).json() == []


def test_a_schedule_out_of_any_court_s_years_is_422(world) -> None:
    """Year 1 (or 9999) is a typo: refused with 422 on create and on update. It was a 500 (converting
    0001-01-01 in the court's zone to UTC overflowed)."""
    c, clerk = world.client, world.auth("clerk")
    case = c.post("/api/cases", headers=clerk, json={"case_number": "(2026)排期年份1号", "court_id": 1}).json()["id"]
    for when in ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "1899-12-31T23:00:00+00:00"):
        for key in ("scheduled_start", "scheduled_end"):
            r = c.post(f"/api/cases/{case}/hearings", headers=clerk, json={key: when})
            assert r.status_code == 422 and key in r.json()["detail"], (when, key, r.text)
    hid = c.post(f"/api/cases/{case}/hearings", headers=clerk, json={}).json()["id"]
    r = c.patch(f"/api/hearings/{hid}", headers=clerk, json={"scheduled_start": "0001-01-01T00:00:00"})
    assert r.status_code == 422 and "scheduled_start" in r.json()["detail"], r.text
    r = c.patch(f"/api/hearings/{hid}", headers=clerk, json={"scheduled_start": "2200-06-01T09:00:00"})
    assert r.status_code == 200, r.text


def test_paging_the_hearing_list_lists_each_hearing_once(world) -> None:
    """A live hearing ranks first, within `limit`: paging by what each page held lists every hearing of
    the room once. The live ones were added to the first page on top of `limit` and listed again at their
    own rank, and a client paging on by the page's length skipped one (a hearing due tomorrow)."""
    from datetime import UTC, datetime, timedelta

    from models import Hearing
    from models.db import session_factory

    c, admin, clerk = world.client, world.auth("admin"), world.auth("clerk")
    room = c.post("/api/courtrooms", headers=admin,
                  json={"court_id": 1, "name": "翻页检查法庭", "profile_name": "demo"}).json()["id"]
    now = datetime.now(UTC)
    made = [c.post(f"/api/cases/{world.ids['case']}/hearings", headers=clerk,
                   json={"courtroom_id": room, "scheduled_start": (now + timedelta(days=d)).isoformat()}).json()["id"]
            for d in (1, 3, 5, 7, 9, -30)]
    live = made[-1]
    engine = _engine(world)
    try:
        with session_factory(engine)() as s:  # running since last month: ranked by time, it is the oldest
            hearing = s.get_one(Hearing, live)
            hearing.status, hearing.started_at = "in_progress", now - timedelta(days=30)
            s.commit()
        pages, offset = [], 0
        while True:
            r = c.get("/api/hearings", params={"courtroom_id": room, "limit": 3, "offset": offset}, headers=clerk)
            assert r.status_code == 200, r.text
            page = [h["id"] for h in r.json()]
            if not page:
                break
            assert len(page) <= 3, page
            pages.append(page)
            offset += len(page)
        listed = [hid for page in pages for hid in page]
        assert sorted(listed) == sorted(made), pages
        assert live in pages[0]
    finally:
        with session_factory(engine)() as s:
            s.get_one(Hearing, live).status = "ended"
            s.commit()
        engine.dispose()


def test_a_hearing_with_no_courtroom_does_not_start(world) -> None:
    """A real case's hearing entered without a room: its start is a 409 asking for one (it used to record
    the bundled demo sample and file it as this hearing), and it stays scheduled. Started with the profile
    of a room whose hearing is in progress, it is refused as that room is in use (no room: no check, and it
    recorded that room's array into a second dossier)."""
    from models import Hearing
    from models.db import session_factory

    c, clerk = world.client, world.auth("clerk")
    hid = _hearing(world, None, case="other_case")
    for plan in ({"source": "file", "url": "/nonexistent.flac"}, {}):
        r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json=plan)
        assert r.status_code == 409 and f"hearing {hid} has no courtroom: assign one" in r.json()["detail"], r.text
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"

    room = _room_with_profile(world, "无庭检查法庭-八路", "criminal-8ch")
    running = _hearing(world, room)
    engine = _engine(world)
    try:
        with session_factory(engine)() as s:
            s.get_one(Hearing, running).status = "in_progress"
            s.commit()
        r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json={"profile": "criminal-8ch"})
        assert r.status_code == 409 and f"hearing {running} is in progress there" in r.json()["detail"], r.text
        # A file (or a stream) under that profile records no room's array: the busy room does not stop it.
        plan = {"profile": "criminal-8ch", "source": "file", "url": "/nonexistent.flac"}
        r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json=plan)
        assert r.status_code == 409 and "does not exist" in r.json()["detail"], r.text
    finally:
        with session_factory(engine)() as s:
            s.get_one(Hearing, running).status = "ended"
            s.commit()
        engine.dispose()
    r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json=plan)  # the room free: on to the file's check
    assert r.status_code == 409 and "does not exist" in r.json()["detail"], r.text
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"


REPLAY_PROFILE = """room_id = "replay-check"
sample_rate = 16000
[source]
kind = "replay"
url = "{url}"
[[channels]]
channel = 0
seat = "judge"
role = "presiding_judge"
[[channels]]
channel = 1
seat = "clerk"
role = "clerk"
[[channels]]
channel = 2
seat = "plaintiff"
role = "plaintiff"
[[channels]]
channel = 3
seat = "defendant"
role = "defendant"
"""


def test_a_room_replaying_a_missing_or_wrong_file_does_not_start(world, tmp_path) -> None:
    """A room whose own profile replays a file (as the demo's does): a file that is gone, or one with
    fewer channels than the room's seats, is refused (409) before the start, and the hearing stays
    scheduled. Only a file named in the start request was checked: it started, recorded nothing, and
    the stop used the hearing up."""
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "two.wav", np.zeros((16000, 2), dtype=np.float32), 16000)
    c, clerk = world.client, world.auth("clerk")
    for n, (url, words) in enumerate((("nope.flac", "does not exist"), ("two.wav", "has 2 channel(s)"))):
        profile = tmp_path / f"replay{n}.toml"
        profile.write_text(REPLAY_PROFILE.format(url=url), encoding="utf-8")
        room = _room_with_profile(world, f"回放检查法庭{n}", str(profile))
        hid = _hearing(world, room)
        r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json={})
        assert r.status_code == 409 and words in r.json()["detail"], r.text
        assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"
        assert c.get(f"/api/hearings/{hid}/recordings", headers=clerk).json() == []


def test_a_courtrooms_profile_is_a_profile_name_checked_when_saved(world, tmp_path, monkeypatch) -> None:
    """A room's profile_name is checked on create and update (422 naming the profiles there are): a wrong
    one used to be saved and fail only at the judge's start. A path is no profile name: the server read
    any file it was given (/etc/passwd) and told whether it exists and how it parses. The court's own
    profiles are named from COURTROOM_PROFILES_DIR, and a start there finds them."""
    c, admin, clerk = world.client, world.auth("admin"), world.auth("clerk")
    for bad in ("no-such-profile", "/etc/passwd", "../profiles/demo", "/tmp"):
        r = c.post("/api/courtrooms", headers=admin, json={"court_id": 1, "name": "配置检查法庭", "profile_name": bad})
        assert r.status_code == 422 and "civil-4ch" in r.json()["detail"], r.text
        assert "root" not in r.json()["detail"] and "field" not in r.json()["detail"], r.text
    assert "配置检查法庭" not in {room["name"] for room in c.get("/api/courtrooms", headers=admin).json()}
    room = c.post("/api/courtrooms", headers=admin,
                  json={"court_id": 1, "name": "配置检查法庭", "profile_name": "civil-4ch"}).json()["id"]
    r = c.patch(f"/api/courtrooms/{room}", headers=admin, json={"profile_name": "/etc/passwd"})
    assert r.status_code == 422, r.text
    rooms = {r["id"]: r for r in c.get("/api/courtrooms", headers=admin).json()}
    assert rooms[room]["profile_name"] == "civil-4ch"

    own = tmp_path / "court-4ch.toml"
    own.write_text(REPLAY_PROFILE.format(url="nope.flac"), encoding="utf-8")
    monkeypatch.setattr(world.client.app.state.services.settings, "profiles_dir", tmp_path)
    r = c.patch(f"/api/courtrooms/{room}", headers=admin, json={"profile_name": "court-4ch"})
    assert r.status_code == 200, r.text
    hid = _hearing(world, room)
    r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json={})  # found by name: on to its source's check
    assert r.status_code == 409 and "nope.flac" in r.json()["detail"], r.text
    r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json={"profile": "/etc/passwd"})
    assert r.status_code == 422, r.text
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"


def test_a_courts_own_profile_may_be_named_in_chinese_and_a_room_saved_with_a_path_is_still_edited(
        world, tmp_path, monkeypatch) -> None:
    """`第三法庭.toml` in COURTROOM_PROFILES_DIR was listed among the profiles and refused as one (the names
    were ASCII only); a room saved with a path before the check could not be renamed by a form that sends
    its profile_name back as it is (found in review)."""
    from models import Courtroom
    from models.db import session_factory

    c, admin = world.client, world.auth("admin")
    for name in ("第三法庭", "room 5"):
        (tmp_path / f"{name}.toml").write_text(REPLAY_PROFILE.format(url="nope.flac"), encoding="utf-8")
    monkeypatch.setattr(world.client.app.state.services.settings, "profiles_dir", tmp_path)
    for name in ("第三法庭", "room 5"):
        r = c.post("/api/courtrooms", headers=admin, json={"court_id": 1, "name": f"中文配置{name}", "profile_name": name})
        assert r.status_code == 201, r.text
    room = c.post("/api/courtrooms", headers=admin,
                  json={"court_id": 1, "name": "旧路径法庭", "profile_name": "civil-4ch"}).json()["id"]
    engine = _engine(world)
    with session_factory(engine)() as s:
        s.get_one(Courtroom, room).profile_name = str(tmp_path / "第三法庭.toml")  # (saved before the check)
        s.commit()
    engine.dispose()
    stored = str(tmp_path / "第三法庭.toml")
    r = c.patch(f"/api/courtrooms/{room}", headers=admin, json={"name": "旧路径法庭（改名）", "profile_name": stored})
    assert r.status_code == 200 and r.json()["profile_name"] == stored, r.text
    assert c.patch(f"/api/courtrooms/{room}", headers=admin, json={"profile_name": "/etc/passwd"}).status_code == 422
    r = c.post("/api/courtrooms", headers=admin, json={"court_id": 1, "name": "长名法庭", "profile_name": "第" * 86})
    assert r.status_code == 422 and "no courtroom profile" in r.json()["detail"], r.text  # (a 500 before)
