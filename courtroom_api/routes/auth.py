"""Log in (OAuth2 password flow), log out, who am I, and media links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from courtroom_api.access import audit
from courtroom_api.auth.tokens import decode_token, issue_token, new_claims
from courtroom_api.deps import CurrentUser, ServicesDep, SessionDep, oauth2_scheme
from courtroom_api.errors import AuthenticationError, TooManyAttemptsError
from courtroom_api.schemas import MediaLink, MediaLinkRequest, Token, UserPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])
# an argon2 hash of nothing anyone can type (an unknown login is checked against it)
_NO_USER = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$W3fhUcxL3JHvfOoB8bVq7SyGtdAJ4NPNFhZpv2xA1JA"


@router.post("/token", response_model=Token, summary="Log in with login and password; returns a bearer token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, services: ServicesDep,
          request: Request) -> Token:
    """Five wrong passwords for a login within 15 minutes (30 from one address) lock it for the rest of
    that time (429 with Retry-After; settings ``auth.login_*``); each lock is audited. An administrator
    lifts a login's lock (``POST /api/users/{id}/unlock``, a new password, re-enabling it)."""
    from models.logins import find_login
    from models.passwords import verify_password

    address = request.client.host if request.client else "?"
    waits = services.throttle.waits(form.username, address)
    if waits.longest > 0:
        raise TooManyAttemptsError(waits.longest, from_address=waits.address > 0)
    user = find_login(session, form.username)  # (any case: models.logins)
    # (an unknown login costs a hash check too: the answer's time does not tell which logins exist)
    right = verify_password(user.password_hash if user is not None else _NO_USER, form.password)
    if user is None or not user.is_active or not right:
        locked = services.throttle.failed(form.username, address)
        if locked.login:
            audit(session, "system", "auth.locked", f"user:{user.id}" if user is not None else "user:?",
                  login=form.username[:100], address=address)
        if locked.address:  # (every login from there is refused meanwhile, the right ones too)
            audit(session, "system", "auth.locked", f"address:{address}"[:200], login=form.username[:100],
                  address=address, failures=services.throttle.per_address)
        if locked.login or locked.address:
            session.commit()
        raise AuthenticationError("wrong login or password")
    services.throttle.succeeded(form.username)
    claims = new_claims(user.id, user.login, str(user.role), user.courtroom_id,
                        str(user.side) if user.side else None, services.settings.auth.token_minutes * 60)
    audit(session, f"user:{user.id}:{user.login}", "auth.login", f"user:{user.id}")
    session.commit()
    return Token(access_token=issue_token(claims, services.secret),
                 expires_at=datetime.fromtimestamp(int(claims.expires_at), UTC), role=user.role)


@router.post("/logout", status_code=204, summary="Log out: this bearer token is refused from now on")
def logout(
    user: CurrentUser, session: SessionDep, services: ServicesDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> None:
    """Revoke the caller's own token, and the media links made with it. The user's other logins
    (another terminal) stay valid; an admin ends them all with ``POST /api/users/{id}/revoke-tokens``."""
    from courtroom_api.auth.revocation import revoke_token

    claims = decode_token(token or "", services.secret)  # CurrentUser verified it; read for its expiry
    purged = revoke_token(session, claims, user.actor)
    audit(session, user, "auth.logout", f"user:{user.user_id}", jti=claims.jti, purged=purged)
    session.commit()


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser, session: SessionDep) -> object:
    from models import User

    return session.get(User, user.user_id)


@router.post("/media-links", response_model=MediaLink, tags=["auth"],
             summary="A short-lived signed URL for one media file (for <audio>, <video>, <img>)")
def media_link(body: MediaLinkRequest, user: CurrentUser, services: ServicesDep) -> MediaLink:
    """Sign ``?mt=`` for exactly ``path`` (a file endpoint), bound to the caller, valid a few minutes.

    The link grants nothing beyond the caller's own access: the file endpoint applies the same
    role, case and seal checks as for a bearer request.
    """
    from courtroom_api.auth.media import check_media_path, issue_media_token, with_media_token

    path = check_media_path(body.path)
    token, expires = issue_media_token(user, path, services.settings.auth.media_link_seconds, services.secret)
    return MediaLink(path=path, url=with_media_token(path, token), expires_at=datetime.fromtimestamp(expires, UTC))
