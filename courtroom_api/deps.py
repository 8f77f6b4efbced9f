"""FastAPI dependencies as typed ``Annotated`` aliases: ``SessionDep``, ``CurrentUser``, ``ServicesDep``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from courtroom_api.auth.policy import Principal
from courtroom_api.auth.tokens import decode_token
from courtroom_api.errors import AuthenticationError
from courtroom_api.services import Services

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_services(request: Request) -> Services:
    # async: a plain attribute read must not cost a worker-thread hop on every request
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """One session per request; the route commits what it changes."""
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def principal_from_token(token: str | None, services: Services, session: Session) -> Principal:
    """Verify the token and load the (still active) user it names."""
    if not token:
        raise AuthenticationError("not authenticated: log in at /api/auth/token")
    claims = decode_token(token, services.secret)
    return _load_principal(session, claims.user_id)


def _load_principal(session: Session, user_id: int) -> Principal:
    from models import User

    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("the token's user no longer exists or is disabled")
    return Principal(
        user_id=user.id,
        login=user.login,
        role=str(user.role),
        display_name=user.display_name,
        courtroom_id=user.courtroom_id,
        side=str(user.side) if user.side else None,
    )


def current_user(
    services: ServicesDep, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    return principal_from_token(token, services, session)


CurrentUser = Annotated[Principal, Depends(current_user)]


def media_user(
    request: Request, services: ServicesDep, session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    mt: Annotated[str | None, Query(max_length=2000, description="signed media link token "
                                    "(POST /api/media-links); valid only for this exact path")] = None,
) -> Principal:
    """The bearer token, or else a media link token made for exactly this request's path."""
    from courtroom_api.auth.media import decode_media_token

    if token or not mt:
        return principal_from_token(token, services, session)
    claims = decode_media_token(mt, request.url.path, services.secret)
    return _load_principal(session, claims.user_id)


# File endpoints that <audio>, <video> and <img> load: bearer header or ``?mt=`` media link.
MediaUser = Annotated[Principal, Depends(media_user)]


# Database ids fit a signed 64-bit integer (and JavaScript's safe integers); larger path values are a 422.
MAX_ID = 2**53 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
SmallPath = Annotated[int, Path(ge=0, le=100_000)]
