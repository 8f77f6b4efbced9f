"""``courtroom audit verify``: re-hash the audit chain and report the first break."""

from __future__ import annotations

import argparse

from courtroom_api.cli.verify import head_digits


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log")
    asub = p.add_subparsers(dest="audit_command", required=True)
    verify = asub.add_parser("verify", help="check the hash chain and that every signed court record is still "
                                            "what was signed; exit 1 on a break or a changed record")
    verify.add_argument("--head", type=head_digits,
                        help="a head hash printed by an earlier check and kept outside the database "
                             "(at least 16 hex digits): the chain must still hold it")
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.record import signed_records
    from models.audit import HEAD_ID, AuditHead, verify_chain
    from models.db import make_engine, one_snapshot, session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with session_factory(engine)() as session, one_snapshot(session) as snapshot:  # the court at work meanwhile
            result = verify_chain(snapshot, noted_head=args.head)
            head = snapshot.get(AuditHead, HEAD_ID)
            records = signed_records(snapshot)
    finally:
        engine.dispose()
    changed = [hid for hid, unchanged in records.items() if not unchanged]
    if result.ok:
        # The head, to keep outside the database (a printout, another machine) for a later --head check.
        print(f"OK: {result.events} audit events, chain intact; head {head.hash if head else '-'}")
    else:
        where = f"event id {result.broken_event_id}" if result.broken_event_id is not None else "chain head"
        print(f"BROKEN at {where} (after {result.events} good events): {result.reason}")
    if changed:
        print("CHANGED since signed: " + ", ".join(f"hearing {hid}" for hid in changed)
              + f" ({len(records) - len(changed)} signed records unchanged)")
    else:
        print(f"OK: {len(records)} signed records unchanged since they were signed")
    # Re-hashing the recordings can take hours: a check of its own, named here so that it is not missed.
    print("Recordings: `courtroom recordings verify` re-hashes the filed files the court serves")
    return 0 if result.ok and not changed else 1
