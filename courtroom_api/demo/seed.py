"""Seed the demo court idempotently; passwords are generated once and kept in data_dir (0600).

The demo case matches the bundled sample hearing (``hardware/samples/demo_hearing.flac``):
presiding judge on channel 0, clerk 1, plaintiff 张伟 2, defendant 李娜 3.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

CREDENTIALS_FILE = "demo-credentials.json"
CASE_NUMBER = "(2024)演示0101民初1号"
# login → (role, display name, courtroom-bound side for terminals)
USERS: dict[str, tuple[str, str, str | None]] = {
    "admin": ("admin", "系统管理员 Administrator", None),
    "judge": ("judge", "王审判长 Presiding judge Wang", None),
    "clerk": ("clerk", "刘书记员 Clerk Liu", None),
    "plaintiff": ("party", "张伟 Zhang Wei (plaintiff)", None),
    "defendant": ("party", "李娜 Li Na (defendant)", None),
    "appeal": ("appeal_judge", "赵法官 Appeal judge Zhao", None),
    "screen-plaintiff": ("terminal", "原告屏 Plaintiff screen", "plaintiff"),
    "screen-defendant": ("terminal", "被告屏 Defendant screen", "defendant"),
}
PARTICIPANTS = (  # name, role, side, seat, login
    ("王审判长", "presiding_judge", "bench", "judge", "judge"),
    ("刘书记员", "clerk", "bench", "clerk", "clerk"),
    ("张伟", "plaintiff", "plaintiff", "plaintiff", "plaintiff"),
    ("李娜", "defendant", "defendant", "defendant", "defendant"),
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    created: bool
    hearing_id: int
    case_id: int
    passwords: dict[str, str]  # the logins whose password is the one on file (others were set before)


def _passwords(data_dir: Path) -> dict[str, str]:
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    passwords = {login: secrets.token_urlsafe(9) for login in USERS}
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(passwords, f, indent=1)
    return passwords


def _get_or_add(session: Session, model: Any, where: dict[str, Any], **values: Any) -> tuple[Any, bool]:
    row = session.scalar(select(model).filter_by(**where))
    if row is not None:
        return row, False
    row = model(**where, **values)
    session.add(row)
    session.flush()
    return row, True


def seed_demo(session: Session, data_dir: Path) -> DemoSeed:
    """Create whatever of the demo court is missing; never changes what exists."""
    from models import Case, Court, Courtroom, Hearing, Participant, User
    from models.audit import append_event
    from models.passwords import hash_password, verify_password

    passwords = _passwords(data_dir)
    court, created = _get_or_add(session, Court, {"code": "DEMO"}, name="演示人民法院 Demo People's Court")
    room, _ = _get_or_add(session, Courtroom, {"court_id": court.id, "name": "演示法庭 Demo courtroom"},
                          profile_name="demo")
    users, usable = {}, {}
    for login, (role, name, side) in USERS.items():
        users[login], made = _get_or_add(
            session, User, {"login": login}, role=role, display_name=name, password_hash=hash_password(passwords[login]),
            courtroom_id=room.id if role == "terminal" else None, side=side)
        # A login made before (by `courtroom users add`, or with a credentials file since deleted) keeps its
        # password: the one on file is not printed for it, as it would not work.
        if made or verify_password(users[login].password_hash, passwords[login]):
            usable[login] = passwords[login]
    case, _ = _get_or_add(session, Case, {"case_number": CASE_NUMBER}, court_id=court.id,
                          title="张伟诉李娜借款合同纠纷", cause_of_action="借款合同纠纷", procedure="ordinary")
    for name, role, side, seat, login in PARTICIPANTS:
        _get_or_add(session, Participant, {"case_id": case.id, "name": name}, role=role, side=side, seat=seat,
                    user_id=users[login].id)
    # Only one in the demo courtroom: a hearing someone added to the case without a room cannot be started
    # as the printed instructions say (409 "has no courtroom").
    hearing = session.scalar(select(Hearing).where(Hearing.case_id == case.id, Hearing.courtroom_id == room.id,
                                                   Hearing.status == "scheduled").order_by(Hearing.id).limit(1))
    if hearing is None:
        hearing = Hearing(case_id=case.id, courtroom_id=room.id, title="第一次开庭 First hearing")
        session.add(hearing)
        session.flush()
    if created:
        append_event(session, actor="cli", action="demo.seed", obj=f"case:{case.id}", details={"court": "DEMO"})
    session.commit()
    return DemoSeed(created, hearing.id, case.id, usable)
