"""The court-wide hearing list respects access scopes and filters."""

import pytest


def _ids(world, who, **params):
    r = world.client.get("/api/hearings", params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()}


@pytest.mark.parametrize("role", ["judge", "clerk", "appeal_judge", "admin"])
def test_court_wide_roles_see_every_hearing(world, role) -> None:
    assert {world.ids["hearing"], world.ids["other_hearing"]} <= _ids(world, role)


def test_party_sees_only_its_cases_hearings(world) -> None:
    ids = world.ids
    seen = _ids(world, "party")
    assert ids["hearing"] in seen and ids["other_hearing"] not in seen
    other = _ids(world, "other_party")
    assert ids["other_hearing"] in other and ids["hearing"] not in other


def test_terminal_sees_only_its_courtroom(world) -> None:
    ids = world.ids
    rows = world.client.get("/api/hearings", headers=world.auth("terminal")).json()
    assert rows and all(h["courtroom_id"] == ids["room"] for h in rows)
    assert ids["other_hearing"] not in {h["id"] for h in rows}
    # asking for another courtroom gives nothing, not that courtroom's hearings
    assert _ids(world, "terminal", courtroom_id=ids["other_room"]) == set()


def test_filters_and_case_number(world) -> None:
    ids = world.ids
    rows = world.client.get("/api/hearings", params={"courtroom_id": ids["other_room"]},
                            headers=world.auth("clerk")).json()
    assert ids["other_hearing"] in {h["id"] for h in rows} and ids["hearing"] not in {h["id"] for h in rows}
    assert all(h["case_number"] for h in rows)
    assert _ids(world, "clerk", status="cancelled").isdisjoint({ids["hearing"], ids["other_hearing"]})
    statuses = {h["status"] for h in world.client.get("/api/hearings", params={"status": "scheduled"},
                                                      headers=world.auth("clerk")).json()}
    assert statuses <= {"scheduled"}
    assert world.client.get("/api/hearings", params={"status": "bogus"}, headers=world.auth("clerk")).status_code == 422


def test_hearing_list_needs_login(world) -> None:
    assert world.client.get("/api/hearings").status_code == 401


def test_long_lists_keep_the_newest_and_the_live_hearing(world) -> None:
    """A court's list outgrows any limit: the newest hearings and the one in progress are what the screens
    need, so they are the ones kept (the oldest 500 used to be, hiding today's), and older ones are paged."""
    from datetime import UTC, datetime

    from models import Hearing
    from models.db import make_engine, session_factory

    admin, clerk = world.auth("admin"), world.auth("clerk")
    room = world.client.post("/api/courtrooms", headers=admin,
                             json={"court_id": 1, "name": "长列表法庭", "profile_name": "demo"}).json()["id"]
    made = [world.client.post(f"/api/cases/{world.ids['case']}/hearings", headers=clerk,
                              json={"courtroom_id": room}).json()["id"] for _ in range(6)]
    live, old, recent, upcoming, *cancelled = made
    engine = make_engine(world.client.app.state.services.engine.url.render_as_string(hide_password=False))
    with session_factory(engine)() as s:  # a hearing running since 2020, two ended ones, one not yet held
        for hid, year, status in ((live, 2020, "in_progress"), (old, 2024, "ended"), (recent, 2025, "ended")):
            hearing = s.get_one(Hearing, hid)
            hearing.status, hearing.started_at = status, datetime(year, 3, 1, 9, tzinfo=UTC)
        for hid in cancelled:  # entered in 2019 and cancelled, never dated: old, not upcoming
            hearing = s.get_one(Hearing, hid)
            hearing.status, hearing.created_at = "cancelled", datetime(2019, 1, 1, tzinfo=UTC)
        s.commit()
    engine.dispose()
    try:
        def page(**params):
            r = world.client.get("/api/hearings", params={"courtroom_id": room, **params}, headers=clerk)
            assert r.status_code == 200, r.text
            return [h["id"] for h in r.json()]

        assert page() == [*cancelled, live, old, recent, upcoming]
        # The live one ranks first (and only there); `upcoming`, entered today undated, is the newest.
        assert page(limit=2) == [live, upcoming]
        assert page(limit=2, offset=2) == [old, recent]
        assert page(limit=2, offset=4) == cancelled
    finally:
        with session_factory(engine)() as s:
            s.get_one(Hearing, live).status = "ended"
            s.commit()
        engine.dispose()


def test_a_scheduled_time_without_a_zone_is_the_courts_time(world) -> None:
    """A date-time field sends "2030-01-02T09:00:00": that is 09:00 in the court (Asia/Shanghai by default),
    not a 500; an end before the start is refused."""
    c, clerk, case = world.client, world.auth("clerk"), world.ids["case"]
    r = c.post(f"/api/cases/{case}/hearings", headers=clerk,
               json={"scheduled_start": "2030-01-02T09:00:00", "scheduled_end": "2030-01-02T11:30:00"})
    assert r.status_code == 201, r.text
    from datetime import datetime

    assert datetime.fromisoformat(r.json()["scheduled_start"]) == datetime.fromisoformat("2030-01-02T01:00:00+00:00")
    hid = r.json()["id"]
    moved = c.patch(f"/api/hearings/{hid}", headers=clerk, json={"scheduled_start": "2030-01-03T14:00:00",
                                                                 "scheduled_end": "2030-01-03T16:00:00"})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["scheduled_end"]) == datetime.fromisoformat("2030-01-03T08:00:00Z")
    backwards = c.patch(f"/api/hearings/{hid}", headers=clerk, json={"scheduled_end": "2030-01-03T13:00:00"})
    assert backwards.status_code == 422 and "before scheduled_start" in backwards.text
    r = c.post(f"/api/cases/{case}/hearings", headers=clerk,
               json={"scheduled_start": "2030-01-02T09:00:00Z", "scheduled_end": "2030-01-02T08:00:00Z"})
    assert r.status_code == 422, r.text


def test_a_closed_case_gets_no_more_hearings(world) -> None:
    """A closed case's record is complete: a new hearing is refused, and one scheduled before it closed
    cannot start (it used to start, reopen the case as in_hearing and add to its record)."""
    c, clerk = world.client, world.auth("clerk")
    case = c.post("/api/cases", headers=clerk, json={"case_number": "(2024)结案1号", "court_id": 1}).json()["id"]
    hid = c.post(f"/api/cases/{case}/hearings", headers=clerk, json={"courtroom_id": world.ids["room"]}).json()["id"]
    assert c.patch(f"/api/cases/{case}", headers=clerk, json={"status": "closed"}).status_code == 200
    r = c.post(f"/api/cases/{case}/hearings", headers=clerk, json={})
    assert r.status_code == 409 and "closed" in r.json()["detail"], r.text
    r = c.post(f"/api/hearings/{hid}/start", headers=clerk, json={"source": "file", "url": "/nonexistent.flac"})
    assert r.status_code == 409 and "closed" in r.json()["detail"], r.text
    assert c.get(f"/api/cases/{case}", headers=clerk).json()["status"] == "closed"
    assert c.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "scheduled"


def test_seats_are_checked_before_the_hearing_runs(world) -> None:
    """A seat that is not in the courtroom's profile is refused on a scheduled hearing too (only a running
    one checked it), and a participant is not seated twice on one seat (dismissing one of two open rows
    left the other open in the dossier)."""
    c, clerk = world.client, world.auth("clerk")
    hid = c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": world.ids["room"]},
                 headers=clerk).json()["id"]
    who = world.ids["participant"]
    r = c.post(f"/api/hearings/{hid}/seats", json={"seat": "podium", "participant_id": who}, headers=clerk)
    assert r.status_code == 422 and "not in this courtroom" in r.json()["detail"], r.text
    first = c.post(f"/api/hearings/{hid}/seats", json={"seat": "plaintiff", "participant_id": who}, headers=clerk)
    assert first.status_code == 201, first.text
    again = c.post(f"/api/hearings/{hid}/seats", json={"seat": "plaintiff", "participant_id": who, "from_s": 5},
                   headers=clerk)
    assert again.status_code == 409 and "already on seat" in again.json()["detail"], again.text
    assert len(c.get(f"/api/hearings/{hid}/seats", headers=clerk).json()) == 1


def test_todays_hearings_lead_the_list_when_the_court_schedules_ahead(world) -> None:
    """A court that schedules weeks ahead has more hearings newer than today's than a page holds: today's
    and tomorrow's (not yet held, due from the court's midnight to a day from now) come first, soonest
    first, then the rest newest first, and paging lists each hearing once. Ranked newest first, today's next
    hearing was not on the first page, and the screens could not open or start it."""
    from datetime import UTC, datetime, timedelta

    from courtroom_api.record import court_zone

    admin, clerk = world.auth("admin"), world.auth("clerk")
    room = world.client.post("/api/courtrooms", headers=admin,
                             json={"court_id": 1, "name": "排期法庭", "profile_name": "demo"}).json()["id"]
    now = datetime.now(UTC)
    zone = court_zone(world.client.app.state.services.settings.timezone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)

    def hearing(at: datetime) -> int:
        r = world.client.post(f"/api/cases/{world.ids['case']}/hearings", headers=clerk,
                              json={"courtroom_id": room, "scheduled_start": at.isoformat()})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    yesterday = hearing(midnight - timedelta(minutes=1))  # never held: not today's
    this_morning = hearing(midnight)  # running late, still to be held today
    in_an_hour = hearing(now + timedelta(hours=1))
    day_after = hearing(now + timedelta(hours=25))
    ahead = [hearing(now + timedelta(days=6 + day)) for day in range(15)]

    def page(**params):
        r = world.client.get("/api/hearings", params={"courtroom_id": room, **params}, headers=clerk)
        assert r.status_code == 200, r.text
        return [h["id"] for h in r.json()]

    assert page(limit=5) == [this_morning, in_an_hour, *ahead[-3:]]  # the page oldest first
    assert page(limit=1) == [this_morning]
    assert page(limit=2, status="scheduled") == [this_morning, in_an_hour]
    pages = [page(limit=4, offset=offset) for offset in range(0, 20, 4)]
    listed = [hid for p in pages for hid in p]
    assert sorted(listed) == sorted([yesterday, this_morning, in_an_hour, day_after, *ahead])
    assert pages[-1] == [yesterday, day_after, ahead[0]]  # the oldest of the rest come last
