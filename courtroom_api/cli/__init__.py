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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courtroom", description="Smart courtroom recording system")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import OperationalError, ProgrammingError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            # A data directory (or database) that was never migrated: say so, not a traceback.
            print(f"courtroom {args.command}: the database is not set up: run `courtroom db upgrade` first "
                  f"({str(exc.orig).splitlines()[0]})", file=sys.stderr)
            return 2
        raise
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
