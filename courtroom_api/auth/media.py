"""Short-lived media links: a signed ``?mt=`` token that lets ``<audio>``, ``<video>`` and ``<img>``
load one file endpoint without the bearer header (those elements cannot send it).

A media token names the user, the exact URL path it opens and an expiry of a few minutes. It is
signed with a key derived from the server secret, so it is never accepted as a bearer token, and a
bearer token is never accepted as a media token. The endpoint it opens still loads the user from
the database and applies the same role, case-scope and seal checks as for a bearer request.

A link also carries the login it was made from (the bearer token's ``jti`` as ``sid`` and its
``iat`` as ``auth_time``) and is checked as that token would be: a logout or an admin's
revoke-tokens ends the links made from it at once, not minutes later. The link's own ``iat``
would not do: it is later than the login, so revoke-tokens would miss links made just before it,
and a logout (one jti) would miss them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

import jwt

from courtroom_api.auth.policy import Principal
from courtroom_api.errors import AuthenticationError, ValidationFailedError

ALGORITHM = "HS256"
TOKEN_TYPE = "media"
MEDIA_PARAM = "mt"
_ID = r"[1-9][0-9]{0,15}"
# The file endpoints a media link may open; everything else is refused when the link is made.
MEDIA_PATHS = tuple(re.compile(p) for p in (
    rf"/api/evidence/{_ID}/content",
    rf"/api/evidence/{_ID}/rendition",
    rf"/api/evidence/{_ID}/pages/[0-9]{{1,6}}",
    rf"/api/evidence/{_ID}/tiles/[0-9]{{1,6}}/[0-9]{{1,6}}/[0-9]{{1,6}}",
    rf"/api/recordings/{_ID}/audio",
    rf"/api/recordings/{_ID}/mixdown",
    rf"/api/recordings/{_ID}/tracks/[A-Za-z0-9_.-]{{1,64}}",
    rf"/api/hearings/{_ID}/play",
    rf"/api/hearings/{_ID}/excerpt",
))


@dataclass(frozen=True, slots=True)
class MediaClaims:
    user_id: int
    path: str
    expires_at: float
    token_id: str  # jti of the bearer token the link was made with
    token_issued_at: float  # and its iat


def media_key(secret: str) -> bytes:
    """A key of its own for media links, derived from the server secret (domain separation)."""
    return hmac.new(secret.encode(), b"courtroom media link v1", hashlib.sha256).digest()


def check_media_path(path: str) -> str:
    """``path`` must be one of the file endpoints (no query, no fragment)."""
    if not any(p.fullmatch(path) for p in MEDIA_PATHS):
        raise ValidationFailedError(f"no media link can be made for {path!r}: not a media file endpoint")
    return path


def issue_media_token(user: Principal, path: str, ttl_s: float, secret: str) -> tuple[str, float]:
    """Sign a link for ``path``, bound to ``user`` and its login; returns the token and its expiry (epoch s)."""
    expires = time.time() + ttl_s
    payload = {"sub": str(user.user_id), "typ": TOKEN_TYPE, "path": path, "exp": int(expires),
               "sid": user.token_id, "auth_time": round(user.token_issued_at, 6)}
    return jwt.encode(payload, media_key(secret), algorithm=ALGORITHM), float(int(expires))


def decode_media_token(token: str, path: str, secret: str) -> MediaClaims:
    """Verify signature, expiry and that the token was made for exactly ``path``."""
    try:
        payload = jwt.decode(token, media_key(secret), algorithms=[ALGORITHM],
                             options={"require": ["sub", "exp", "path", "typ", "sid", "auth_time"]})
        claims = MediaClaims(user_id=int(payload["sub"]), path=str(payload["path"]),
                             expires_at=float(payload["exp"]), token_id=str(payload["sid"]),
                             token_issued_at=float(payload["auth_time"]))
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("media link expired; ask for a new one") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise AuthenticationError(f"invalid media link: {exc}") from exc
    if payload.get("typ") != TOKEN_TYPE or claims.path != path:
        raise AuthenticationError("this media link is for another file")
    return claims


def with_media_token(path: str, token: str) -> str:
    return f"{path}?{MEDIA_PARAM}={token}"
