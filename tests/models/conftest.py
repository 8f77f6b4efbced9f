"""Dossier test fixtures: every database test runs on a SQLite file AND on PostgreSQL.

PostgreSQL databases are created fresh per test (or per module) on the server given by the
shared ``pg_server_url`` fixture (skipped without a server, failed in CI), and dropped after.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, session_factory, upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _new_database(request: pytest.FixtureRequest, backend: str, directory: Path) -> str:
    """An empty database of ``backend``, removed when the requesting fixture ends."""
    if backend == "sqlite":
        return f"sqlite:///{directory / f'dossier-{uuid.uuid4().hex[:8]}.sqlite3'}"
    server = request.getfixturevalue("pg_server_url")
    name = f"courtroom_models_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty (never migrated) database."""
    return _new_database(request, request.param, tmp_path)


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """URL of a database migrated to head."""
    upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database shared by the tests of one module (for read-only tests)."""
    url = _new_database(request, request.param, tmp_path_factory.mktemp("dossier"))
    upgrade(url)
    return url


@pytest.fixture
def run_sql(db_url: str) -> Iterator[Callable[[str, dict[str, object] | None], None]]:
    """Run raw SQL outside the application (the way a tamperer would), committed at once."""
    engine = make_engine(db_url)

    def run(sql: str, params: dict[str, object] | None = None) -> None:
        with engine.begin() as conn:
            conn.execute(text(sql), params or {})

    yield run
    engine.dispose()
