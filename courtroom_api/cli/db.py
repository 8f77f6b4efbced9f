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
    down = dbsub.add_parser("downgrade", help="migrate down to REV ('base' removes everything)")
    down.add_argument("revision", metavar="REV")
    down.set_defaults(func=run_downgrade)
    cur = dbsub.add_parser("current", help="print the database's current revision")
    cur.set_defaults(func=run_current)


def _url() -> str:
    from courtroom_api.config import get_settings

    return get_settings().database_url


def run_upgrade(args: argparse.Namespace) -> int:
    from models.db import upgrade

    return _migrate(upgrade, args.revision)


def run_downgrade(args: argparse.Namespace) -> int:
    from models.db import downgrade

    return _migrate(downgrade, args.revision)


def _migrate(step: Callable[[str, str], None], revision: str) -> int:
    from models.db import current_revision
    from models.errors import MigrationError

    url = _url()
    try:
        step(url, revision)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"database at revision {current_revision(url) or 'base'}")
    return 0


def run_current(_args: argparse.Namespace) -> int:
    from models.db import current_revision

    print(current_revision(_url()) or "base (not migrated)")
    return 0
