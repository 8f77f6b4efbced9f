"""Signed access tokens (JWT, HS256). The secret comes from settings or is generated on first run."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
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
    expires_at: float


def issue_token(claims: TokenClaims, secret: str) -> str:
    payload = {
        "sub": str(claims.user_id),
        "login": claims.login,
        "role": claims.role,
        "courtroom": claims.courtroom_id,
        "side": claims.side,
        "iat": int(time.time()),
        "exp": int(claims.expires_at),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> TokenClaims:
    """Verify signature and expiry; raises :class:`AuthenticationError`."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
        return TokenClaims(
            user_id=int(payload["sub"]),
            login=str(payload.get("login", "")),
            role=str(payload.get("role", "")),
            courtroom_id=payload.get("courtroom"),
            side=payload.get("side"),
            expires_at=float(payload["exp"]),
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("token expired; log in again") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc
