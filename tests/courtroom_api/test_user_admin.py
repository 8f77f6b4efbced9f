"""The user administration keeps the court administrable and its terminals bound."""

import pytest


def _admins(world) -> list[dict]:
    users = world.client.get("/api/users", headers=world.auth("admin")).json()
    return [u for u in users if u["role"] == "admin" and u["is_active"]]


def test_the_last_active_admin_is_not_disabled_or_demoted(world) -> None:
    c, admin = world.client, world.auth("admin")
    (me,) = _admins(world)
    try:
        for change in ({"is_active": False}, {"role": "clerk"}):
            r = c.patch(f"/api/users/{me['id']}", json=change, headers=admin)
            assert r.status_code == 409 and "last active administrator" in r.json()["detail"], r.text
        assert [u["id"] for u in _admins(world)] == [me["id"]]
        second = c.post("/api/users", headers=admin, json={"login": "admin2", "password": "correct horse 2",
                                                          "role": "admin"}).json()
        assert c.patch(f"/api/users/{second['id']}", json={"is_active": False}, headers=admin).status_code == 200
        assert c.patch(f"/api/users/{second['id']}", json={"is_active": True}, headers=admin).status_code == 200
        r = c.patch(f"/api/users/{second['id']}", json={"role": "clerk"}, headers=admin)  # one admin remains
        assert r.status_code == 200, r.text
    finally:  # the shared court keeps its one admin whatever happened above
        c.patch(f"/api/users/{me['id']}", json={"is_active": True, "role": "admin"}, headers=admin)


@pytest.mark.parametrize("field", ["password", "role", "is_active", "display_name"])
def test_a_null_for_a_required_field_is_a_422(world, field) -> None:
    """{"password": null} was a 500, {"role": null} a 409 calling it a duplicate."""
    clerk = world.ids["user_clerk"]
    r = world.client.patch(f"/api/users/{clerk}", json={field: None}, headers=world.auth("admin"))
    assert r.status_code == 422 and field in r.json()["detail"], r.text
    r = world.client.patch(f"/api/hearings/{world.ids['hearing']}", json={"title": None}, headers=world.auth("clerk"))
    assert r.status_code == 422 and "required field" in r.json()["detail"], r.text


def test_a_terminal_is_bound_to_a_courtroom(world) -> None:
    """A terminal's token reaches its courtroom's hearings only; without a courtroom (the CLI refuses that
    already) the API created a terminal that reached nothing."""
    c, admin = world.client, world.auth("admin")
    r = c.post("/api/users", headers=admin, json={"login": "loose-terminal", "password": "correct horse 3",
                                                  "role": "terminal"})
    assert r.status_code == 422 and "courtroom_id" in r.json()["detail"], r.text
    terminal = next(u for u in c.get("/api/users", headers=admin).json() if u["role"] == "terminal")
    r = c.patch(f"/api/users/{terminal['id']}", json={"courtroom_id": None}, headers=admin)
    assert r.status_code == 422, r.text
    clerk = world.ids["user_clerk"]
    r = c.patch(f"/api/users/{clerk}", json={"role": "terminal"}, headers=admin)
    assert r.status_code == 422, r.text


def test_a_terminal_left_without_a_courtroom_can_still_be_disabled(world) -> None:
    """A terminal made before the rule (or whose courtroom went): checking the rule on every edit refused
    to disable it or change its password (422), the very things an admin does with a stray device."""
    from models import User
    from models.db import make_engine, session_factory

    c, admin = world.client, world.auth("admin")
    made = c.post("/api/users", headers=admin, json={"login": "stray-terminal", "password": "correct horse 4",
                                                     "role": "terminal", "courtroom_id": world.ids["room"]}).json()
    engine = make_engine(world.client.app.state.services.engine.url.render_as_string(hide_password=False))
    with session_factory(engine)() as s:
        s.get_one(User, made["id"]).courtroom_id = None
        s.commit()
    engine.dispose()
    for change in ({"is_active": False}, {"password": "another horse 5"}):
        r = c.patch(f"/api/users/{made['id']}", json=change, headers=admin)
        assert r.status_code == 200, r.text



def test_a_login_signs_in_whatever_its_case_and_has_no_case_twin(world) -> None:
    """`Judge-Case` typed at the login page was "wrong login or password" for `judge-case`, and an
    administrator could add `JUDGE-CASE` beside it: two logins a court reads as one name."""
    c, admin = world.client, world.auth("admin")
    made = c.post("/api/users", headers=admin, json={"login": "judge-case", "password": "correct horse 6",
                                                     "role": "judge"})
    assert made.status_code == 201, made.text
    for typed in ("judge-case", "Judge-Case", "JUDGE-CASE"):
        r = c.post("/api/auth/token", data={"username": typed, "password": "correct horse 6"})
        assert r.status_code == 200, (typed, r.text)
        me = c.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
        assert me["id"] == made.json()["id"] and me["login"] == "judge-case"
    r = c.post("/api/auth/token", data={"username": "Judge-Case", "password": "wrong horse 6"})
    assert r.status_code == 401, r.text
    r = c.post("/api/users", headers=admin, json={"login": "JUDGE-case", "password": "correct horse 7",
                                                  "role": "clerk"})
    assert r.status_code == 409 and "'judge-case'" in r.json()["detail"], r.text
    assert [u["login"] for u in c.get("/api/users", headers=admin).json()].count("judge-case") == 1


def test_two_logins_from_before_that_differ_in_case_each_sign_in_as_typed(world) -> None:
    """A database from before the rule may hold `Clerk-Twin` and `clerk-twin`: each signs in with its own
    spelling, and a third spelling that matches both is refused, never given one of them."""
    from models import User
    from models.db import make_engine, session_factory
    from models.passwords import hash_password

    engine = make_engine(world.client.app.state.services.engine.url.render_as_string(hide_password=False))
    with session_factory(engine)() as s:
        s.add_all([User(login="Clerk-Twin", password_hash=hash_password("twin horse 1"), role="clerk"),
                   User(login="clerk-twin", password_hash=hash_password("twin horse 2"), role="clerk")])
        s.commit()
    engine.dispose()
    c = world.client
    for typed, password in (("Clerk-Twin", "twin horse 1"), ("clerk-twin", "twin horse 2")):
        r = c.post("/api/auth/token", data={"username": typed, "password": password})
        assert r.status_code == 200, (typed, r.text)
        me = c.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
        assert me["login"] == typed
    for password in ("twin horse 1", "twin horse 2"):
        assert c.post("/api/auth/token", data={"username": "CLERK-TWIN", "password": password}).status_code == 401


def test_a_change_of_role_or_access_is_audited_with_what_it_was_and_became(world) -> None:
    """A party made judge reaches every case and its sealed items: the audit said only which fields were
    sent (`fields: ["role"]`), not that the new role was judge. A password is written only as changed."""
    c, admin = world.client, world.auth("admin")
    made = c.post("/api/users", headers=admin, json={"login": "promoted-party", "password": "party horse 8",
                                                     "role": "party", "display_name": "Wang"}).json()
    for change in ({"role": "judge"}, {"is_active": False, "display_name": "Wang Wu"},
                   {"password": "secret horse 9", "side": "defendant", "courtroom_id": world.ids["room"]}):
        r = c.patch(f"/api/users/{made['id']}", json=change, headers=admin)
        assert r.status_code == 200, r.text
    events = c.get(f"/api/audit?object=user:{made['id']}&action=user.update", headers=admin).json()
    assert [e["details"]["changed"] for e in reversed(events)] == [
        {"role": {"from": "party", "to": "judge"}},
        {"is_active": {"from": True, "to": False}, "display_name": {"from": "Wang", "to": "Wang Wu"}},
        {"password": {"changed": True}, "side": {"from": None, "to": "defendant"},
         "courtroom_id": {"from": None, "to": world.ids["room"]}},
    ]
    assert not any("secret horse" in str(e["details"]) for e in events)


@pytest.mark.postgres
def test_two_admins_disabling_each_other_at_once_leave_one(pg_server_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL both PATCHes counted the other active admin before either committed: both 200, and
    the court had no active administrator. The count now waits for the audit chain's lock."""
    import threading
    import time
    import uuid

    from api_world import PASSWORD, build_world
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"courtroom_admins_{uuid.uuid4().hex[:10]}"
    server = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    world = build_world(tmp_path / "data", url)
    engine = create_engine(url)
    try:
        c = world.client
        r = c.post("/api/users", json={"login": "admin2", "password": PASSWORD, "role": "admin"},
                   headers=world.auth("admin"))
        assert r.status_code == 201, r.text
        other = r.json()["id"]
        token = c.post("/api/auth/token", data={"username": "admin2", "password": PASSWORD}).json()["access_token"]
        out: dict[str, int] = {}

        def disable(who: str, headers: dict[str, str], user_id: int) -> None:
            out[who] = c.patch(f"/api/users/{user_id}", json={"is_active": False}, headers=headers).status_code

        # Hold the chain's lock (as any audited write does a moment) so that both requests are in at once.
        with engine.connect() as holder:
            tx = holder.begin()
            holder.execute(text("UPDATE audit_head SET hash = hash"))
            both = [threading.Thread(target=disable, args=("admin", world.auth("admin"), other)),
                    threading.Thread(target=disable, args=("admin2", {"Authorization": f"Bearer {token}"},
                                                            world.ids["user_admin"]))]
            for t in both:
                t.start()
            time.sleep(1.5)
            tx.rollback()
        for t in both:
            t.join(30)
        assert sorted(out.values()) == [200, 409], out
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users WHERE role = 'admin' AND is_active")).scalar() == 1
    finally:
        world.client.__exit__(None, None, None)
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_a_terminal_s_creation_is_audited_with_its_binding(world) -> None:
    """The user.create event named only the login and role: where a terminal was bound (which room's
    hearings it sees) was nowhere in the trail unless it was edited later."""
    rooms = world.client.get("/api/courtrooms", headers=world.auth("admin")).json()
    room = (rooms["items"] if isinstance(rooms, dict) else rooms)[0]["id"]
    r = world.client.post("/api/users", json={"login": f"t-audit-{world.ids['court']}", "password": "x" * 12,
                                              "role": "terminal", "courtroom_id": room, "side": "defendant",
                                              "display_name": "被告席"}, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    events = world.client.get("/api/audit", params={"object": f"user:{r.json()['id']}"},
                              headers=world.auth("admin")).json()
    created = next(e for e in events if e["action"] == "user.create")
    assert {k: created["details"].get(k) for k in ("courtroom_id", "side", "display_name")} == \
        {"courtroom_id": room, "side": "defendant", "display_name": "被告席"}, created


@pytest.mark.parametrize("blank", [" ", "\u3000", " \u3000 "])
def test_a_name_of_blanks_is_refused(world, blank: str) -> None:
    """A courtroom created or renamed " \u3000 " was taken (201, 200): pickers, terminal bindings and the
    court record's head then showed no name. Courts and participants share the rule."""
    c, admin = world.client, world.auth("admin")
    r = c.post("/api/courtrooms", json={"court_id": world.ids["court"], "name": blank, "profile_name": "demo"},
               headers=admin)
    assert r.status_code == 422, r.text
    room = c.get("/api/courtrooms", headers=admin).json()
    room_id = (room["items"] if isinstance(room, dict) else room)[0]["id"]
    assert c.patch(f"/api/courtrooms/{room_id}", json={"name": blank}, headers=admin).status_code == 422
    r = c.post(f"/api/cases/{world.ids['case']}/participants", json={"name": blank, "role": "witness"},
               headers=world.auth("clerk"))
    assert r.status_code == 422, r.text
