"""Password guessing: a login is locked after five wrong passwords within the window (429, Retry-After),
even for the right password, and is audited; others log in meanwhile; the window frees it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from courtroom_api.auth.throttle import LoginThrottle


def _login(c, login: str, password: str):
    return c.post("/api/auth/token", data={"username": login, "password": password})


def test_five_wrong_passwords_lock_the_login_for_a_while(world) -> None:
    c, admin = world.client, world.auth("admin")
    assert c.post("/api/users", json={"login": "guessed", "password": "right-password", "role": "party"},
                  headers=admin).status_code == 201
    assert _login(c, "guessed", "wrong-1").status_code == 401
    assert _login(c, "guessed", "right-password").status_code == 200  # a success clears the count
    for n in range(5):
        assert _login(c, "guessed", f"wrong-{n}").status_code == 401
    locked = _login(c, "guessed", "right-password")
    assert locked.status_code == 429 and "too many failed logins" in locked.json()["detail"]
    assert 800 <= int(locked.headers["retry-after"]) <= 900
    assert _login(c, "GUESSED", "right-password").status_code == 429  # (the same name in any case)
    assert _login(c, "judge", "correct horse battery").status_code == 200  # another login is not locked
    events = c.get("/api/audit", params={"limit": 50}, headers=admin).json()
    assert any(e["action"] == "auth.locked" and e["details"]["login"] == "guessed" for e in events)


def test_an_unknown_login_is_counted_too_and_the_window_frees_a_login() -> None:
    throttle = LoginThrottle(per_login=3, per_address=5, window_s=60)
    for t in (0, 10, 20):
        assert throttle.retry_after("nobody", "10.0.0.9", now=t) == 0
        throttle.failed("nobody", "10.0.0.9", now=t)
    assert throttle.retry_after("nobody", "10.0.0.9", now=30) == 30  # the first failure leaves at 60
    assert throttle.retry_after("nobody", "10.0.0.9", now=60) == 0
    for t in (61, 62, 63):  # one address trying many names is stopped at its own limit (5 within 60 s)
        throttle.failed(f"name-{t}", "10.0.0.9", now=t)
    assert throttle.retry_after("fresh-name", "10.0.0.9", now=64) > 0
    assert throttle.retry_after("fresh-name", "10.0.0.8", now=64) == 0


def _at(world, address: str) -> TestClient:
    """The court's app as seen from another client address (each address has its own count)."""
    return TestClient(world.client.app, client=(address, 50000))


def _lock(c, login: str) -> None:
    for n in range(5):
        assert _login(c, login, f"wrong-{n}").status_code == 401
    locked = _login(c, login, "right-password")
    assert locked.status_code == 429 and "ask an administrator" in locked.json()["detail"], locked.text


def test_an_administrator_lifts_a_login_lock(world) -> None:
    """Someone at a party terminal typing the judge's login wrong five times locked the judge out for 15
    minutes: a new password, revoked tokens, disabling and re-enabling all left the 429 "... or ask an
    administrator" in place; only a restart cleared it."""
    c, admin = _at(world, "10.1.0.1"), world.auth("admin")
    created = c.post("/api/users", json={"login": "bench-judge", "password": "right-password", "role": "judge"},
                     headers=admin)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    _lock(c, "bench-judge")
    assert c.post(f"/api/users/{uid}/unlock", headers=world.auth("judge")).status_code == 403
    assert c.post(f"/api/users/{uid}/unlock", headers=admin).status_code == 204
    assert _login(c, "bench-judge", "right-password").status_code == 200
    c = _at(world, "10.1.0.2")  # (a fresh address: the tries above count toward 10.1.0.1's limit)
    _lock(c, "bench-judge")
    assert c.patch(f"/api/users/{uid}", json={"password": "a new password"}, headers=admin).status_code == 200
    assert _login(c, "bench-judge", "a new password").status_code == 200
    c = _at(world, "10.1.0.3")
    for n in range(5):
        assert _login(c, "bench-judge", f"wrong-{n}").status_code == 401
    assert c.patch(f"/api/users/{uid}", json={"is_active": False}, headers=admin).status_code == 200
    assert c.patch(f"/api/users/{uid}", json={"is_active": True}, headers=admin).status_code == 200
    assert _login(c, "bench-judge", "a new password").status_code == 200
    events = c.get("/api/audit", params={"object": f"user:{uid}", "limit": 50}, headers=admin).json()
    assert any(e["action"] == "user.unlock" and e["details"]["was_locked"] for e in events)
    assert any(e["action"] == "user.update" and e["details"].get("unlocked") for e in events)


def test_a_login_is_counted_in_any_case_as_it_is_matched(world) -> None:
    """`Zhang` signs in as `zhang` (models.logins), so failures typed `ZHANG` are zhang's: counted apart,
    five of them left the login unlocked for a guesser who changed the case of each try."""
    c, admin = _at(world, "10.2.0.1"), world.auth("admin")
    r = c.post("/api/users", json={"login": "zhang", "password": "right-password", "role": "party"}, headers=admin)
    assert r.status_code == 201, r.text
    for n, typed in enumerate(("ZHANG", "Zhang", "zHang", "zhAng", "zhaNG")):
        assert _login(c, typed, f"wrong-{n}").status_code == 401
    assert _login(c, "zhang", "right-password").status_code == 429


def test_an_address_lock_is_audited_and_says_it_is_the_address(world) -> None:
    """One wrong try each for 30 names from one address locked the judge's right password from there
    with no audit event at all."""
    c, admin = _at(world, "10.3.0.1"), world.auth("admin")
    for n in range(30):
        assert _login(c, f"sprayed-{n}", "guess").status_code == 401
    locked = _login(c, "judge", "correct horse battery")
    assert locked.status_code == 429 and "from this address" in locked.json()["detail"], locked.text
    assert _login(_at(world, "10.3.0.2"), "judge", "correct horse battery").status_code == 200
    events = c.get("/api/audit", params={"object": "address:10.3.0.1", "limit": 50}, headers=admin).json()
    assert [e["action"] for e in events] == ["auth.locked"] and events[0]["details"]["address"] == "10.3.0.1"
