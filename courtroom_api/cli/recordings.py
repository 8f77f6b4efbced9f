"""``courtroom recordings file-pending``: file the recordings of ended hearings that never reached the
dossier (the database or the blob store refused them at the hearing's stop). The server does the same
at start-up. ``courtroom recordings verify``: check that the filed copies the court serves are still
what was recorded."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recordings", help="recordings in the dossier")
    rsub = p.add_subparsers(dest="recordings_command", required=True)
    f = rsub.add_parser("file-pending", help="finalize, verify and file recordings of ended hearings not yet filed")
    f.set_defaults(func=run_file_pending)
    v = rsub.add_parser("verify", help="re-hash every filed recording's files (multi-channel, tracks, mixdown) in "
                                       "the blob store against the dossier, the recording's manifest and the "
                                       "audit log; exit 1 naming each file changed or missing")
    v.add_argument("--hearing", type=int, default=None, metavar="ID", help="only this hearing's recordings")
    v.add_argument("--dossier-only", action="store_true",
                   help="check the blobs against the dossier and the audit log only, not the recording directories "
                        "(archived off this server); without it a filed recording whose directory is not found exits 1")
    v.set_defaults(func=run_verify)


def run_file_pending(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.live.filing import file_pending_recordings
    from courtroom_api.services import build_services

    services = build_services(get_settings())
    try:
        report = file_pending_recordings(services)
    finally:
        services.engine.dispose()
    for line in report:
        print(line)
    if not report:
        print("no recordings waiting to be filed")
    return 1 if any("NOT filed" in line for line in report) else 0


def run_verify(args: argparse.Namespace) -> int:
    import sys

    from courtroom_api.blobstore import open_blob_store
    from courtroom_api.config import get_settings
    from courtroom_api.recording_check import check_recording, filed_recordings
    from models import Hearing
    from models.db import make_engine, one_snapshot, session_factory

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session, one_snapshot(session) as snapshot:
            # A mistyped hearing read "0 of 0 filed recordings as recorded", exit 0.
            unknown = args.hearing is not None and snapshot.get(Hearing, args.hearing) is None
            filed = filed_recordings(snapshot, settings.hearing_recording_dir, args.hearing)
    finally:
        engine.dispose()  # the hashing below can take hours: no connection held meanwhile
    if unknown:
        print(f"courtroom recordings verify: no hearing {args.hearing}", file=sys.stderr)
        return 2
    if not filed:
        print(f"hearing {args.hearing} has no filed recordings" if args.hearing is not None
              else "no filed recordings")
        return 0
    blobs = open_blob_store(settings)
    broken = unfound = ok = 0
    for recording in filed:
        check = check_recording(blobs, recording, dossier_only=args.dossier_only)
        ok += check.ok
        broken += bool(check.problems)
        unfound += bool(check.not_found)
        for line in check.lines():
            print(line, flush=True)
    # A recording directory not found is not passed as OK: the chain and the manifest went unchecked
    # (a filed relative path, a data directory moved) and the summary said all was as recorded.
    print(f"{ok} of {len(filed)} filed recordings as recorded" + (f"; {broken} BROKEN" if broken else "")
          + (f"; {unfound} without their recording directory (--dossier-only checks those against the dossier "
             "alone)" if unfound else ""))
    return 0 if ok == len(filed) else 1
