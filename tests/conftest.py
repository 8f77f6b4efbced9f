"""Fixtures shared by every test package.

PostgreSQL: each test session gets its own fresh database on the server named by
COURTROOM_TEST_PG_URL (default: the local trust-auth server), dropped at the end. With
COURTROOM_REQUIRE_PG=1 (set by .ci/run) an unreachable server fails the tests instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# No 256 MiB disk reserve per test server (capture/reserve.py): the tests that exercise it ask for one.
os.environ.setdefault("COURTROOM_CAPTURE__DISK_RESERVE_MB", "0")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of a reachable PostgreSQL server (maintenance database), or skip/fail."""
    url = os.environ.get("COURTROOM_TEST_PG_URL", DEFAULT_PG_URL)
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure means: no server here
        if os.environ.get("COURTROOM_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required (COURTROOM_REQUIRE_PG=1) but unreachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url}")
    return url


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    name = f"courtroom_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture(scope="session")
def whisper_model_store(tmp_path_factory: pytest.TempPathFactory):
    """The offline model store over a per-session cache directory (base is assembled there once)."""
    from transcribe.model_store import ModelStore

    cache = os.environ.get("COURTROOM_TEST_MODEL_CACHE")
    return ModelStore(Path(cache) if cache else tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def whisper_base(whisper_model_store):
    """faster-whisper ``base`` (int8, 2 CPU threads), loaded once per test session for every package."""
    from transcribe.model_store import load_model

    return load_model(whisper_model_store, "base", cpu_threads=2, compute_type="int8")


@pytest.fixture
def another_writer():  # type: ignore[no-untyped-def]
    """``with another_writer(sessions, seconds):`` — the body runs while another writer (a live hearing
    filing a final, say) holds the database's write lock for ``seconds``; it then commits."""
    import threading
    from contextlib import contextmanager

    from models.audit import append_event

    @contextmanager
    def holding(sessions, seconds: float):  # type: ignore[no-untyped-def]
        has_lock, errors = threading.Event(), []

        def holder() -> None:
            try:
                with sessions() as s:
                    append_event(s, actor="system", action="segment.file", obj="segment:0")  # takes the lock
                    has_lock.set()
                    threading.Event().wait(seconds)
                    s.commit()
            except BaseException as exc:  # asserted in the test's thread
                errors.append(exc)
                has_lock.set()

        thread = threading.Thread(target=holder)
        thread.start()
        assert has_lock.wait(10)
        try:
            yield
        finally:
            thread.join()
        assert errors == []

    return holding


@pytest.fixture
def refusing_writes():  # type: ignore[no-untyped-def]
    """``with refusing_writes(engine, table, "INSERT"|"UPDATE"):`` — the real database refuses those
    writes to ``table`` (a trigger raising, as a full disk or a failing server would) until the block ends.
    ``sqlstate`` (PostgreSQL only): the refusal's SQLSTATE, e.g. "53100", what a full disk raises."""
    from contextlib import contextmanager

    @contextmanager
    def refusing(engine, table: str, operation: str = "INSERT", sqlstate: str | None = None):  # type: ignore[no-untyped-def]
        name = f"refuse_{operation.lower()}_{table}"
        if engine.dialect.name == "sqlite":
            assert sqlstate is None, "SQLite's triggers raise no SQLSTATE"
            install = [f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                       "BEGIN SELECT RAISE(ABORT, 'the dossier refuses writes (test)'); END"]
            remove = [f"DROP TRIGGER {name}"]
        else:
            install = [f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                       "RAISE EXCEPTION 'the dossier refuses writes (test)'"
                       + (f" USING ERRCODE = '{sqlstate}'" if sqlstate else "") + "; END $$ LANGUAGE plpgsql",
                       f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"]
            remove = [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"]
        with engine.begin() as conn:
            for sql in install:
                conn.execute(text(sql))
        try:
            yield
        finally:
            with engine.begin() as conn:
                for sql in remove:
                    conn.execute(text(sql))

    return refusing


@pytest.fixture
def tmpfs():  # type: ignore[no-untyped-def]
    """``tmpfs(directory, "8m")`` mounts a real tmpfs of that size there (unmounted after the test):
    writes past it fail with ENOSPC, as on a full disk. Skips the test unless it may mount (root)."""
    import subprocess

    mounted: list[Path] = []

    def mount(directory: Path, size: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        mounted.append(directory)
        return directory

    yield mount
    for directory in mounted:
        subprocess.run(["umount", "-l", str(directory)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path, tmpfs) -> Path:  # type: ignore[no-untyped-def]
    """A real 1 MiB tmpfs."""
    return tmpfs(tmp_path / "disk", "1m")


@pytest.fixture
def fill_disk():  # type: ignore[no-untyped-def]
    """``fill_disk(directory)`` writes zeros into ``directory/filler`` until the disk refuses (ENOSPC);
    returns the filler, whose removal frees the space again."""

    def fill(directory: Path) -> Path:
        filler = directory / "filler"
        with filler.open("wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        return filler

    return fill
