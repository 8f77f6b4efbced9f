"""``courtroom statutes``: load statute text files into the searchable statutes table."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("statutes", help="statute lookup: import law texts for the bench's statute search")
    ssub = p.add_subparsers(dest="statutes_command", required=True)
    imp = ssub.add_parser("import", help="import (or update) statutes from UTF-8 text files")
    imp.add_argument("files", nargs="*", type=Path, metavar="FILE",
                     help="text files: law name line, then articles (第…条 / Article N)")
    imp.add_argument("--demo", action="store_true", help="import the bundled sample statutes")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.errors import ValidationFailedError
    from courtroom_api.statute_files import demo_statute_files, import_statutes, read_statute_files
    from models.db import make_engine, session_factory

    files = list(args.files) + (demo_statute_files() if args.demo else [])
    if not files:
        print("courtroom statutes import: give FILE… or --demo", file=sys.stderr)
        return 2
    try:
        articles = read_statute_files(files)
    except ValidationFailedError as exc:
        print(f"courtroom statutes import: {exc}", file=sys.stderr)
        return 1
    engine = make_engine(get_settings().database_url)
    try:
        with session_factory(engine, write=True)() as session:
            result = import_statutes(session, articles, actor=f"cli:{getpass.getuser()}")
            session.commit()
    finally:
        engine.dispose()
    print(f"statutes: {result.added} added, {result.updated} updated, {result.unchanged} unchanged "
          f"from {len(files)} file(s)")
    return 0
