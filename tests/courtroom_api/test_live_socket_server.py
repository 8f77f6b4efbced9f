"""The hearing socket of a real ``courtroom serve`` process, with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from api_world import PASSWORD, _seed
from live_server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> LiveServer:
    from models.db import make_engine, session_factory, upgrade

    data = tmp_path_factory.mktemp("socket")
    url = f"sqlite:///{data / 'courtroom.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    ids = _seed(session_factory(engine))
    engine.dispose()
    srv = LiveServer(data, url)
    srv.start()
    srv.ids = ids  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _token(server: LiveServer, login: str) -> str:
    r = httpx.post(f"{server.base}/api/auth/token", data={"username": login, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def _url(server: LiveServer, hid: int, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/hearings/{hid}?token={token}"


async def test_a_binary_frame_from_a_viewer_is_ignored(server: LiveServer) -> None:
    """Client frames are read and ignored, binary ones too: the stream goes on (a binary frame dropped the
    socket without a close frame, 1006, and left a KeyError in the server log)."""
    async with websockets.connect(_url(server, server.ids["hearing"], _token(server, "clerk"))) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(b"\x01\x02")
        await ws.send("a text frame")
        await asyncio.sleep(0.5)
        pong = await ws.ping()
        await asyncio.wait_for(pong, 5)  # still connected: the server answers
        assert ws.close_code is None
    assert "KeyError" not in (server.data_dir / "server.log").read_text()


async def test_a_hearing_that_ended_before_the_server_started_closes_its_socket(server: LiveServer) -> None:
    """Its stream is over: hello, then ``closed`` and close code 1000, as a viewer of a hearing that ends
    while it watches gets (the socket stayed open with nothing ever sent, the terminal waiting forever)."""
    import sqlite3

    hid = server.ids["other_hearing"]
    db = sqlite3.connect(server.data_dir / "courtroom.sqlite3")
    db.execute("update hearings set status='ended', started_at='2024-01-01 09:00:00', "
               "ended_at='2024-01-01 10:00:00' where id=?", (hid,))
    db.commit()
    db.close()
    async with websockets.connect(_url(server, hid, _token(server, "clerk")) + "&after=0") as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["data"]["status"] == "ended"
        seen = [json.loads(m) async for m in _until_closed(ws)]
    assert seen[-1]["type"] == "closed", seen
    assert ws.close_code == 1000
    # The dossier is the record now: a viewer behind it is told to reload it over REST.
    assert [e["type"] for e in seen] == ["reset", "closed"]


async def _until_closed(ws):  # type: ignore[no-untyped-def]
    while True:
        try:
            yield await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosedOK:
            return


async def test_no_credential_from_a_url_reaches_the_server_log(server: LiveServer) -> None:
    """The socket takes the viewer's 12-hour bearer token as ``?token=`` and media links carry ``?mt=``:
    the access log records each request's URL, and wrote them in clear (whoever read the log could call
    the API as the judge). They are blanked there; the lines stay."""
    token = _token(server, "judge")
    async with websockets.connect(_url(server, server.ids["hearing"], token) + "&after=0") as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
    headers = {"Authorization": f"Bearer {token}"}
    link = httpx.post(f"{server.base}/api/auth/media-links", json={"path": "/api/evidence/1/content"},
                      headers=headers).json()["url"]
    httpx.get(server.base + link)
    mt = link.split("mt=")[1]
    log = (server.data_dir / "server.log").read_text()
    assert token not in log and mt not in log
    assert f'"WebSocket /ws/hearings/{server.ids["hearing"]}?token=[redacted]&after=0"' in log
    assert "/api/evidence/1/content?mt=[redacted] HTTP/1.1" in log
