"""A login is one name whatever its letters' case: ``Judge`` signs in as ``judge``, and no second
login may be added that differs from one already there only in case (a clerk typing ``Wang`` at the
login page met "wrong login or password"; an administrator could add ``Wang`` beside ``wang``).

Logins are ASCII (``UserCreate``), so the database's ``lower()`` folds them the same everywhere.
A database from before may hold two logins that differ only in case: each still signs in as typed
exactly, and a case variant that matches both is refused as ambiguous, never guessed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.dossier import User


def _same_name(login: str) -> ColumnElement[bool]:
    return func.lower(User.login) == func.lower(login)


def find_login(session: Session, login: str) -> User | None:
    """The user signing in as ``login``: its exact spelling first, else its only case variant."""
    exact = session.scalar(select(User).where(User.login == login))
    if exact is not None:
        return exact
    variants = session.scalars(select(User).where(_same_name(login)).limit(2)).all()
    return variants[0] if len(variants) == 1 else None


def login_holder(session: Session, login: str) -> User | None:
    """A user whose login is ``login`` in any case (a new login must not be one of them)."""
    return session.scalars(select(User).where(_same_name(login)).order_by(User.id).limit(1)).first()
