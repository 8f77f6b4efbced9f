"""Data the touch-terminal tests need, written straight into the test database with the ORM.

Two cases in two courtrooms so the tests can check that a party never reaches the other case:
case A (plaintiff 张三 logs in as ``party_a``; a terminal on the plaintiff side of courtroom 1),
case B (``party_b``). Case A has an earlier, ended hearing with a transcript (dossier lookup,
comparison, search, correction) and a paused hearing (休庭: transcript so far, "show to parties").
Seeded hearings are never "in_progress": the server resumes those at start-up with a live pipeline;
the live test starts its own hearing through the API instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PASSWORD = "courtroom-test-pw"
CASE_A = "(2024)吉2424民初123号"
CASE_B = "(2024)吉2424民初456号"

# (start_s, end_s, role, seat, participant key, text, confidence)
EARLIER_LINES = [
    (0.0, 4.2, "presiding_judge", "judge", "judge", "现在开庭。请原告陈述诉讼请求。", 0.93),
    (4.5, 11.0, "plaintiff", "plaintiff", "plaintiff", "被告向我借款五万元，约定三个月后归还，至今未还。", 0.88),
    (11.4, 16.0, "defendant", "defendant", "defendant", "借款属实，但是我已经归还了两万元。", 0.91),
    (16.3, 21.0, "agent", "plaintiff_counsel", "counsel",
     "The repayment of twenty thousand yuan is not supported by any receipt.", 0.86),
    (21.5, 25.0, "witness", "witness", "witness", "我看到被告把现金交给原告。", 0.42),
    (25.5, 28.0, None, None, None, "（听不清）", 0.30),
]
LIVE_LINES = [
    (0.0, 3.0, "presiding_judge", "judge", "judge", "继续开庭，请被告举证。", 0.95),
    (3.2, 7.9, "defendant", "defendant", "defendant", "我方提交还款收据一份，见证据二。", 0.9),
]

OTHER_LINES = [(0.0, 3.5, "plaintiff", "plaintiff", "plaintiff", "被告交付的货物存在质量问题。", 0.9)]


@dataclass
class Seeded:
    """Ids the tests use."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def _segments(session, hearing, lines, people) -> list:  # type: ignore[no-untyped-def]
    from models import TranscriptSegment

    out = []
    for i, (start, end, role, seat, who, text, conf) in enumerate(lines, start=1):
        seg = TranscriptSegment(hearing_id=hearing.id, seq=i, start_s=start, end_s=end, text=text, role=role,
                                seat=seat, channel=i % 4, participant_id=people[who].id if who else None,
                                confidence=conf, language="en" if text[:1].isascii() else "zh",
                                engine="test", model="seed")
        session.add(seg)
        out.append(seg)
    session.flush()
    return out


def _people(session, case, specs, users):  # type: ignore[no-untyped-def]
    from models import Participant

    people = {}
    for key, name, role, side, seat, user_key in specs:
        people[key] = Participant(case_id=case.id, name=name, role=role, side=side, seat=seat,
                                  user_id=users[user_key].id if user_key else None)
        session.add(people[key])
    session.flush()
    return people


def seed(url: str) -> Seeded:
    """Fill an empty, migrated database; returns the ids of what it made."""
    from models import Case, Court, Courtroom, Hearing, User
    from models.db import make_engine, session_factory
    from models.passwords import hash_password

    engine = make_engine(url)
    out = Seeded()
    pw = hash_password(PASSWORD)
    now = datetime.now(UTC)
    with session_factory(engine)() as s:
        court = Court(code="吉2424", name="示范人民法院")
        s.add(court)
        s.flush()
        rooms = [Courtroom(court_id=court.id, name=n, profile_name="demo") for n in ("第一法庭", "第二法庭")]
        s.add_all(rooms)
        s.flush()
        users = {
            "judge": User(login="judge", display_name="王审判长", password_hash=pw, role="judge"),
            "judge2": User(login="judge2", display_name="刘法官", password_hash=pw, role="judge"),
            "clerk": User(login="clerk", display_name="李书记员", password_hash=pw, role="clerk"),
            "appeal": User(login="appeal", display_name="赵法官", password_hash=pw, role="appeal_judge"),
            "party_a": User(login="party_a", display_name="张三", password_hash=pw, role="party"),
            "party_b": User(login="party_b", display_name="孙七", password_hash=pw, role="party"),
            "terminal_a": User(login="terminal_a", display_name="第一法庭原告席", password_hash=pw,
                               role="terminal", courtroom_id=rooms[0].id, side="plaintiff"),
            "admin": User(login="admin", display_name="周管理员", password_hash=pw, role="admin"),
        }
        s.add_all(users.values())
        s.flush()
        case_a = Case(court_id=court.id, case_number=CASE_A, title="张三诉李四民间借贷纠纷", cause_of_action="民间借贷纠纷")
        case_b = Case(court_id=court.id, case_number=CASE_B, title="孙七诉周八买卖合同纠纷", cause_of_action="买卖合同纠纷")
        s.add_all([case_a, case_b])
        s.flush()
        people = _people(s, case_a, [
            ("judge", "王审判长", "presiding_judge", "bench", "judge", "judge"),
            ("clerk", "李书记员", "clerk", "bench", "clerk", "clerk"),
            ("plaintiff", "张三", "plaintiff", "plaintiff", "plaintiff", "party_a"),
            ("defendant", "李四", "defendant", "defendant", "defendant", None),
            ("counsel", "Alice Chen", "agent", "plaintiff", "plaintiff_counsel", None),
            ("witness", "王五", "witness", "neutral", "witness", None),
        ], users)
        people_b = _people(s, case_b, [("plaintiff", "孙七", "plaintiff", "plaintiff", "plaintiff", "party_b")], users)
        earlier = Hearing(case_id=case_a.id, courtroom_id=rooms[0].id, title="第一次开庭", status="ended",
                          started_at=now - timedelta(days=30), ended_at=now - timedelta(days=30, hours=-1))
        live = Hearing(case_id=case_a.id, courtroom_id=rooms[0].id, title="第二次开庭", status="paused",
                       started_at=now - timedelta(minutes=5))
        other = Hearing(case_id=case_b.id, courtroom_id=rooms[1].id, title="第一次开庭", status="paused",
                        started_at=now - timedelta(minutes=2))
        s.add_all([earlier, live, other])
        s.flush()
        segs = _segments(s, earlier, EARLIER_LINES, people)
        _segments(s, live, LIVE_LINES, people)
        segs_b = _segments(s, other, OTHER_LINES, people_b)
        s.commit()
        out.ids.update(case_a=case_a.id, case_b=case_b.id, room_1=rooms[0].id, room_2=rooms[1].id,
                       hearing_earlier=earlier.id, hearing_live=live.id, hearing_b=other.id,
                       segment_plaintiff=segs[1].id, segment_defendant=segs[2].id, segment_counsel=segs[3].id,
                       segment_witness=segs[4].id, segment_b=segs_b[0].id)
        out.ids.update({f"user_{k}": u.id for k, u in users.items()})
    engine.dispose()
    return out
