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
