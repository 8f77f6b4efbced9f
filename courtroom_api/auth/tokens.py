"""Signed access tokens (JWT, HS256). The secret comes from settings or is generated on first run.

Each token has a unique ``jti`` (a logout revokes that one token) and an ``iat`` with microseconds
(an admin's revoke-tokens refuses every token issued before that moment, and a login in the same
second after it must still work).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt

from courtroom_api.config import Settings
from courtroom_api.errors import AuthenticationError

ALGORITHM = "HS256"
SECRET_FILE = "auth-secret.key"


def load_secret(settings: Settings) -> str:
    """``settings.auth.secret_key``, or a random key kept in ``data_dir`` (created 0600 on first run)."""
    if settings.auth.secret_key:
        return settings.auth.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    login: str
    role: str
    courtroom_id: int | None
    side: str | None
    expires_at: float  # epoch seconds
    jti: str  # unique per token: what a logout revokes
    issued_at: float  # epoch seconds, microseconds kept


def new_claims(user_id: int, login: str, role: str, courtroom_id: int | None, side: str | None,
               ttl_s: float) -> TokenClaims:
    """Claims of a fresh token: a new ``jti``, issued now, expiring ``ttl_s`` from now."""
    now = time.time()
    return TokenClaims(user_id, login, role, courtroom_id, side, expires_at=now + ttl_s,
                       jti=secrets.token_urlsafe(16), issued_at=now)


def issue_token(claims: TokenClaims, secret: str) -> str:
    payload = {
        "sub": str(claims.user_id),
        "login": claims.login,
        "role": claims.role,
        "courtroom": claims.courtroom_id,
        "side": claims.side,
        "jti": claims.jti,
        "iat": round(claims.issued_at, 6),
        "exp": int(claims.expires_at),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> TokenClaims:
    """Verify signature and expiry; raises :class:`AuthenticationError`.

    Whether the token was revoked is for the caller to check against the database.
    """
    claims = _verified(token, secret)
    if claims.expires_at <= time.time():
        raise AuthenticationError("token expired; log in again")
    return claims


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> TokenClaims:
    """The claims of a token whose signature checked out, kept per token string: every request of a
    session carries the same token, and PyJWT's decode (~0.1 ms) is a fair share of a short request.
    Only valid signatures are kept (an exception is not cached); expiry is checked on every use."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM],
                             options={"require": ["sub", "exp", "jti", "iat"]})
        return TokenClaims(
            user_id=int(payload["sub"]),
            login=str(payload.get("login", "")),
            role=str(payload.get("role", "")),
            courtroom_id=payload.get("courtroom"),
            side=payload.get("side"),
            expires_at=float(payload["exp"]),
            jti=str(payload["jti"]),
            issued_at=float(payload["iat"]),
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("token expired; log in again") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc
