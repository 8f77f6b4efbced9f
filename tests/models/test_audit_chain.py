import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from models.audit import GENESIS_HASH, AuditEvent, append_event, event_hash, verify_chain

REPO = Path(__file__).resolve().parents[2]


def _append(sessions, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with sessions.begin() as s:
            append_event(
                s,
                actor=f"user:{i % 3}",
                action="segment.correct",
                obj=f"segment:{i}",
                details={"before": "原告张三", "after": "原告张山", "i": i, "score": 0.5, "tags": ["a", "b"]},
            )


def _verify(sessions):
    with sessions() as s:
        return verify_chain(s)


def _ids(sessions) -> list[int]:
    with sessions() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_intact_chain_verifies_and_links(sessions) -> None:
    assert _verify(sessions).ok
    _append(sessions, 5)
    result = _verify(sessions)
    assert result.ok and result.events == 5
    with sessions() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[2].details["before"] == "原告张三"


def test_dates_in_details_are_stored_as_iso_text_and_other_objects_refused(sessions) -> None:
    start = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    with sessions.begin() as s:
        append_event(s, actor="user:1", action="hearing.update", obj="hearing:1",
                     details={"scheduled_start": start, "filed_on": date(2026, 11, 2), "room": None})
    with sessions() as s:
        event = s.scalars(select(AuditEvent)).one()
    assert event.details == {"scheduled_start": "2026-12-07T09:30:00+00:00", "filed_on": "2026-11-02", "room": None}
    assert _verify(sessions).ok
    with sessions.begin() as s, pytest.raises(TypeError, match="must be JSON values or dates"):
        append_event(s, actor="user:1", action="x", obj="y", details={"file": Path("/tmp/x")})


def test_edited_row_is_detected(sessions, run_sql) -> None:
    _append(sessions, 5)
    victim = _ids(sessions)[2]
    run_sql("update audit_events set actor = 'user:99' where id = :id", {"id": victim})
    result = _verify(sessions)
    assert not result.ok and result.broken_event_id == victim and "edited" in result.reason
    assert result.events == 2


def test_edited_details_are_detected(sessions, run_sql) -> None:
    _append(sessions, 3)
    victim = _ids(sessions)[1]
    run_sql("update audit_events set details = :d where id = :id", {"d": '{"before": "x"}', "id": victim})
    result = _verify(sessions)
    assert not result.ok and result.broken_event_id == victim


def test_deleted_row_is_detected(sessions, run_sql) -> None:
    _append(sessions, 5)
    ids = _ids(sessions)
    run_sql("delete from audit_events where id = :id", {"id": ids[1]})
    result = _verify(sessions)
    assert not result.ok and result.broken_event_id == ids[2] and "deleted or inserted" in result.reason


def test_deleted_last_row_is_detected(sessions, run_sql) -> None:
    _append(sessions, 4)
    ids = _ids(sessions)
    run_sql("update audit_head set last_event_id = :id", {"id": ids[-2]})  # the FK would refuse otherwise
    run_sql("delete from audit_events where id = :id", {"id": ids[-1]})
    result = _verify(sessions)
    assert not result.ok and result.broken_event_id is None and result.events == 3


def test_inserted_row_is_detected(sessions, run_sql) -> None:
    _append(sessions, 3)
    with sessions() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None
        forged_time = last.occurred_at
    # A well-formed forgery (correct prev_hash and hash) appended behind the log's back...
    forged = event_hash(last.hash, "user:7", "evidence.delete", "evidence:1", forged_time, {})
    run_sql(
        "insert into audit_events (prev_hash, hash, actor, action, object, occurred_at, details) "
        "values (:p, :h, 'user:7', 'evidence.delete', 'evidence:1', :t, '{}')",
        {"p": last.hash, "h": forged, "t": forged_time.replace(tzinfo=None)},
    )
    result = _verify(sessions)
    # ... is caught by the head: the chain now ends one event later than the log recorded.
    assert not result.ok and result.broken_event_id is None and "head" in result.reason
    assert result.events == 4


def test_inserted_row_with_bad_link_is_detected(sessions, run_sql) -> None:
    _append(sessions, 2)
    run_sql(
        "insert into audit_events (prev_hash, hash, actor, action, object, occurred_at, details) "
        "values (:p, :h, 'x', 'y', 'z', '2024-01-01 00:00:00', '{}')",
        {"p": "f" * 64, "h": "e" * 64},
    )
    result = _verify(sessions)
    assert not result.ok and result.events == 2 and "deleted or inserted" in result.reason


def test_concurrent_writers_never_fork_the_chain(sessions) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            _append(sessions, 8, start=k * 100)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = _verify(sessions)
    assert result.ok and result.events == 32


@pytest.mark.parametrize("tamper", [False, True])
def test_cli_audit_verify(sessions, run_sql, db_url: str, tamper: bool) -> None:
    _append(sessions, 3)
    if tamper:
        run_sql("update audit_events set object = 'segment:999' where id = :id", {"id": _ids(sessions)[0]})
    env = {**os.environ, "COURTROOM_DATABASE__URL": db_url}
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "audit", "verify"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if tamper:
        assert out.returncode == 1 and "BROKEN" in out.stdout and "edited" in out.stdout
    else:
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("OK") and "3 audit events" in out.stdout


def test_a_head_kept_outside_the_database_shows_the_last_events_removed(sessions, run_sql, db_url: str) -> None:
    """Delete the last events and rewrite the head row to match: the chain is intact in itself and the
    check said OK. The head it printed before, kept elsewhere and given back with --head, shows it."""
    env = {**os.environ, "COURTROOM_DATABASE__URL": db_url}

    def check(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", "audit", "verify", *extra], cwd=REPO,
                              env=env, capture_output=True, text=True)

    _append(sessions, 5)
    first = check()
    assert first.returncode == 0, first.stdout + first.stderr
    noted = first.stdout.split("head ", 1)[1].split()[0]
    assert len(noted) == 64
    assert check("--head", noted[:16].upper()).returncode == 0  # a prefix, any case
    _append(sessions, 2, start=5)
    assert check("--head", noted).returncode == 0  # grown since: still holds the noted head
    ids = _ids(sessions)
    with sessions() as s:  # the tamperer keeps 3 events and makes the head row agree with them
        third = s.get(AuditEvent, ids[2])
        keep_hash = third.hash
    run_sql("update audit_head set hash = :h, count = 3, last_event_id = :id", {"h": keep_hash, "id": ids[2]})
    run_sql("delete from audit_events where id > :id", {"id": ids[2]})
    assert check().returncode == 0  # intact in itself
    out = check("--head", noted)
    assert out.returncode == 1 and "no longer holds the head" in out.stdout, out.stdout
    assert check("--head", "xyz").returncode == 2
