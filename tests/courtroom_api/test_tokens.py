"""Token verification: a verified token's claims are reused, but expiry and the signature still rule."""

import time

import pytest

from courtroom_api.auth.tokens import decode_token, issue_token, new_claims
from courtroom_api.errors import AuthenticationError

SECRET = "s" * 48


def test_a_token_that_was_valid_is_refused_once_it_expires(monkeypatch) -> None:
    token = issue_token(new_claims(7, "judge1", "judge", None, None, ttl_s=60), SECRET)
    assert decode_token(token, SECRET).user_id == 7
    assert decode_token(token, SECRET).user_id == 7  # (the second time from the verified-token cache)
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(AuthenticationError, match="expired"):
        decode_token(token, SECRET)


def test_a_token_is_only_valid_with_its_own_secret_and_unaltered() -> None:
    token = issue_token(new_claims(7, "judge1", "judge", None, None, ttl_s=60), SECRET)
    assert decode_token(token, SECRET).login == "judge1"
    with pytest.raises(AuthenticationError, match="invalid token"):
        decode_token(token, "another secret of enough length for HS256 keys")
    header, payload, signature = token.split(".")
    with pytest.raises(AuthenticationError, match="invalid token"):
        decode_token(f"{header}.{payload}.{signature[:-2]}xx", SECRET)
