"""Server-side logout and revoke-tokens: a revoked bearer token, and the media links and live
sockets it opens, are refused at once; the user's other logins, and a fresh one, are not."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from api_world import PASSWORD
from evidence_files import wav_bytes
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

REVOKED = "token revoked; log in again"
REPO = Path(__file__).resolve().parents[2]


def _new_user(world, login: str, role: str = "judge") -> int:
    r = world.client.post("/api/users", json={"login": login, "password": PASSWORD, "role": role},
                          headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _login(world, login: str) -> dict[str, str]:
    r = world.client.post("/api/auth/token", data={"username": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _refused(response) -> bool:
    """A 401 like any other authentication failure, saying why."""
    return (response.status_code == 401 and response.json()["detail"] == REVOKED
            and response.headers["www-authenticate"] == "Bearer")


def _actions(world, user_id: int) -> list[tuple[str, str]]:
    events = world.client.get("/api/audit", params={"object": f"user:{user_id}"}, headers=world.auth("admin"))
    return [(e["action"], e["actor"]) for e in events.json()]


def test_logout_ends_that_token_only(world) -> None:
    c = world.client
    user_id = _new_user(world, "rev-logout")
    bench, other_terminal = _login(world, "rev-logout"), _login(world, "rev-logout")
    assert c.get("/api/auth/me", headers=bench).status_code == 200
    assert c.post("/api/auth/logout").status_code == 401  # nothing to log out
    assert c.post("/api/auth/logout", headers=bench).status_code == 204
    assert _refused(c.get("/api/auth/me", headers=bench))
    assert _refused(c.get("/api/search", params={"q": "合同"}, headers=bench))  # the hot path, too
    assert _refused(c.post("/api/auth/logout", headers=bench))
    assert c.get("/api/auth/me", headers=other_terminal).status_code == 200
    assert c.get("/api/search", params={"q": "合同"}, headers=other_terminal).status_code == 200
    assert ("auth.logout", f"user:{user_id}:rev-logout") in _actions(world, user_id)
    assert c.get("/api/audit/verify", headers=world.auth("admin")).json()["ok"] is True


def test_logout_purges_expired_revocations(world) -> None:
    from models import RevokedToken

    user_id = _new_user(world, "rev-purge")
    sessions = world.client.app.state.services.sessions
    now = datetime.now(UTC)
    with sessions() as s:
        s.add_all([RevokedToken(jti=f"expired-{user_id}", user_id=user_id, expires_at=now - timedelta(minutes=1),
                                revoked_by="test"),
                   RevokedToken(jti=f"live-{user_id}", user_id=user_id, expires_at=now + timedelta(hours=1),
                                revoked_by="test")])
        s.commit()
    headers = _login(world, "rev-purge")
    assert world.client.post("/api/auth/logout", headers=headers).status_code == 204
    with sessions() as s:
        kept = set(s.scalars(select(RevokedToken.jti).where(RevokedToken.user_id == user_id)))
        everywhere = s.scalars(select(RevokedToken.expires_at)).all()
    assert f"expired-{user_id}" not in kept and f"live-{user_id}" in kept and len(kept) == 2
    assert all(expires > now for expires in everywhere)


def test_admin_revoke_tokens_ends_every_earlier_login(world) -> None:
    c = world.client
    user_id = _new_user(world, "rev-all")
    logins = [_login(world, "rev-all") for _ in range(2)]
    r = c.post(f"/api/users/{user_id}/revoke-tokens", headers=world.auth("admin"))
    assert r.status_code == 204, r.text
    for headers in logins:
        assert _refused(c.get("/api/auth/me", headers=headers))
    fresh = _login(world, "rev-all")  # at once: within the same second as the revocation
    assert c.get("/api/auth/me", headers=fresh).json()["login"] == "rev-all"
    assert c.get("/api/auth/me", headers=world.auth("judge")).status_code == 200  # other users untouched
    assert ("user.revoke_tokens", f"user:{world.ids['user_admin']}:admin") in _actions(world, user_id)
    assert c.post("/api/users/999999/revoke-tokens", headers=world.auth("admin")).status_code == 404


@pytest.mark.parametrize("role", ["judge", "clerk", "party", "appeal_judge", "terminal"])
def test_only_an_admin_revokes_tokens(world, role) -> None:
    c = world.client
    target = _login(world, "party")
    r = c.post(f"/api/users/{world.ids['user_party']}/revoke-tokens", headers=world.auth(role))
    assert r.status_code == 403, r.text
    assert c.get("/api/auth/me", headers=target).status_code == 200


@pytest.fixture(scope="module")
def evidence_path(world) -> str:
    r = world.client.post(f"/api/cases/{world.ids['case']}/evidence",
                          params={"title": "revocation.wav", "filename": "revocation.wav"}, content=wav_bytes(0.5),
                          headers={**world.auth("clerk"), "Content-Type": "audio/wav"})
    assert r.status_code == 201, r.text
    return f"/api/evidence/{r.json()['id']}/content"


def _media_link(world, headers: dict[str, str], path: str) -> str:
    r = world.client.post("/api/auth/media-links", json={"path": path}, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["url"])


@pytest.mark.parametrize("how", ["logout", "revoke-tokens"])
def test_media_link_ends_with_the_login_it_was_made_with(world, evidence_path, how) -> None:
    c = world.client
    login = f"rev-media-{how}"
    user_id = _new_user(world, login)
    bearer, later = _login(world, login), None
    link = _media_link(world, bearer, evidence_path)
    assert c.get(link).status_code == 200
    if how == "logout":
        later = _login(world, login)
        assert c.post("/api/auth/logout", headers=bearer).status_code == 204
    else:
        assert c.post(f"/api/users/{user_id}/revoke-tokens", headers=world.auth("admin")).status_code == 204
        later = _login(world, login)
    assert _refused(c.get(link))
    assert c.get(_media_link(world, later, evidence_path)).status_code == 200  # a live login's links still work


def test_live_socket_refuses_a_revoked_token(world) -> None:
    c = world.client
    headers = _login(world, "party")  # a second login of the world's party: its first stays valid
    token = headers["Authorization"].removeprefix("Bearer ")
    url = f"/ws/hearings/{world.ids['hearing']}?token={token}"
    with c.websocket_connect(url) as ws:
        assert ws.receive_json()["type"] == "hello"
    assert c.post("/api/auth/logout", headers=headers).status_code == 204
    with c.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4401 and closed.value.reason == REVOKED
    with c.websocket_connect(f"/ws/hearings/{world.ids['hearing']}?token={world.tokens['party']}") as ws:
        assert ws.receive_json()["type"] == "hello"


def test_an_open_live_socket_ends_when_its_token_is_revoked(world) -> None:
    """A stolen terminal that is already watching: its stream ends at the next access check."""
    c = world.client
    auth = c.app.state.services.settings.auth
    headers = _login(world, "party")
    token = headers["Authorization"].removeprefix("Bearer ")
    before, auth.live_recheck_seconds = auth.live_recheck_seconds, 0.2
    try:
        with c.websocket_connect(f"/ws/hearings/{world.ids['hearing']}?token={token}") as ws, \
                c.websocket_connect(f"/ws/hearings/{world.ids['hearing']}?token={world.tokens['party']}") as other:
            assert ws.receive_json()["type"] == "hello" and other.receive_json()["type"] == "hello"
            assert c.post("/api/auth/logout", headers=headers).status_code == 204
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    ws.receive_json()  # (events of the hearing may come first)
            assert closed.value.code == 4401 and closed.value.reason == REVOKED
            stream = c.app.state.services.hub.get(world.ids["hearing"])
            time.sleep(0.5)  # the other login's stream has been re-checked too, and stays open
            assert stream.subscriber_count == 1
    finally:
        auth.live_recheck_seconds = before


def test_token_without_jti_is_refused(world) -> None:
    """Tokens from before revocation existed cannot be revoked one by one: they must log in again."""
    secret = world.client.app.state.services.secret
    old = jwt.encode({"sub": str(world.ids["user_judge"]), "role": "judge", "iat": int(time.time()),
                      "exp": int(time.time()) + 600}, secret, algorithm="HS256")
    r = world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "jti" in r.json()["detail"]


def test_cli_revoke_tokens(tmp_path) -> None:
    from models import AuditEvent, User
    from models.db import make_engine, session_factory

    url = f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
    env = {**os.environ, "COURTROOM_DATABASE__URL": url, "COURTROOM_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    assert cli("db", "upgrade").returncode == 0
    assert cli("users", "add", "bench1", "--role", "judge", "--password", PASSWORD).returncode == 0
    before = datetime.now(UTC)
    out = cli("users", "revoke-tokens", "bench1")
    assert out.returncode == 0 and "bench1" in out.stdout, out.stderr
    missing = cli("users", "revoke-tokens", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stderr
    engine = make_engine(url)
    with session_factory(engine)() as s:
        user = s.scalars(select(User).where(User.login == "bench1")).one()
        assert user.tokens_valid_after is not None and user.tokens_valid_after >= before
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.revoke_tokens")).one()
        assert event.actor == "cli" and event.object == f"user:{user.id}"
    engine.dispose()
