"""A small courthouse in a real database behind the real app: users of every role, two cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from courtroom_api.app import create_app
from courtroom_api.config import get_settings

PASSWORD = "correct horse battery"
ROLES = ("judge", "clerk", "party", "other_party", "appeal_judge", "admin", "terminal", "other_terminal")


@dataclass
class World:
    client: TestClient
    data_dir: Path
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}


def _seed(session_factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from models import Case, Court, Courtroom, Hearing, Participant, SeatAssignment, TranscriptSegment, User
    from models.passwords import hash_password

    ids: dict[str, int] = {}
    pw = hash_password(PASSWORD)
    with session_factory() as s:
        court = Court(code="吉2424", name="吉林省某某县人民法院")
        s.add(court)
        s.flush()
        rooms = [Courtroom(court_id=court.id, name=f"第{i}法庭", profile_name="demo") for i in (1, 2)]
        s.add_all(rooms)
        s.flush()
        users = {
            "judge": User(login="judge", password_hash=pw, role="judge", display_name="王法官"),
            "clerk": User(login="clerk", password_hash=pw, role="clerk", display_name="李书记员"),
            "party": User(login="party", password_hash=pw, role="party", display_name="张三"),
            "other_party": User(login="other_party", password_hash=pw, role="party"),
            "appeal_judge": User(login="appeal", password_hash=pw, role="appeal_judge"),
            "admin": User(login="admin", password_hash=pw, role="admin"),
            "terminal": User(login="terminal", password_hash=pw, role="terminal", courtroom_id=rooms[0].id,
                             side="plaintiff"),
            "other_terminal": User(login="terminal2", password_hash=pw, role="terminal", courtroom_id=rooms[1].id,
                                   side="defendant"),
            # no token of its own: a target for admin actions that would end a login (revoke-tokens)
            "spare": User(login="spare", password_hash=pw, role="party"),
        }
        s.add_all(users.values())
        s.flush()
        cases = [Case(court_id=court.id, case_number=f"(2024)吉2424民初{n}号", cause_of_action="买卖合同纠纷")
                 for n in (123, 456)]
        s.add_all(cases)
        s.flush()
        parts = [
            Participant(case_id=cases[0].id, name="张三", role="plaintiff", side="plaintiff", seat="plaintiff",
                        user_id=users["party"].id),
            Participant(case_id=cases[1].id, name="赵六", role="defendant", side="defendant", seat="defendant",
                        user_id=users["other_party"].id),
        ]
        s.add_all(parts)
        hearings = [Hearing(case_id=cases[i].id, courtroom_id=rooms[i].id, title="第一次开庭") for i in (0, 1)]
        s.add_all(hearings)
        s.flush()
        seat = SeatAssignment(hearing_id=hearings[0].id, seat="witness", participant_id=parts[0].id, from_s=1.0)
        s.add(seat)
        s.flush()
        segs = [
            TranscriptSegment(hearing_id=hearings[0].id, seq=1, start_s=0.5, end_s=2.0, text="现在开庭。",
                              role="presiding_judge", seat="judge", channel=0),
            TranscriptSegment(hearing_id=hearings[0].id, seq=2, start_s=2.5, end_s=5.0,
                              text="The contract was signed in March.", role="plaintiff", seat="plaintiff",
                              channel=2),
            TranscriptSegment(hearing_id=hearings[0].id, seq=3, start_s=5.5, end_s=7.0, text="证人住址是长春市机密路。",
                              role="witness", seat="witness", channel=3, sealed=True),
            TranscriptSegment(hearing_id=hearings[1].id, seq=1, start_s=1.0, end_s=3.0, text="被告对合同没有异议。",
                              role="defendant", seat="defendant", channel=3),
        ]
        s.add_all(segs)
        s.commit()
        ids.update({f"user_{k}": v.id for k, v in users.items()})
        ids.update(court=court.id, room=rooms[0].id, other_room=rooms[1].id, case=cases[0].id,
                   other_case=cases[1].id, hearing=hearings[0].id, other_hearing=hearings[1].id,
                   segment=segs[0].id, english_segment=segs[1].id, sealed_segment=segs[2].id,
                   other_segment=segs[3].id, participant=parts[0].id, seat_assignment=seat.id)
    return ids


def build_world(data_dir: Path, database_url: str, **settings_overrides: object) -> World:
    """The courthouse behind an app with these settings (``settings_overrides``, e.g. ``capture={…}``)."""
    from models.db import make_engine, session_factory, upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    ids = _seed(session_factory(engine))
    engine.dispose()
    settings = get_settings(**{"data_dir": data_dir, "database": {"url": database_url},
                               "storage": {"max_upload_bytes": 2_000_000}, **settings_overrides})
    client = TestClient(create_app(settings))
    client.__enter__()
    world = World(client=client, data_dir=data_dir, ids=ids)
    logins = {"appeal_judge": "appeal", "other_terminal": "terminal2"}
    for role in ROLES:
        r = client.post("/api/auth/token", data={"username": logins.get(role, role), "password": PASSWORD})
        assert r.status_code == 200, r.text
        world.tokens[role] = r.json()["access_token"]
    return world
