"""Users and their per-case grants (admin)."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from courtroom_api.access import audit, get_or_404, load_case
from courtroom_api.auth.policy import Action, require
from courtroom_api.deps import CurrentUser, IdPath, ServicesDep, SessionDep
from courtroom_api.errors import ConflictError, NotFoundError, ValidationFailedError
from courtroom_api.schemas import GrantCreate, GrantPublic, UserCreate, UserPublic, UserUpdate
from models.enums import AccessLevel, UserRole

router = APIRouter(prefix="/api/users", tags=["users"])


def _user(session, user_id: IdPath):  # type: ignore[no-untyped-def]
    from models import User

    return get_or_404(session, User, user_id, "user")


@router.get("", response_model=list[UserPublic])
def list_users(user: CurrentUser, session: SessionDep) -> object:
    from models import User

    require(user, Action.MANAGE_USERS)
    return session.scalars(select(User).order_by(User.id)).all()


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, user: CurrentUser, session: SessionDep) -> object:
    from models import User
    from models.passwords import hash_password

    require(user, Action.MANAGE_USERS)
    _require_bound_terminal(body.role, body.courtroom_id)
    _require_free_login(session, body.login)
    created = User(login=body.login, password_hash=hash_password(body.password), role=body.role,
                   display_name=body.display_name, courtroom_id=body.courtroom_id, side=body.side)
    session.add(created)
    session.flush()
    audit(session, user, "user.create", f"user:{created.id}", login=body.login, role=body.role.value,
          display_name=body.display_name, courtroom_id=body.courtroom_id, side=_plain(body.side))
    session.commit()
    return created


def _require_free_login(session: Session, login: str) -> None:
    from models.audit import lock_chain
    from models.logins import login_holder

    lock_chain(session)  # (two admins adding Wang and wang at once: the second waits, then finds the first)
    holder = login_holder(session, login)
    if holder is not None:
        raise ConflictError(f"login {login!r} is taken: {holder.login!r} (id {holder.id}) signs in with it "
                            "(logins do not tell upper from lower case)")


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(user_id: IdPath, body: UserUpdate, user: CurrentUser, session: SessionDep,
                services: ServicesDep) -> object:
    from courtroom_api.auth.revocation import revoke_all_tokens
    from models.passwords import hash_password

    require(user, Action.MANAGE_USERS)
    target = _user(session, user_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("password", "role", "display_name", "is_active"):
        if key in changes and changes[key] is None:
            raise ValidationFailedError(f"{key} cannot be null (leave it out to keep it)")
    if changes.get("is_active") is False or changes.get("role", UserRole.ADMIN) != UserRole.ADMIN:
        _keep_an_admin(session, target)
    if "role" in changes or "courtroom_id" in changes:  # a loose terminal from before can still be disabled
        _require_bound_terminal(changes.get("role", target.role), changes.get("courtroom_id", target.courtroom_id))
    fields = sorted(changes)
    # A new password or a disabled login ends the user's sessions: the old password's tokens, or a
    # device's token from before the login was disabled, must not come back with it.
    ends_logins = "password" in changes or changes.get("is_active") is False
    # A new password or re-enabling is how an administrator lets the user back in: a lock from wrong
    # passwords (someone else's, typing the judge's login at a party terminal) is lifted with it.
    unlocked = ("password" in changes or changes.get("is_active") is True) and services.throttle.reset(target.login)
    # What changed, from what to what: a party made judge reaches every case and its sealed items, and
    # the audit must say so. A password is never written there, only that it changed.
    changed: dict[str, object] = {"password": {"changed": True}} if "password" in changes else {}
    if "password" in changes:
        target.password_hash = hash_password(changes.pop("password"))
    for key, value in changes.items():
        changed[key] = {"from": _plain(getattr(target, key)), "to": _plain(value)}
        setattr(target, key, value)
    if ends_logins:
        revoke_all_tokens(target)
    audit(session, user, "user.update", f"user:{user_id}", fields=fields, changed=changed, ended_logins=ends_logins,
          **({"unlocked": True} if unlocked else {}))
    session.commit()
    return target


def _plain(value: object) -> object:
    """A user's field as the audit's JSON keeps it: an enum by its value."""
    return value.value if isinstance(value, Enum) else value


def _keep_an_admin(session, target) -> None:  # type: ignore[no-untyped-def]
    """The last active administrator is not disabled or demoted: nobody could manage users after."""
    from sqlalchemy import func

    from models import User
    from models.audit import lock_chain

    if target.role != UserRole.ADMIN or not target.is_active:
        return
    # Counted under the chain's lock: two admins disabling each other at once on PostgreSQL both counted
    # the other before either committed, and the court was left with none.
    lock_chain(session)
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == UserRole.ADMIN, User.is_active.is_(True), User.id != target.id))
    if not others:
        raise ConflictError(f"{target.login} is the last active administrator: make another one first")


def _require_bound_terminal(role: object, courtroom_id: int | None) -> None:
    """A terminal's token reaches its courtroom's hearings only: without one it would reach none."""
    if role == UserRole.TERMINAL and courtroom_id is None:
        raise ValidationFailedError("a terminal needs its courtroom_id (the courtroom it stands in)")


@router.post("/{user_id}/revoke-tokens", status_code=204,
             summary="End every login of the user: tokens issued before now are refused")
def revoke_tokens(user_id: IdPath, user: CurrentUser, session: SessionDep) -> None:
    """For a token copied off a shared terminal, or a lost device: the user logs in again. Media
    links made with those tokens end too. To keep the user out, disable the login instead."""
    from courtroom_api.auth.revocation import revoke_all_tokens

    require(user, Action.MANAGE_USERS)
    valid_after = revoke_all_tokens(_user(session, user_id))
    audit(session, user, "user.revoke_tokens", f"user:{user_id}", valid_after=valid_after.isoformat())
    session.commit()


@router.post("/{user_id}/unlock", status_code=204,
             summary="Lift the lock that wrong passwords put on the user's login")
def unlock(user_id: IdPath, user: CurrentUser, session: SessionDep, services: ServicesDep) -> None:
    """Its failure count is forgotten: the right password signs in again at once. (A lock on a client
    address, from many logins' failures there, is not lifted: it ends with its window.)"""
    require(user, Action.MANAGE_USERS)
    target = _user(session, user_id)
    was_locked = services.throttle.reset(target.login)
    audit(session, user, "user.unlock", f"user:{user_id}", login=target.login, was_locked=was_locked)
    session.commit()


@router.get("/{user_id}/grants", response_model=list[GrantPublic])
def list_grants(user_id: IdPath, user: CurrentUser, session: SessionDep) -> object:
    """The user's grants, expired ones included (an expired grant is renewed by granting again)."""
    from models import CaseAccess

    require(user, Action.MANAGE_USERS)
    _user(session, user_id)
    return session.scalars(select(CaseAccess).where(CaseAccess.user_id == user_id).order_by(CaseAccess.case_id)).all()


@router.post("/{user_id}/grants", response_model=GrantPublic, status_code=201,
             responses={200: {"model": GrantPublic, "description": "the user's grant on the case, changed"}})
def grant(user_id: IdPath, body: GrantCreate, user: CurrentUser, session: SessionDep, response: Response) -> object:
    """Grant access to a case; granting again renews or changes the grant in place (the level or expiry
    given; what is left out stays as it was)."""
    from models import CaseAccess
    from models.base import utcnow

    require(user, Action.MANAGE_USERS)
    _user(session, user_id)
    load_case(session, user, body.case_id)
    if body.level == AccessLevel.SEALED:
        raise ValidationFailedError("sealed items are for the judge and the clerk: a grant cannot open them; "
                                    "grant 'read' or 'write'")
    # One grant a user and case: a lawyer's grant that ran out was refused again with the table's
    # unique-constraint text, and no endpoint could change it.
    access = session.scalar(select(CaseAccess).where(CaseAccess.case_id == body.case_id, CaseAccess.user_id == user_id))
    before = None
    if access is None:
        access = CaseAccess(case_id=body.case_id, user_id=user_id, level=body.level, granted_by_id=user.user_id,
                            expires_at=body.expires_at)
        session.add(access)
    else:
        before = {"level": AccessLevel(access.level).value,
                  "expires_at": access.expires_at.isoformat() if access.expires_at else None}
        # What the request leaves out stays as granted: renewing the expiry must not demote a write
        # grant to read, nor a change of level make a time-limited grant permanent.
        given = body.model_fields_set
        access.level = body.level if "level" in given else AccessLevel(access.level)
        access.expires_at = body.expires_at if "expires_at" in given else access.expires_at
        access.granted_by_id, access.granted_at = user.user_id, utcnow()
        response.status_code = 200
    session.flush()
    audit(session, user, "access.grant", f"case:{body.case_id}", user_id=user_id, level=AccessLevel(access.level).value,
          expires_at=access.expires_at.isoformat() if access.expires_at else None, **({"before": before} if before else {}))
    session.commit()
    return access


@router.delete("/{user_id}/grants/{case_id}", status_code=204)
def revoke(user_id: IdPath, case_id: IdPath, user: CurrentUser, session: SessionDep) -> None:
    from models import CaseAccess

    require(user, Action.MANAGE_USERS)
    access = session.scalar(select(CaseAccess).where(CaseAccess.user_id == user_id, CaseAccess.case_id == case_id))
    if access is None:
        raise NotFoundError(f"user {user_id} has no grant on case {case_id}")
    session.delete(access)
    audit(session, user, "access.revoke", f"case:{case_id}", user_id=user_id)
    session.commit()
