"""Ending logins before their tokens expire: one token (logout) or every token of a user (revoke-tokens).

The check runs where the caller is loaded (:func:`courtroom_api.deps._load_principal`), inside the
one select that reads the user on every request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.orm import Session

from courtroom_api.auth.tokens import TokenClaims
from models.base import utcnow

if TYPE_CHECKING:
    from models import User


def revoke_token(session: Session, claims: TokenClaims, actor: str) -> int:
    """List the token as revoked until it would expire; returns how many expired revocations were purged.

    Rows of tokens past their expiry guard nothing (the signature check refuses those tokens), so
    each logout deletes them: the table stays as small as the number of live, logged-out tokens.
    """
    from models import RevokedToken

    expired = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    purged = expired.rowcount  # type: ignore[attr-defined]
    if session.get(RevokedToken, claims.jti) is None:
        session.add(RevokedToken(jti=claims.jti, user_id=claims.user_id, revoked_by=actor,
                                 expires_at=datetime.fromtimestamp(claims.expires_at, UTC)))
    return int(purged)


def revoke_all_tokens(user: User) -> datetime:
    """Refuse every token of ``user`` issued before now; returns that moment.

    A new login after it works; a disabled user is refused anyway (``is_active``).
    """
    now = utcnow()
    user.tokens_valid_after = now
    return now
