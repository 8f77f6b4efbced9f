"""``courtroom demo seed``: the demo court, case, users and ``demo`` courtroom (idempotent)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the demo court for trying the system")
    dsub = p.add_subparsers(dest="demo_command", required=True)
    seed = dsub.add_parser("seed", help="create the demo court, case, users and courtroom if missing")
    seed.set_defaults(func=run_seed)


def run_seed(_args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.demo.seed import CREDENTIALS_FILE, USERS, seed_demo
    from models.db import make_engine, session_factory

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            result = seed_demo(session, settings.data_dir)
    finally:
        engine.dispose()
    base = f"http://{settings.host}:{settings.port}"
    print(("created" if result.created else "already present") + f": demo case {result.case_id}, "
          f"scheduled hearing {result.hearing_id} in the demo courtroom")
    print(f"logins (passwords kept in {settings.data_dir / CREDENTIALS_FILE}):")
    for login, (role, name, _side) in USERS.items():
        password = result.passwords.get(login, "(set before)")
        print(f"  {login:<17} {password:<14} {role:<13} {name}")
    print("start the hearing (replays the bundled sample) and watch it arrive:")
    clerk_password = result.passwords.get("clerk", "<the clerk's password>")
    print(f"  TOKEN=$(curl -s -d 'username=clerk&password={clerk_password}' {base}/api/auth/token"
          " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')")
    print(f"  curl -s -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{}}' "
          f"{base}/api/hearings/{result.hearing_id}/start")
    print(f"  websocket: ws://{settings.host}:{settings.port}/ws/hearings/{result.hearing_id}?token=$TOKEN"
          f"   API docs: {base}/docs")
    return 0
