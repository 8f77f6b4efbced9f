"""Dossier test fixtures: every database test runs on a SQLite file AND on PostgreSQL.

PostgreSQL databases are created fresh per test (or per module) on the server given by the
shared ``pg_server_url`` fixture (skipped without a server, failed in CI), and dropped after.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, session_factory, upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _create_pg(server: str, name: str, template: str | None = None) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop_pg(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _new_database(
    request: pytest.FixtureRequest, backend: str, directory: Path, template: str | None = None
) -> str:
    """A database of ``backend`` (empty, or a copy of ``template``), removed after the test."""
    tag = uuid.uuid4().hex[:10]
    if backend == "sqlite":
        path = directory / f"dossier-{tag}.sqlite3"
        if template:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("pg_server_url")
    name = f"courtroom_models_{tag}"
    url = _create_pg(server, name, template)
    request.addfinalizer(lambda: _drop_pg(server, name))
    return url


@pytest.fixture(scope="session")
def migrated_templates() -> dict[str, str]:
    """Per backend, a database migrated once per session; tests get copies (fast, no DDL)."""
    return {}


def _template_for(request: pytest.FixtureRequest, backend: str) -> str:
    made: dict[str, str] = request.getfixturevalue("migrated_templates")
    if backend not in made:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("template") / "dossier.sqlite3"
            upgrade(f"sqlite:///{path}")  # the engine is disposed: WAL checkpointed into the file
            made[backend] = str(path)
        else:
            server = request.getfixturevalue("pg_server_url")
            name = f"courtroom_models_tmpl_{uuid.uuid4().hex[:8]}"
            upgrade(_create_pg(server, name))
            made[backend] = name
            request.session.config.add_cleanup(lambda: _drop_pg(server, name))
    return made[backend]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty (never migrated) database."""
    return _new_database(request, request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh database at head (a copy of the session's migrated template)."""
    return _new_database(request, request.param, tmp_path, _template_for(request, request.param))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at head shared by the tests of one module (for read-mostly tests)."""
    template = _template_for(request, request.param)
    return _new_database(request, request.param, tmp_path_factory.mktemp("dossier"), template)


@pytest.fixture
def run_sql(db_url: str) -> Iterator[Callable[[str, dict[str, object] | None], None]]:
    """Run raw SQL outside the application (the way a tamperer would), committed at once."""
    engine = make_engine(db_url)

    def run(sql: str, params: dict[str, object] | None = None) -> None:
        with engine.begin() as conn:
            conn.execute(text(sql), params or {})

    yield run
    engine.dispose()
