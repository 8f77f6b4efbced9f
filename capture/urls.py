"""Stream URLs as they may be shown: without the password a camera's or encoder's URL carries.

A courtroom's network source is often ``rtsp://user:password@camera/...`` or carries a token in its
query (``?password=``, ``?token=``). Such a URL is needed to open the stream, and nowhere else: not in
an error message (it reaches alarms, the recording's manifest and its gaps, the server's log), nor in
what the audit API shows (the start's plan keeps the URL to resume the stream after a restart).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

HIDDEN = "***"
# Query keys that hold a secret (password, pwd, passwd, token, secret, apikey, auth, signature, ...).
_SECRET_KEY = re.compile(r"pass|pwd|token|secret|key|auth|sig|credential", re.IGNORECASE)
# A URL inside a message (up to a blank or a quote; its last punctuation is the message's). Also what the
# live alarms' scrubber (courtroom_api.live.events) takes for a URL.
URL_PATTERN = r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*[^\s'\":;,.)]"
_URL = re.compile(URL_PATTERN)


def shown_url(url: str) -> str:
    """``url`` without its user name and password, and with its secret query values as ``***``."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    netloc, sep, tail = _split_netloc(rest)
    netloc = netloc.rpartition("@")[2]  # after the last @: a password may hold one unescaped
    shown = f"{scheme}://{netloc}{sep}{tail}"
    try:
        parts = urlsplit(shown)
    except ValueError:  # a malformed URL: its user part is already gone
        return shown
    if not parts.query or not any(_SECRET_KEY.search(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return shown
    query = "&".join(f"{k}={HIDDEN}" if _SECRET_KEY.search(k) else f"{k}={v}"
                     for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=query))


def _split_netloc(rest: str) -> tuple[str, str, str]:
    """(authority, separator, the rest) of what follows ``scheme://``: the authority ends at the first /, ?
    or # (a password holding one must be percent-encoded; an @ in the path or query is not a user's)."""
    for i, ch in enumerate(rest):
        if ch in "/?#":
            return rest[:i], ch, rest[i + 1:]
    return rest, "", ""


def without_secrets(text: str, url: str | None = None) -> str:
    """``text`` (an error message, ffmpeg's report) with every URL in it shown by :func:`shown_url`, and
    ``url`` too where it appears as written (ffmpeg may quote it whole)."""
    if url and "://" in url:
        text = text.replace(url, shown_url(url))
    return _URL.sub(lambda m: shown_url(m.group(0)), text)
