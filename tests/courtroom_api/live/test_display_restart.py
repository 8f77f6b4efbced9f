"""What the bench shows on the party screens across a server restart: the real app in-process, restarted on
the same database (a real SQLite file, and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_world import World, build_world
from evidence_files import pdf_bytes
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from courtroom_api.app import create_app


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database of its own (the world's is seeded once per database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'courtroom.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server_url")
    name = f"courtroom_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def _restart(client: TestClient) -> TestClient:
    settings = client.app.state.services.settings
    client.__exit__(None, None, None)
    fresh = TestClient(create_app(settings))
    fresh.__enter__()
    return fresh


def _exhibit(c: TestClient, world: World, case: str, title: str) -> int:
    r = c.post(f"/api/cases/{world.ids[case]}/evidence", params={"title": title, "filename": f"{title}.pdf"},
               content=pdf_bytes(3), headers={**world.auth("judge"), "Content-Type": "application/pdf"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _display(c: TestClient, world: World, who: str, hid: int) -> dict[str, Any]:
    r = c.get(f"/api/hearings/{hid}/display", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _show(c: TestClient, world: World, hid: int, body: dict[str, Any]) -> None:
    r = c.put(f"/api/hearings/{hid}/display", json=body, headers=world.auth("judge"))
    assert r.status_code == 200, r.text


def test_the_display_outlives_a_restart_but_not_a_seal_or_the_hearing_end(tmp_path, database_url) -> None:
    """The display was this process's memory only: after a restart every screen went blank mid-hearing and
    the bench's banner went. It is read back from the audit trail, except an exhibit sealed since (sealed
    while the restarted server had no display to take it off) and the display of a hearing that ended."""
    world = build_world(tmp_path / "data", database_url)
    c = world.client
    hid, ended = world.ids["hearing"], world.ids["other_hearing"]
    try:
        contract = _exhibit(c, world, "case", "合同")
        other = _exhibit(c, world, "other_case", "收据")
        shown = {"evidence_id": contract, "page": 2, "zoom": [0.1, 0.2, 0.5, 0.4]}
        _show(c, world, hid, shown)
        _show(c, world, ended, {"evidence_id": other, "page": 1, "zoom": None})
        from models import Hearing
        from models.enums import HearingStatus

        with c.app.state.services.write_sessions() as session:
            session.get(Hearing, ended).status = HearingStatus.ENDED
            session.commit()

        c = _restart(c)
        for who in ("judge", "party", "terminal"):
            assert _display(c, world, who, hid) == shown, who
        assert _display(c, world, "judge", ended)["evidence_id"] is None

        # Sealed (and unsealed again) after a restart, before anyone asked for the display: never back up.
        photo = _exhibit(c, world, "case", "照片")
        _show(c, world, hid, {"evidence_id": photo, "page": None, "zoom": None})
        c = _restart(c)
        for sealed in (True, False):
            r = c.patch(f"/api/evidence/{photo}", json={"sealed": sealed}, headers=world.auth("judge"))
            assert r.status_code == 200, r.text
        for who in ("judge", "party"):
            assert _display(c, world, who, hid)["evidence_id"] is None, who

        # A new display after a restart is the one read back after the next.
        _show(c, world, hid, shown)
        c = _restart(c)
        assert _display(c, world, "party", hid) == shown
    finally:
        c.__exit__(None, None, None)


def test_a_screen_that_connects_after_a_restart_is_sent_the_display(tmp_path, database_url) -> None:
    """The pages' sockets were sent the display only if it changed in this process: a party screen that
    (re)connected after a restart stayed blank until the bench showed something else."""
    world = build_world(tmp_path / "data", database_url)
    c = world.client
    hid = world.ids["hearing"]
    try:
        shown = {"evidence_id": _exhibit(c, world, "case", "合同"), "page": 2, "zoom": None}
        _show(c, world, hid, shown)
        c = _restart(c)
        with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['party']}") as party:
            assert party.receive_json()["type"] == "hello"
            later = {"evidence_id": shown["evidence_id"], "page": 3, "zoom": None}
            _show(c, world, hid, later)  # something to read up to: nothing else may come
            events = [party.receive_json()]
            while events[-1]["data"] != later:
                events.append(party.receive_json())
        assert [e["type"] for e in events] == ["display", "display"]
        assert events[0]["data"] == shown
    finally:
        c.__exit__(None, None, None)


def test_the_display_ends_with_the_hearing(world) -> None:
    """The clerk ended the hearing while the bench showed an exhibit: the party screens left it, but the
    display stayed (the bench's banner and 停止展示, after a reload too), a PUT on the ended hearing was
    taken, and only a restart blanked it. The stop now blanks it (a ``display`` event before the stream
    ends, audited) and a display on an ended hearing is refused."""
    from pathlib import Path

    c, clerk, judge = world.client, world.auth("clerk"), world.auth("judge")
    room = c.post("/api/courtrooms", headers=world.auth("admin"), json={
        "court_id": world.ids["court"], "name": f"闭庭展示-{uuid.uuid4().hex[:6]}", "profile_name": "demo"}).json()
    hid = int(c.post(f"/api/cases/{world.ids['case']}/hearings", json={"courtroom_id": room["id"]},
                     headers=clerk).json()["id"])
    speech = Path(__file__).resolve().parents[2] / "fixtures" / "api" / "demo_hearing_22s.flac"
    contract = _exhibit(c, world, "case", f"合同-{hid}")
    shown = {"evidence_id": contract, "page": 2, "zoom": None}
    with c.websocket_connect(f"/ws/hearings/{hid}?token={world.tokens['party']}") as ws:
        r = c.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(speech)}, headers=clerk)
        assert r.status_code == 200, r.text
        _show(c, world, hid, shown)
        assert c.post(f"/api/hearings/{hid}/stop", headers=clerk).status_code == 200
        events = []
        while not events or events[-1]["type"] != "status" or events[-1]["data"]["status"] != "ended":
            events.append(ws.receive_json())
    displays = [e["data"]["evidence_id"] for e in events if e["type"] == "display"]
    assert displays[-2:] == [contract, None], displays
    for who in ("judge", "party"):
        assert _display(c, world, who, hid)["evidence_id"] is None, who
    r = c.put(f"/api/hearings/{hid}/display", json=shown, headers=judge)
    assert r.status_code == 409 and "ended" in r.json()["detail"], r.text
    assert _display(c, world, "judge", hid)["evidence_id"] is None
    audit = c.get("/api/audit", params={"object": f"hearing:{hid}"}, headers=world.auth("admin")).json()
    assert [a["action"] for a in audit][:2] == ["display.set", "hearing.stop"], audit[:3]
