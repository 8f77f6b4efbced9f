"""Log in (OAuth2 password flow), log out, who am I, and media links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from courtroom_api.access import audit
from courtroom_api.auth.tokens import decode_token, issue_token, new_claims
from courtroom_api.deps import CurrentUser, ServicesDep, SessionDep, oauth2_scheme
from courtroom_api.errors import AuthenticationError
from courtroom_api.schemas import MediaLink, MediaLinkRequest, Token, UserPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=Token, summary="Log in with login and password; returns a bearer token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, services: ServicesDep) -> Token:
    from models import User
    from models.passwords import verify_password

    user = session.scalar(select(User).where(User.login == form.username))
    if user is None or not user.is_active or not verify_password(user.password_hash, form.password):
        raise AuthenticationError("wrong login or password")
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
