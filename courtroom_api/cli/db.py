"""``courtroom db``: migrate the dossier database (URL from settings)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="dossier database schema: upgrade, downgrade, current")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="migrate up (default: to the newest revision)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=run_upgrade)
    down = dbsub.add_parser("downgrade", help="migrate down to REV ('base' removes everything); refused where "
                                              "it would destroy records, unless --force")
    down.add_argument("revision", metavar="REV")
    down.add_argument("--force", action="store_true",
                      help="downgrade even where the dropped tables and columns hold records (they are lost)")
    down.set_defaults(func=run_downgrade)
    cur = dbsub.add_parser("current", help="print the database's current revision")
    cur.set_defaults(func=run_current)


def _url() -> str:
    from courtroom_api.config import get_settings

    return get_settings().database_url


def run_upgrade(args: argparse.Namespace) -> int:
    from models.db import upgrade

    url = _url()
    if problem := _not_this_codes(url):
        print(f"courtroom db upgrade: {problem}", file=sys.stderr)
        return 2
    return _migrate(upgrade, url, args.revision)


def run_downgrade(args: argparse.Namespace) -> int:
    from models.db import downgrade
    from models.downgrade_losses import downgrade_losses

    url = _url()
    if problem := _missing_file(url) or _not_this_codes(url):
        print(f"courtroom db downgrade: {problem}", file=sys.stderr)
        return 2
    # Refused where it drops records: an upgrade afterwards makes their tables again, empty, and a
    # logged-out token was accepted again, a sealed time range audible to the parties.
    if losses := downgrade_losses(url, args.revision):
        lines = "".join(f"\n  {loss.revision}: {loss.rows} {loss.what}" for loss in losses)
        if not args.force:
            print(f"courtroom db downgrade: refused: the downgrade to {args.revision} would destroy:{lines}\n"
                  "An upgrade afterwards does not bring them back. Nothing was changed; to downgrade anyway, back "
                  "the database up and run it again with --force.", file=sys.stderr)
            return 2
        print(f"courtroom db downgrade: --force: destroying:{lines}", file=sys.stderr)
    return _migrate(downgrade, url, args.revision)


def _migrate(step: Callable[[str, str], None], url: str, revision: str) -> int:
    from models.db import current_revision
    from models.errors import MigrationError

    try:
        step(url, revision)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"database at revision {current_revision(url) or 'base'}")
    return 0


def run_current(_args: argparse.Namespace) -> int:
    from courtroom_api.cli.serve import NOT_THIS_CODES
    from models.db import current_revision, is_known_revision

    url = _url()
    if problem := _missing_file(url):  # (it made an empty one, and said "base")
        print(f"courtroom db current: {problem}", file=sys.stderr)
        return 2
    current = current_revision(url)
    if current is not None and not is_known_revision(current):
        print(f"{current} (not a revision of this code: {NOT_THIS_CODES})")
        return 0
    print(current or "base (not migrated)")
    return 0


def _missing_file(url: str) -> str | None:
    """A SQLite file that is not there (only an upgrade makes one)."""
    from models.db import sqlite_file

    file = sqlite_file(url)
    return f"no database file at {file}" if file is not None and not file.exists() else None


def _not_this_codes(url: str) -> str | None:
    """A database at a revision this code has no migration of (a newer code's, another application's)."""
    from courtroom_api.cli.serve import NOT_THIS_CODES
    from models.db import current_revision, is_known_revision

    if _missing_file(url):
        return None  # an upgrade makes it
    current = current_revision(url)
    if current is None or is_known_revision(current):
        return None
    return f"the database is at schema revision {current}, which this code does not know: {NOT_THIS_CODES}"
