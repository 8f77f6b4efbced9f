"""Engines, sessions and schema migrations for the dossier database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from models.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_OPTION = "courtroom_sqlite_begin"
POOL_OVERFLOW = 10


def make_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> Engine:
    """An engine for ``url``. SQLite: WAL, foreign keys on, busy timeout, real transactions.

    ``pool_size``: connections kept (a server: one per worker thread), with ``POOL_OVERFLOW`` more
    for threads of its own; SQLAlchemy's default (5 + 10) otherwise.

    SQLite files get their parent directory created. pysqlite's own transaction handling is
    switched off and an explicit ``BEGIN`` is emitted instead, so that reads are inside the
    transaction and SAVEPOINTs work (the recipe from SQLAlchemy's SQLite dialect docs).
    """
    parsed = make_url(url)
    memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    pool: dict[str, Any] = {}
    if pool_size is not None and not memory:  # (an in-memory database has one connection per thread)
        pool = {"pool_size": pool_size, "max_overflow": POOL_OVERFLOW}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True, **pool)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pool)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _casefold_contains(text: str | None, term: str | None) -> bool:
    return text is not None and term is not None and term.casefold() in text.casefold()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: durable up to the last checkpoint
    # SQLite's LIKE folds ASCII letters only: search checks other cased letters (é, Д, Σ) with this
    dbapi_connection.create_function("casefold_contains", 2, _casefold_contains, deterministic=True)
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit.

    ``write=True``: for sessions that write. On SQLite each of their transactions starts with ``BEGIN
    IMMEDIATE``: a deferred transaction that has read anything (a fresh connection reads the schema
    first) fails at once with "database is locked" when another writer holds the lock, where an
    immediate one waits for it (up to the busy timeout). On PostgreSQL nothing changes.
    """
    if write and engine.dialect.name == "sqlite":
        return sessionmaker(bind=engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}),
                            expire_on_commit=False)
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def one_snapshot(session: Session) -> Iterator[Session]:
    """A session whose reads all see the database at one moment, for an answer made of several queries
    (the audit chain against its head; signatures against the record they signed).

    PostgreSQL's READ COMMITTED gives each statement its own snapshot, so a change committed between two
    of them made an untouched chain or record look altered: a fresh REPEATABLE READ session there. On
    SQLite every read of a session is inside one ``BEGIN``, which is one snapshot already.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield session
        return
    # The session's own transaction ends first (its callers have nothing pending: they read, or committed
    # already): held open, each such request took two pooled connections, and a burst of them emptied the
    # pool (15 record reads at once: 12 failed after 30 s).
    session.commit()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with Session(bind=engine.execution_options(isolation_level="REPEATABLE READ")) as snapshot:
        yield snapshot


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave the hand-written, per-dialect search objects out of comparisons."""
    if type_ == "table" and name and "_fts" in name:
        return False
    if type_ == "index" and name and name.endswith(("_trgm", "_tsv", "_brin")):
        return False
    return not (type_ == "column" and name == "search_tsv")


def alembic_config() -> Config:
    """Alembic configuration built in code: works from an installed package, whatever the cwd."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run(url: str, action: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    except MigrationError:
        raise
    except Exception as exc:  # any driver or DDL failure: report it as a migration failure
        raise MigrationError(
            f"{action} to {revision!r} failed on {make_url(url).get_backend_name()}: {exc}"
        ) from exc
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    _run(url, "upgrade", revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base`` removes everything)."""
    _run(url, "downgrade", revision)


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url``, absolute (None: another database, or one in memory). A relative one
    is relative to the working directory, as the driver opens it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations: a newer code's (or another application's
    Alembic revision) is not, and no upgrade or downgrade of this code can start from it."""
    from alembic.script import ScriptDirectory

    return any(script.revision == revision
               for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def head_revision() -> str:
    """The revision this code's models need (the migrations' head)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
