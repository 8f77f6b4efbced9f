"""Alembic environment of the dossier database.

Normally driven by :mod:`models.db`, which passes an open connection in
``config.attributes["connection"]``; the ``alembic`` command line works too, given
``-x url=...`` or ``sqlalchemy.url`` in the ini file.
"""

from __future__ import annotations

from alembic import context

from models import Base
from models.db import include_object, make_engine

config = context.config
target_metadata = Base.metadata


def _run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or use `courtroom db upgrade`")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
