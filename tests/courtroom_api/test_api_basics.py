from api_world import PASSWORD


def test_login_me_and_wrong_password(world) -> None:
    c = world.client
    r = c.get("/api/auth/me", headers=world.auth("judge"))
    assert r.status_code == 200 and r.json()["role"] == "judge"
    bad = c.post("/api/auth/token", data={"username": "judge", "password": "nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/auth/me").status_code == 401
    assert c.get("/api/auth/me", headers={"Authorization": "Bearer forged.token.x"}).status_code == 401
    assert c.post("/api/auth/token", data={"username": "clerk", "password": PASSWORD}).status_code == 200


def test_case_crud_with_participants_and_audit(world) -> None:
    c, h = world.client, world.auth("clerk")
    r = c.post("/api/cases", json={"case_number": "(2024)吉2424民初999号", "cause_of_action": "借款合同纠纷"},
               headers=h)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert c.post("/api/cases", json={"case_number": "(2024)吉2424民初999号"}, headers=h).status_code == 409
    r = c.patch(f"/api/cases/{case_id}", json={"status": "scheduled"}, headers=h)
    assert r.json()["status"] == "scheduled"
    p = c.post(f"/api/cases/{case_id}/participants", json={"name": "钱七", "role": "plaintiff", "side": "plaintiff"},
               headers=h).json()
    agent = c.post(f"/api/cases/{case_id}/participants",
                   json={"name": "孙律师", "role": "agent", "represented_participant_id": p["id"]}, headers=h)
    assert agent.status_code == 201
    names = [x["name"] for x in c.get(f"/api/cases/{case_id}/participants", headers=h).json()]
    assert names == ["钱七", "孙律师"]
    hearing = c.post(f"/api/cases/{case_id}/hearings", json={"courtroom_id": world.ids["room"]}, headers=h)
    assert hearing.status_code == 201 and hearing.json()["status"] == "scheduled"
    events = c.get("/api/audit", params={"object": f"case:{case_id}"}, headers=world.auth("judge")).json()
    assert {e["action"] for e in events} == {"case.create", "case.update"}
    assert c.get("/api/audit/verify", headers=world.auth("admin")).json()["ok"] is True


def test_a_case_number_taken_as_the_search_compares_numbers_is_refused(world) -> None:
    """A number that differs from a case's only in full-width forms, blanks or letter case was filed as a
    second case (201), and a search of either number then found the lines of both: it is refused (409),
    naming the case and the number it is filed as; the case number cannot be changed afterwards."""
    c, h = world.client, world.auth("clerk")
    case = c.get(f"/api/cases/{world.ids['case']}", headers=h).json()
    filed = case["case_number"]  # "(2024)吉2424民初…号"
    twins = (filed.replace("(", "（").replace(")", "）"), f" {filed} ", filed.replace("(2024)", "（２０２４）"))
    before = len(c.get("/api/cases", headers=h).json())
    for twin in twins:
        r = c.post("/api/cases", json={"case_number": twin, "cause_of_action": "另案"}, headers=h)
        assert r.status_code == 409, (twin, r.text)
        assert r.json()["detail"] == (f"case number {twin!r} is taken: case {case['id']} is filed as {filed!r} (case "
                                      "numbers do not tell full-width from ASCII forms, blanks or letter case)")
    assert c.post("/api/cases", json={"case_number": filed}, headers=h).status_code == 409
    assert len(c.get("/api/cases", headers=h).json()) == before
    other = c.post("/api/cases", json={"case_number": "（2024）吉2424民初777号"}, headers=h)
    assert other.status_code == 201, other.text
    r = c.patch(f"/api/cases/{other.json()['id']}", json={"case_number": twins[0], "title": "改名"}, headers=h)
    assert r.status_code == 200 and r.json()["case_number"] == "（2024）吉2424民初777号"
    r = c.post("/api/cases", json={"case_number": "(2024)吉2424民初777号"}, headers=h)
    assert r.status_code == 409 and "is filed as '（2024）吉2424民初777号'" in r.json()["detail"]


def test_party_sees_only_own_case(world) -> None:
    c = world.client
    cases = c.get("/api/cases", headers=world.auth("party")).json()
    assert [x["id"] for x in cases] == [world.ids["case"]]
    assert c.get(f"/api/cases/{world.ids['other_case']}", headers=world.auth("party")).status_code == 404
    assert c.get(f"/api/hearings/{world.ids['other_hearing']}/segments",
                 headers=world.auth("party")).status_code == 404


def test_the_audit_log_pages_back_to_its_first_event(world) -> None:
    """Past the newest 1000 events nothing could be read (offset was silently ignored): ``before_id``
    pages back through every event, newest first, and ``action`` picks one kind (a hearing's sign-offs)."""
    c, admin = world.client, world.auth("admin")
    every = []
    page = c.get("/api/audit", params={"limit": 7}, headers=admin).json()
    while page and len(every) < 5000:  # (the old API gave the same page for ever)
        every += page
        page = c.get("/api/audit", params={"limit": 7, "before_id": page[-1]["id"]}, headers=admin).json()
    ids = [e["id"] for e in every]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert len(ids) > 7 and min(ids) == 1  # the chain's first event is reachable
    kind = every[-1]["action"]
    picked = c.get("/api/audit", params={"action": kind, "limit": 1000}, headers=admin).json()
    assert [e["id"] for e in picked] == [e["id"] for e in every if e["action"] == kind][:1000]
