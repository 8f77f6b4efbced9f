"""Log in (OAuth2 password flow) and who am I."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from courtroom_api.access import audit
from courtroom_api.auth.tokens import TokenClaims, issue_token
from courtroom_api.deps import CurrentUser, ServicesDep, SessionDep
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
    expires = time.time() + services.settings.auth.token_minutes * 60
    claims = TokenClaims(user.id, user.login, str(user.role), user.courtroom_id,
                         str(user.side) if user.side else None, expires)
    audit(session, f"user:{user.id}:{user.login}", "auth.login", f"user:{user.id}")
    session.commit()
    return Token(access_token=issue_token(claims, services.secret),
                 expires_at=datetime.fromtimestamp(expires, UTC), role=user.role)


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
    token, expires = issue_media_token(user.user_id, path, services.settings.auth.media_link_seconds, services.secret)
    return MediaLink(path=path, url=with_media_token(path, token), expires_at=datetime.fromtimestamp(expires, UTC))
