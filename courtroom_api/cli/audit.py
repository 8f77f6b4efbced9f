"""``courtroom audit verify``: re-hash the audit chain and report the first break."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log")
    asub = p.add_subparsers(dest="audit_command", required=True)
    verify = asub.add_parser("verify", help="check the hash chain; exit 1 on a break")
    verify.set_defaults(func=run_verify)


def run_verify(_args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from models.audit import verify_chain
    from models.db import make_engine, session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with session_factory(engine)() as session:
            result = verify_chain(session)
    finally:
        engine.dispose()
    if result.ok:
        print(f"OK: {result.events} audit events, chain intact")
        return 0
    where = f"event id {result.broken_event_id}" if result.broken_event_id is not None else "chain head"
    print(f"BROKEN at {where} (after {result.events} good events): {result.reason}")
    return 1
