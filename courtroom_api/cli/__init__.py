"""The ``courtroom`` command line.

Each subcommand group lives in its own module with ``register(subparsers)``; heavy imports
(models, audio) happen inside the handlers so ``courtroom --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order is the order shown in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "courtroom_api.cli.serve",
    "courtroom_api.cli.db",
    "courtroom_api.cli.audit",
    "courtroom_api.cli.users",
    "courtroom_api.cli.demo",
    "courtroom_api.cli.devices",
    "courtroom_api.cli.verify",
    "courtroom_api.cli.recordings",
    "courtroom_api.cli.models",
    "courtroom_api.cli.transcribe",
    "courtroom_api.cli.statutes",
)


# The commands that read or write the dossier: the database must be at this code's schema.
NEEDS_SCHEMA = frozenset({"users", "audit", "demo", "recordings", "statutes"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courtroom", description="Smart courtroom recording system")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import DatabaseError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in NEEDS_SCHEMA and (problem := _database_problem()) is not None:
            # An older schema (or none) refused before the command runs, as `serve` refuses it: `users add`
            # and `audit verify` ran on one and said "OK".
            print(f"courtroom {args.command}: {problem}", file=sys.stderr)
            return 2
        result = args.func(args)
    except ValidationError as exc:  # a COURTROOM_* setting: one line a variable, not a traceback
        for error in exc.errors():
            name = "COURTROOM_" + "__".join(str(part) for part in error["loc"]).upper()
            print(f"courtroom {args.command}: {name}: {error['msg']} (got {error.get('input')!r})",
                  file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"courtroom {args.command}: a COURTROOM_* setting cannot be read: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            # A data directory (or database) that was never migrated: say so, not a traceback.
            print(f"courtroom {args.command}: the database is not set up: run `courtroom db upgrade` first "
                  f"({str(exc.orig).splitlines()[0]})", file=sys.stderr)
            return 2
        problem = _database_problem()
        if problem is None:  # the database itself is fine: a fault of the command's own, kept as it is
            raise
        # A file that is not a database, an unreachable server: the line `serve` prints, not a traceback.
        print(f"courtroom {args.command}: {problem}", file=sys.stderr)
        return 2
    return int(result or 0)


def _database_problem() -> str | None:
    """What is wrong with the configured database, as ``courtroom serve`` says it (None: nothing)."""
    from courtroom_api.cli.serve import database_problem
    from courtroom_api.config import get_settings

    return database_problem(get_settings().database_url)


if __name__ == "__main__":
    sys.exit(main())
