"""Sessions that write wait for another writer instead of failing with "database is locked"."""

import pytest
from sqlalchemy.exc import OperationalError

from models.audit import AuditEvent, append_event, verify_chain
from models.db import make_engine, session_factory


def test_a_write_session_that_reads_first_waits_for_the_other_writer(db_url: str, another_writer) -> None:
    engine = make_engine(db_url)
    writes = session_factory(engine, write=True)
    with another_writer(writes, 0.3), writes() as s:  # a connection new to the pool, reading before it writes
        assert s.get(AuditEvent, 10**6) is None
        append_event(s, actor="user:2", action="segment.correct", obj="segment:1")
        s.commit()
    with writes() as s:
        result = verify_chain(s)
    assert result.ok and result.events == 2
    engine.dispose()


def test_on_sqlite_a_plain_session_that_reads_first_fails_at_once(db_url: str, another_writer) -> None:
    """Why write sessions exist: SQLite refuses a deferred transaction's late write without waiting."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL waits for the row lock")
    engine = make_engine(db_url)
    with (another_writer(session_factory(engine, write=True), 0.5), session_factory(engine)() as s,
          pytest.raises(OperationalError, match="database is locked")):
        s.get(AuditEvent, 10**6)
        append_event(s, actor="user:2", action="segment.correct", obj="segment:1")
    engine.dispose()
