"""Sessions that write wait for another writer instead of failing with "database is locked"."""

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models.audit import AuditEvent, append_event, verify_chain
from models.db import make_engine, session_factory


def _hold_the_write_lock(sessions: Callable[[], Session], seconds: float) -> tuple[threading.Thread, list[BaseException]]:
    """Another writer (a live hearing filing a final, say) in the middle of its transaction."""
    has_lock, errors = threading.Event(), []

    def holder() -> None:
        try:
            with sessions() as s:
                append_event(s, actor="system", action="segment.file", obj="segment:1")  # takes the write lock
                has_lock.set()
                threading.Event().wait(seconds)
                s.commit()
        except BaseException as exc:  # asserted in the test thread
            errors.append(exc)
            has_lock.set()

    thread = threading.Thread(target=holder)
    thread.start()
    assert has_lock.wait(10)
    return thread, errors


def test_a_write_session_that_reads_first_waits_for_the_other_writer(db_url: str) -> None:
    engine = make_engine(db_url)
    writes = session_factory(engine, write=True)
    holder, errors = _hold_the_write_lock(writes, 0.3)
    with writes() as s:  # a connection new to the pool, reading before it writes, as a clerk's correction does
        assert s.get(AuditEvent, 10**6) is None
        append_event(s, actor="user:2", action="segment.correct", obj="segment:1")
        s.commit()
    holder.join()
    assert errors == []
    with writes() as s:
        result = verify_chain(s)
    assert result.ok and result.events == 2
    engine.dispose()


def test_on_sqlite_a_plain_session_that_reads_first_fails_at_once(db_url: str) -> None:
    """Why write sessions exist: SQLite refuses a deferred transaction's late write without waiting."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL waits for the row lock")
    engine = make_engine(db_url)
    holder, errors = _hold_the_write_lock(session_factory(engine, write=True), 0.5)
    with session_factory(engine)() as s, pytest.raises(OperationalError, match="database is locked"):
        s.get(AuditEvent, 10**6)
        append_event(s, actor="user:2", action="segment.correct", obj="segment:1")
    holder.join()
    assert errors == []
    engine.dispose()
