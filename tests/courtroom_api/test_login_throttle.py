"""Password guessing: a login is locked after five wrong passwords within the window (429, Retry-After),
even for the right password, and is audited; others log in meanwhile; the window frees it."""

from __future__ import annotations

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
    assert _login(c, "GUESSED", "right-password").status_code == 429  # (the name's case does not matter)
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
