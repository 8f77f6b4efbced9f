"""One ``courtroom serve`` a database: the lease in ``server_lease`` (models/server_lease.py).

The data directory's ``server.lock`` (cli/serve.py) cannot see a second server with a directory of its
own on the same database: it resumed the first's live hearing from 0:00 into its own recordings and
filed every transcript line twice. The lease is taken before anything starts and refreshed every
``lease_heartbeat_seconds`` by a thread of its own. A holder not seen for ``lease_stale_seconds`` is taken
to be dead; so is one on this host with this data directory, since the caller holds that directory's
lock. The directory is known by the id in its ``server.id`` file, not by its path: two containers sharing
the host's name, each with a ``/data`` of its own, are two directories (the second took the live first's
lease at once). Each take writes a new ``token``: every later write is conditional on it, so two servers racing for
a free or stale lease cannot both win, and a server whose lease was taken over finds out at its next beat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from models.base import utcnow
from models.db import session_factory
from models.server_lease import LEASE_ID, ServerLease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    """A server, as the lease names it to people."""

    host: str
    pid: int
    data_dir: str
    directory_id: str = ""

    @classmethod
    def this_process(cls, data_dir: Path) -> Holder:
        return cls(socket.gethostname(), os.getpid(), str(data_dir.resolve()), directory_id(data_dir))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, data directory {self.data_dir}"


@dataclass(frozen=True)
class Taken:
    """The lease is this server's. ``previous``: a holder taken over (None: the lease was free)."""

    token: str
    previous: Holder | None = None
    previous_seen_s: float = 0.0
    stale: bool = False  # (False with a previous holder: this server's own restart)


@dataclass(frozen=True)
class Refused:
    """Another live server holds the lease."""

    holder: Holder
    seen_s: float  # seconds since its last heartbeat


ID_NAME = "server.id"


def directory_id(data_dir: Path) -> str:
    """The data directory's id, made once (under the directory's lock, so by one server at a time)."""
    path = data_dir / ID_NAME
    with contextlib.suppress(FileNotFoundError):
        if len(known := path.read_text().strip()) == 32:
            return known
    made = uuid.uuid4().hex
    temp = path.with_name(f".{ID_NAME}.{made}")
    with temp.open("w") as f:
        f.write(made + "\n")
        f.flush()
        os.fsync(f.fileno())
    temp.replace(path)
    return made


def take(engine: Engine, me: Holder, stale_after_s: float) -> Taken | Refused:
    """Take the lease for ``me``, unless another holder was seen within ``stale_after_s``."""
    sessions = session_factory(engine, write=True)  # SQLite: BEGIN IMMEDIATE, one taker at a time
    while True:
        now, token = utcnow(), uuid.uuid4().hex
        with sessions() as session:
            row = session.get(ServerLease, LEASE_ID)
            if row is None:
                session.add(ServerLease(id=LEASE_ID, token=token, host=me.host, pid=me.pid, data_dir=me.data_dir,
                                        directory_id=me.directory_id, started_at=now, heartbeat_at=now))
                try:
                    session.commit()
                except IntegrityError:  # another server inserted it first: read what it wrote
                    continue
                return Taken(token)
            previous = Holder(row.host, row.pid, row.data_dir, row.directory_id)
            seen_s = max(0.0, (now - row.heartbeat_at).total_seconds())  # (a clock behind: just seen)
            own_restart = (row.host, row.directory_id) == (me.host, me.directory_id)
            stale = seen_s > stale_after_s
            if row.token is not None and not own_restart and not stale:
                return Refused(previous, seen_s)
            swapped = session.execute(
                update(ServerLease).where(ServerLease.id == LEASE_ID,
                                          ServerLease.token.is_not_distinct_from(row.token))
                .values(token=token, host=me.host, pid=me.pid, data_dir=me.data_dir,
                        directory_id=me.directory_id, started_at=now, heartbeat_at=now)
                .execution_options(synchronize_session=False))
            won = swapped.rowcount == 1  # type: ignore[attr-defined]
            session.commit()
        if won:
            if row.token is None:
                return Taken(token)
            return Taken(token, previous, seen_s, stale=not own_restart)
        # (another server took it between the read and the write: read again, and be refused)


def beat(engine: Engine, token: str, now: datetime | None = None) -> bool:
    """Refresh the holder's heartbeat; False when the lease is no longer ``token``'s (taken over)."""
    with session_factory(engine, write=True)() as session:
        refreshed = session.execute(update(ServerLease).where(ServerLease.id == LEASE_ID, ServerLease.token == token)
                                    .values(heartbeat_at=now or utcnow())
                                    .execution_options(synchronize_session=False))
        session.commit()
    return refreshed.rowcount == 1  # type: ignore[attr-defined]


def release(engine: Engine, token: str) -> None:
    """Free the lease at a clean stop (the row keeps the last holder, for people); a lease already taken
    over is left to its new holder."""
    with session_factory(engine, write=True)() as session:
        session.execute(update(ServerLease).where(ServerLease.id == LEASE_ID, ServerLease.token == token)
                        .values(token=None).execution_options(synchronize_session=False))
        session.commit()


class Heartbeat:
    """Refreshes the lease every ``interval_s`` on a thread of its own (the event loop may be busy), and
    calls ``on_lost`` once if another server took it over (this one stopped beating for too long)."""

    def __init__(self, engine: Engine, token: str, interval_s: float, on_lost: Callable[[], None]) -> None:
        self._engine, self._token, self._interval_s, self._on_lost = engine, token, interval_s, on_lost
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.ident is not None:  # (never started: the server failed before serving)
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                held = beat(self._engine, self._token)
            except Exception as exc:  # the database away a while: the next beat tries again
                log.warning("could not refresh this server's lease on the database: %s", exc)
                continue
            if not held:
                log.error("another server took over this database's lease (it found this one's heartbeat "
                          "stale): stopping, so that one server records the hearings")
                self._on_lost()
                return
