"""``courtroom users``: bootstrap and manage logins from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from typing import TYPE_CHECKING

from models.enums import Side, UserRole

ROLES = tuple(r.value for r in UserRole)
SIDES = tuple(s.value for s in Side)

if TYPE_CHECKING:
    from pydantic import ValidationError
# the CLI's name for a field of the API's UserCreate, in its refusals
_OPTION = {"display_name": "--name", "courtroom_id": "--courtroom", "side": "--side", "role": "--role",
           "password": "the password"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="logins: add, list, revoke tokens")
    usub = p.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="add a login (the first admin bootstraps the system)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--password", help="password (default: $COURTROOM_NEW_PASSWORD, a prompt, or generated)")
    add.add_argument("--courtroom", type=int, help="terminal: the courtroom id it is bound to")
    add.add_argument("--side", choices=SIDES, help="terminal: the seat side it serves")
    add.set_defaults(func=run_add)
    ls = usub.add_parser("list", help="list logins")
    ls.set_defaults(func=run_list)
    rv = usub.add_parser("revoke-tokens", help="end every login of a user (its tokens are refused; it logs in again)")
    rv.add_argument("login")
    rv.set_defaults(func=run_revoke_tokens)


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    if args.password:
        return args.password, False
    if os.environ.get("COURTROOM_NEW_PASSWORD"):
        return os.environ["COURTROOM_NEW_PASSWORD"], False
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.login}: "), False
    return secrets.token_urlsafe(12), True


def _refusal(exc: ValidationError) -> str:
    """One line for the first thing the API's own check refuses (the input itself is not echoed)."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    if field == "login":
        return "a login is 1 to 100 characters, each A-Z, a-z, 0-9, '_', '.', '@' or '-' (no spaces)"
    if field == "password" and error["type"] == "string_too_short":
        return "the password must have at least 8 characters"
    return f"{_OPTION.get(field, field)}: {error['msg']}"


def run_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy.exc import IntegrityError

    from courtroom_api.config import get_settings
    from courtroom_api.schemas import UserCreate
    from models import User
    from models.audit import append_event, lock_chain
    from models.db import make_engine, session_factory
    from models.logins import login_holder
    from models.passwords import hash_password

    if args.role == "terminal" and args.courtroom is None:
        print("a terminal login must be bound to a courtroom: add --courtroom ID [--side SIDE]", file=sys.stderr)
        return 2
    password, generated = _password(args)
    # The API's rules for a new login (POST /api/users): one the login page could never sign in with
    # ("wang wei ", full-width letters, "") was added here and stayed unusable.
    try:
        body = UserCreate(login=args.login, password=password, role=args.role, display_name=args.name,
                          courtroom_id=args.courtroom, side=args.side)
    except ValidationError as exc:
        print(_refusal(exc), file=sys.stderr)
        return 2
    engine = make_engine(get_settings().database_url)
    try:
        with session_factory(engine, write=True)() as session:
            lock_chain(session)  # (a login added at the same moment: checked after it, not beside it)
            holder = login_holder(session, body.login)
            if holder is not None:
                print(f"login {body.login!r} is taken: {holder.login!r} (id {holder.id}) signs in with it "
                      "(logins do not tell upper from lower case)", file=sys.stderr)
                return 1
            user = User(login=body.login, password_hash=hash_password(body.password), role=body.role,
                        display_name=body.display_name, courtroom_id=body.courtroom_id, side=body.side)
            session.add(user)
            session.flush()
            append_event(session, actor="cli", action="user.create", obj=f"user:{user.id}",
                         details={"login": args.login, "role": args.role, "display_name": body.display_name,
                                  "courtroom_id": body.courtroom_id,
                                  "side": body.side.value if body.side is not None else None})
            session.commit()
    except IntegrityError:
        print(f"login {args.login!r} already exists (or the courtroom does not)", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"added {args.role} {args.login!r} (id {user.id})" + (f" with password {password}" if generated else ""))
    return 0


def run_list(_args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from courtroom_api.config import get_settings
    from models import User
    from models.db import make_engine, session_factory

    engine = make_engine(get_settings().database_url)
    with session_factory(engine)() as session:
        for user in session.scalars(select(User).order_by(User.id)):
            bound = f" courtroom={user.courtroom_id} side={user.side}" if user.role == "terminal" else ""
            print(f"{user.id}\t{user.login}\t{user.role}\t{'active' if user.is_active else 'disabled'}{bound}")
    engine.dispose()
    return 0


def run_revoke_tokens(args: argparse.Namespace) -> int:

    from courtroom_api.auth.revocation import revoke_all_tokens
    from courtroom_api.config import get_settings
    from models.audit import append_event
    from models.db import make_engine, session_factory
    from models.logins import find_login

    engine = make_engine(get_settings().database_url)
    try:
        with session_factory(engine, write=True)() as session:
            user = find_login(session, args.login)
            if user is None:
                print(f"no login {args.login!r}", file=sys.stderr)
                return 1
            valid_after = revoke_all_tokens(user)
            append_event(session, actor="cli", action="user.revoke_tokens", obj=f"user:{user.id}",
                         details={"valid_after": valid_after.isoformat()})
            session.commit()
    finally:
        engine.dispose()
    print(f"tokens of {args.login!r} issued before {valid_after.isoformat()} are refused; it must log in again")
    return 0
