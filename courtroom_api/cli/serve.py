"""``courtroom serve``: run the FastAPI server with uvicorn."""

from __future__ import annotations

import argparse
import copy
import logging
import re
from typing import Any

# Credentials that travel in a URL's query: the live socket's bearer token (a browser cannot set headers
# on a WebSocket) and a media link's signed token (for <audio>, <video>, <img>).
_QUERY_CREDENTIAL = re.compile(r"([?&](?:token|mt)=)[^&\s\"]+")


class QueryCredentialFilter(logging.Filter):
    """Blanks query credentials in log records: uvicorn's access lines hold each request's URL, and
    wrote every viewer's 12-hour bearer token in clear (whoever read the log could act as the judge)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):  # the access formatter reads the URL from the arguments
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(text: str) -> str:
    return _QUERY_CREDENTIAL.sub(r"\1[redacted]", text)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with query credentials blanked on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"query_credentials": {"()": QueryCredentialFilter}}
    for handler in config["handlers"].values():
        handler["filters"] = ["query_credentials"]
    return config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web server (API, WebSockets, terminal pages)")
    p.add_argument("--host", default=None, help="bind address (default from settings: 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default from settings: 8000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from courtroom_api.app import create_app
    from courtroom_api.config import get_settings

    settings = get_settings()
    app = create_app(settings)
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port, log_level="info",
                log_config=log_config())
    return 0
