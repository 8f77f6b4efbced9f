"""``courtroom demo seed`` is idempotent and gives a new user a hearing that replays the sample."""

from __future__ import annotations

import json
import re

import httpx
from live_server import LiveServer
from websockets.sync.client import connect


def test_demo_seed_twice_then_start_the_demo_hearing(tmp_path, whisper_base) -> None:
    # A 1 s lag alarm: the replay at 8x real time outruns the transcriber within seconds.
    srv = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}",
                     extra_env={"COURTROOM_TRANSCRIBE__MODEL": whisper_base, "COURTROOM_TRANSCRIBE__LAG_ALARM_S": "1"})
    assert srv.cli("db", "upgrade").returncode == 0
    first, second = srv.cli("demo", "seed"), srv.cli("demo", "seed")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.startswith("created") and second.stdout.startswith("already present")
    password = re.search(r"^  clerk\s+(\S+)", first.stdout, re.M).group(1)
    assert password in second.stdout
    hearing = int(re.search(r"scheduled hearing (\d+)", first.stdout).group(1))
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o777 == 0o600
    srv.start()
    try:
        clerk = srv.token("clerk", password)
        c = httpx.Client(base_url=srv.base, headers=clerk, timeout=120)
        assert len(c.get("/api/cases").json()) == 1
        plaintiff = json.loads((tmp_path / "demo-credentials.json").read_text())["plaintiff"]
        assert srv.token("plaintiff", plaintiff)
        token = clerk["Authorization"].split()[1]
        with connect(f"ws://127.0.0.1:{srv.port}/ws/hearings/{hearing}?token={token}") as ws:
            r = c.post(f"/api/hearings/{hearing}/start", json={"speed": 8})
            assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
            meters, lag = 0, None
            while meters < 20 or lag is None:  # 2 s of the sample's audio metered: capture is running
                frame = json.loads(ws.recv(timeout=60))
                meters += frame["type"] == "meter"
                if frame["type"] == "alarm" and frame["data"]["kind"] == "transcription_lag":
                    lag = frame["data"]  # the clerk is told that the live transcript fell behind
            assert lag["active"] and lag["value"] > 1 and "behind" in lag["message"]
        assert c.post(f"/api/hearings/{hearing}/stop").json()["status"] == "ended"
        recs = c.get(f"/api/hearings/{hearing}/recordings").json()
        assert recs and recs[0]["duration_s"] > 2 and recs[0]["channel_count"] == 4
        assert srv.cli("demo", "seed").stdout.startswith("already present")  # a fresh scheduled hearing again
    finally:
        srv.stop()


def test_the_seed_prints_no_password_that_would_not_work(tmp_path) -> None:
    """The credentials file deleted, or a login made before with `courtroom users add`: the seed made up
    new passwords and printed them, though the logins kept their old ones."""
    srv = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}")
    assert srv.cli("db", "upgrade").returncode == 0
    made = srv.cli("users", "add", "admin", "--role", "admin", "--password", "an admin's own pw")
    assert made.returncode == 0, made.stderr
    first = srv.cli("demo", "seed")
    assert first.returncode == 0, first.stderr
    assert re.search(r"^  admin\s+\(set before\)", first.stdout, re.M), first.stdout
    assert re.search(r"^  clerk\s+(\S+)", first.stdout, re.M).group(1) != "(set"
    (tmp_path / "demo-credentials.json").unlink()
    again = srv.cli("demo", "seed")
    assert again.returncode == 0, again.stderr
    for login in ("clerk", "judge", "admin"):
        assert re.search(rf"^  {login}\s+\(set before\)", again.stdout, re.M), again.stdout


def test_the_seed_names_a_hearing_in_the_demo_courtroom(tmp_path) -> None:
    """The demo hearing ended and a hearing added to the demo case with no courtroom: the seed said
    "already present: … scheduled hearing 3 in the demo courtroom", and the start it printed for hearing 3
    answered 409 "has no courtroom". It names a scheduled hearing of the demo courtroom, or makes one."""
    from sqlalchemy import select

    from models import Courtroom, Hearing, HearingStatus
    from models.db import make_engine, session_factory

    srv = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'courtroom.sqlite3'}")
    assert srv.cli("db", "upgrade").returncode == 0

    def seeded() -> int:
        out = srv.cli("demo", "seed")
        assert out.returncode == 0, out.stderr
        return int(re.search(r"scheduled hearing (\d+) in the demo courtroom", out.stdout).group(1))

    first = seeded()
    engine = make_engine(srv.db_url)
    sessions = session_factory(engine, write=True)
    try:
        with sessions() as session:  # a hearing added to the demo case without a room
            demo = session.get(Hearing, first)
            roomless = Hearing(case_id=demo.case_id, courtroom_id=None, title="added without a room")
            session.add(roomless)
            session.commit()
        assert seeded() == first  # still scheduled: the demo hearing, not the one added after it
        with sessions() as session:  # the demo hearing held
            session.get(Hearing, first).status = HearingStatus.ENDED
            session.commit()
        again = seeded()
        assert again not in (first, roomless.id)
        with sessions() as session:
            room = session.scalar(select(Courtroom.id).where(Courtroom.profile_name == "demo"))
            made = session.get(Hearing, again)
            assert (made.case_id, made.courtroom_id, made.status) == (demo.case_id, room, HearingStatus.SCHEDULED)
        assert seeded() == again
    finally:
        engine.dispose()
