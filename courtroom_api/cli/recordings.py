"""``courtroom recordings file-pending``: file the recordings of ended hearings that never reached the
dossier (the database or the blob store refused them at the hearing's stop). The server does the same
at start-up."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recordings", help="recordings in the dossier")
    rsub = p.add_subparsers(dest="recordings_command", required=True)
    f = rsub.add_parser("file-pending", help="finalize, verify and file recordings of ended hearings not yet filed")
    f.set_defaults(func=run_file_pending)


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
