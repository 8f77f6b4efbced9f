"""One `courtroom serve` a database, whatever its data directory: real servers on a SQLite file and on
PostgreSQL. A second server with its own COURTROOM_DATA_DIR started without complaint, resumed the
first's live hearing from 0:00 into its own recordings and filed every transcript line twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from live_server import ROOT, LiveServer, free_port
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database: a SQLite file, or a PostgreSQL database dropped after the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'court.sqlite3'}"
    server = request.getfixturevalue("pg_server_url")
    name = f"courtroom_lease_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _server(tmp_path: Path, name: str, url: str, heartbeat_s: float = 5.0) -> LiveServer:
    (tmp_path / name).mkdir(exist_ok=True)
    return LiveServer(tmp_path / name, url, extra_env={"COURTROOM_LEASE_HEARTBEAT_SECONDS": str(heartbeat_s)})


def _refused(srv: LiveServer) -> str:
    """Run `courtroom serve` for ``srv``, which must exit 2 at once; its stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "courtroom_api.cli", "serve", "--port", str(free_port())],
                            env=srv.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("a second server on the same database started")
    assert proc.returncode == 2 and "Traceback" not in err, err
    return err


def test_a_second_server_on_the_database_is_refused_until_the_first_stops(database: str, tmp_path: Path) -> None:
    first, second = _server(tmp_path, "a", database), _server(tmp_path, "b", database)
    assert first.cli("db", "upgrade").returncode == 0
    first.start()
    try:
        err = _refused(second)
        assert err.startswith("courtroom serve: another courtroom server is using this database: pid "), err
        assert f"data directory {(tmp_path / 'a').resolve()}, last seen " in err, err
        assert not (tmp_path / "b" / "recordings").exists()  # refused before anything started
        proc = first.proc
        first.stop()  # a clean stop frees the lease: the next server need not wait for it to go stale
        # …and the process still ends by the signal, as a service manager expects of a stop (exit 143 is a
        # failure to systemd unless told otherwise)
        assert proc is not None and proc.returncode == -signal.SIGTERM, proc.returncode if proc else None
        second.start()
    finally:
        first.stop()
        second.stop()


def test_a_dead_servers_lease_is_taken_over_at_its_restart_or_once_stale(database: str, tmp_path: Path) -> None:
    first = _server(tmp_path, "a", database, heartbeat_s=1)
    assert first.cli("db", "upgrade").returncode == 0
    first.start()
    first.kill()  # a power cut: the lease is not released
    first.start()  # the same data directory on the same host: its own dead predecessor, taken over at once
    first.kill()
    killed = time.monotonic()
    # Another data directory, while the dead server's last heartbeat is fresh: refused.
    assert "last seen " in _refused(_server(tmp_path, "b", database))
    time.sleep(max(0.0, killed + 3.5 - time.monotonic()))
    third = _server(tmp_path, "c", database, heartbeat_s=1)  # a holder not seen for 3 beats is dead
    third.start()
    try:
        log = (third.data_dir / "server.log").read_text()
        assert "took over the database's server lease from pid " in log and "not seen for" in log, log
        # A server whose lease another took over (it was not seen for too long) stops by itself.
        engine = create_engine(database)
        with engine.begin() as conn:
            conn.execute(text("UPDATE server_lease SET token = 'someone-else'"))
        engine.dispose()
        assert third.proc is not None and third.proc.wait(30) == 1
        assert "another server took over this database's lease" in (third.data_dir / "server.log").read_text()
    finally:
        third.stop()


def test_a_directory_at_the_same_path_on_another_machine_is_not_a_restart(database: str, tmp_path: Path) -> None:
    """Two containers sharing the host's name, each with a /data of its own: the second took the live
    first's lease at once (the same host, the same path: taken for the first's own restart), and the
    first stopped. A data directory is known by its server.id, not by its path."""
    from courtroom_api.server_lease import Holder, Refused, Taken, take
    from models.db import make_engine, upgrade

    upgrade(database)
    engine = make_engine(database)
    try:
        (here := tmp_path / "data").mkdir()
        first = Holder.this_process(here)
        assert Holder.this_process(here).directory_id == first.directory_id  # kept in the directory
        assert isinstance(take(engine, first, stale_after_s=60), Taken)
        # Another machine's /data, at the same path, under the same host name: its own server.id.
        other = Holder(first.host, first.pid + 1, first.data_dir, directory_id="0" * 32)
        refused = take(engine, other, stale_after_s=60)
        assert isinstance(refused, Refused) and refused.holder.pid == first.pid
        restarted = take(engine, Holder.this_process(here), stale_after_s=60)  # this directory's own restart
        assert isinstance(restarted, Taken) and not restarted.stale and restarted.previous is not None
    finally:
        engine.dispose()
