"""``courtroom serve``: run the FastAPI server with uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from courtroom_api.config import Settings

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
    from courtroom_api.server_lease import Heartbeat, release

    settings = get_settings()
    if problem := model_problem(settings):  # a setting, refused as an unknown language is
        print(f"courtroom serve: COURTROOM_TRANSCRIBE__MODEL: {problem}", file=sys.stderr)
        return 2
    if problem := model_language_problem(settings):  # every Mandarin hearing was transcribed as English
        print(f"courtroom serve: {problem}", file=sys.stderr)
        return 2
    # Said here, not as a traceback from the start-up ("Application startup failed"); before the lock, which
    # makes the data directory: a server refused for a database that is not there leaves nothing behind.
    problem = database_problem(settings.database_url)
    if problem:
        print(f"courtroom serve: {problem}", file=sys.stderr)
        return 2
    # One server a data directory, checked before anything starts: a second one's start-up resumed the
    # first's live hearing into the same recording (its chain then refused at the stop) before it found
    # the port taken.
    lock = _hold_server_lock(settings.data_dir)
    if lock is None:
        print(f"courtroom serve: another courtroom server is using {settings.data_dir.resolve()} "
              f"({LOCK_NAME} is held); stop it first, or give this one its own COURTROOM_DATA_DIR",
              file=sys.stderr)
        return 2
    # One server a database too: one with its own data directory resumed the first's live hearing into
    # its own recordings and filed every transcript line twice. Held under the lock above, so a holder on
    # this host with this data directory is a dead predecessor and is taken over at once.
    lease = _take_lease(settings)
    if lease is None:
        lock.close()
        return 2
    engine, token = lease
    lost = threading.Event()

    def stop_serving() -> None:  # the lease was taken over: this server stops as at a SIGTERM
        lost.set()
        server.should_exit = True

    heartbeat = Heartbeat(engine, token, settings.lease_heartbeat_seconds, stop_serving)
    terminated = False
    try:
        remove_abandoned_temp_files(settings)
        config = uvicorn.Config(create_app(settings), host=args.host or settings.host,
                                port=args.port or settings.port, log_level="info", log_config=log_config())
        server = uvicorn.Server(config)
        # The port is taken before the start-up runs (it resumes hearings): a port in use ends here, not after.
        sock = config.bind_socket()
        _exit_on_sigterm()
        heartbeat.start()
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    except _Terminated:
        terminated = True
    finally:
        heartbeat.stop()
        with contextlib.suppress(Exception):  # unreleased, it is stale in lease_stale_seconds anyway
            release(engine, token)
        engine.dispose()
        lock.close()
    if terminated:  # released: now end by the signal, as a service manager expects of a stop
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
    return 1 if lost.is_set() else 0


class _Terminated(BaseException):
    """The SIGTERM uvicorn raises again once it has stopped."""


def _exit_on_sigterm() -> None:
    """uvicorn raises the SIGTERM it stopped for again once stopped: by default that ended the process
    before the lease was released (the next server then waited for it to go stale). Caught as an
    exception, the ``finally`` blocks run first, then the process ends by the signal all the same."""

    def terminated(_signum: int, _frame: object) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)


def _take_lease(settings: Settings) -> tuple[Engine, str] | None:
    """The database's server lease for this process (an engine to keep it with, and its token), or None
    when another live server holds it (said on stderr)."""
    from courtroom_api.server_lease import Holder, Refused, take
    from models.db import make_engine

    engine = make_engine(settings.database_url, pool_size=1)
    outcome = take(engine, Holder.this_process(settings.data_dir), settings.lease_stale_seconds)
    if isinstance(outcome, Refused):
        engine.dispose()
        print(f"courtroom serve: another courtroom server is using this database: {outcome.holder.describe()}, "
              f"last seen {outcome.seen_s:.0f} s ago; stop it first (a server that stopped without releasing it "
              f"is taken over once not seen for {settings.lease_stale_seconds:g} s)", file=sys.stderr)
        return None
    if outcome.previous is not None and outcome.stale:
        log.warning("took over the database's server lease from %s, not seen for %.0f s (taken to be dead)",
                    outcome.previous.describe(), outcome.previous_seen_s)
    elif outcome.previous is not None:
        log.info("took over the database's server lease from this data directory's previous server (pid %s)",
                 outcome.previous.pid)
    return engine, outcome.token


LOCK_NAME = "server.lock"
log = logging.getLogger(__name__)


def remove_abandoned_temp_files(settings: Settings) -> None:
    """Remove what a server killed mid-upload left on the data disk: partial uploads and blobs, each up to
    the upload limit (a recording's, more), that nothing else would ever remove. Called holding
    ``server.lock`` before this server receives anything, so none is an upload still arriving."""
    from courtroom_api.blobstore import remove_unfiled_uploads
    from courtroom_api.evidence.upload import remove_abandoned_uploads
    from models.blobs import LocalBlobStore

    sweeps = (lambda: remove_abandoned_uploads(settings.upload_tmp_dir),
              LocalBlobStore(settings.blobs_dir).remove_abandoned, lambda: remove_unfiled_uploads(settings))
    for sweep in sweeps:
        try:
            removed = sweep()
        except OSError as exc:  # never a reason not to serve
            log.warning("at start-up: could not remove the temporary files a stopped server left: %s", exc)
            continue
        for path, size in removed:
            log.warning("at start-up: removed %s (%.1f MiB), left by a server stopped while storing it", path,
                        size / 2**20)


def model_problem(settings: Settings) -> str | None:
    """Why the live transcriber cannot have its configured model (an unknown name, a directory missing a
    file or holding a damaged one), as `courtroom models list` says it; nothing is assembled or loaded.
    A server that started with such a model answered each start, then had no transcript."""
    from transcribe.model_store import ModelStore

    t = settings.transcribe
    return ModelStore(settings.cache_dir, t.models_dir, t.model).problem(t.model)


def model_language_problem(settings: Settings) -> str | None:
    """Why the configured model cannot transcribe COURTROOM_TRANSCRIBE__LANGUAGE (or, detecting, any of
    __LANGUAGES), naming the setting; None if it can. Called once :func:`model_problem` found the model."""
    from transcribe.model_store import ModelStore, language_problem

    t = settings.transcribe
    model = ModelStore(settings.cache_dir, t.models_dir, t.model)
    problem = language_problem(t.model, model.languages(t.model), t.language, t.languages)
    setting = "COURTROOM_TRANSCRIBE__LANGUAGE" if t.language else "COURTROOM_TRANSCRIBE__LANGUAGES"
    return f"{setting}: {problem}" if problem else None


# Said where the database is not this code's: no migration of this code can start from its revision.
NOT_THIS_CODES = ("the database is newer than this code (or not a courtroom database): upgrade the code, or point "
                  "COURTROOM_DATABASE__URL at the right database")


def database_problem(url: str) -> str | None:
    """Why the server cannot use the database at ``url`` (None: it is at this code's schema). Creates
    nothing: a SQLite file that is not there is said to be missing, not made empty."""
    from sqlalchemy.engine import make_url

    from models.db import current_revision, head_revision, is_known_revision, sqlite_file

    where = make_url(url).render_as_string(hide_password=True)
    if (file := sqlite_file(url)) is not None and not file.exists():
        # The default file is ./data/courtroom.sqlite3 of wherever the command runs: one made here, empty,
        # then "run db upgrade" made an empty court beside the court's own.
        return (f"no database file at {file}: point COURTROOM_DATA_DIR (or COURTROOM_DATABASE__URL) at the "
                "court's database, or run `courtroom db upgrade` to make a new, empty one there")
    try:
        current = current_revision(url)
    except Exception as exc:  # unreachable server, a file that is not a database, no permission
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"the database {where} cannot be opened: {reason}"
    if current is None:
        return f"the database {where} is not set up: run `courtroom db upgrade` first"
    if not is_known_revision(current):  # (db upgrade said "Can't locate revision identified by …")
        return f"the database {where} is at schema revision {current}, which this code does not know: {NOT_THIS_CODES}"
    if current != head_revision():
        return (f"the database {where} is at schema revision {current}, this server needs {head_revision()}: "
                "run `courtroom db upgrade` first")
    return None


def _hold_server_lock(data_dir: Path) -> IO[bytes] | None:
    """An exclusive lock on data_dir/server.lock for the life of the process (None: another holds it).
    The kernel drops it when the process ends, however it ends."""
    import fcntl
    import os

    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_NAME, "ab+", buffering=0)  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    with contextlib.suppress(OSError):  # the pid is for people; on a full disk the lock alone will do
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
    return handle
