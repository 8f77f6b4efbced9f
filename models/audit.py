"""The append-only, hash-chained audit log.

Each event stores ``prev_hash`` (the previous event's hash; 64 zeros for the first) and its own
``hash`` = sha256 over a canonical JSON serialisation of (prev_hash, actor, action, object, time,
details). A one-row ``audit_head`` table holds the hash and count of the last event: appenders
lock that row first (an UPDATE takes the row lock on PostgreSQL and the database write lock on
SQLite), so concurrent writers are serialised and can never fork the chain, and deleting or
adding rows at the end of the chain is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.dossier import ID
from models.errors import AuditError
from models.types import AuditVerification

GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditEvent(Base):
    """One audited action. Never updated or deleted by the application."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    # unique: two events can never claim the same predecessor (no forks, even if locking failed).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    actor: Mapped[str] = mapped_column(String(200))  # e.g. "user:12" or "system"
    action: Mapped[str] = mapped_column(String(100), index=True)  # e.g. "segment.correct"
    object: Mapped[str] = mapped_column(String(200), index=True)  # e.g. "segment:345"
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditHead(Base):
    """The single row naming the last event of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_events.id", ondelete="RESTRICT"))
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    count: Mapped[int] = mapped_column(Integer, default=0)


def canonical_time(moment: datetime) -> str:
    """The time as hashed: UTC ISO-8601 with microseconds (what both databases store exactly)."""
    if moment.tzinfo is None:
        raise AuditError("audit times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str, actor: str, action: str, obj: str, occurred_at: datetime, details: Mapping[str, Any]
) -> str:
    """sha256 hex of the canonical serialisation of one event."""
    payload = {
        "prev_hash": prev_hash,
        "actor": actor,
        "action": action,
        "object": obj,
        "time": canonical_time(occurred_at),
        "details": details,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _iso_or_refuse(value: object) -> str:
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"audit details must be JSON values or dates, not {type(value).__name__}")


def lock_chain(session: Session) -> None:
    """Take the chain's write lock in the session's transaction (held until it ends; taking it again
    is a no-op). A decision that an audited event can overturn (is the record signed?) is made under
    it, so the event cannot be committed between the decision and the change it allows."""
    locked = session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=AuditHead.hash))
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        raise AuditError("audit_head row missing: run `courtroom db upgrade`")


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    obj: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the session's transaction (it is chained when the caller commits).

    Holds the chain's write lock until the caller's transaction ends, so keep that short. On
    SQLite, a session that reads before it appends should be a write session
    (``models.db.session_factory(engine, write=True)``), or a concurrent writer makes the append fail
    as "locked".
    """
    lock_chain(session)
    # Unpacked rather than row.count: Row is a tuple, whose .count is a method.
    head_hash, head_count = session.execute(
        select(AuditHead.hash, AuditHead.count).where(AuditHead.id == HEAD_ID)
    ).one()
    # A JSON-safe copy: dates and times (a hearing's schedule, a case's filing date) as ISO 8601 text.
    details_json = json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=_iso_or_refuse))
    now = utcnow()
    digest = event_hash(head_hash, actor, action, obj, now, details_json)
    event = AuditEvent(
        prev_hash=head_hash,
        hash=digest,
        actor=actor,
        action=action,
        object=obj,
        occurred_at=now,
        details=details_json,
    )
    session.add(event)
    session.flush()
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(hash=digest, count=head_count + 1, last_event_id=event.id)
    )
    return event


def verify_chain(session: Session, batch_size: int = 5000, noted_head: str | None = None) -> AuditVerification:
    """Re-hash every event in order; report the first edited, deleted or inserted row.

    ``noted_head``: a head hash noted outside the database before (printed by an earlier check, at least
    16 hex digits). The chain must still hold it: the last events deleted *and* the head row rewritten to
    match leave a chain that is intact in itself, which only a head kept elsewhere shows.
    """
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return AuditVerification(ok=False, events=0, reason="audit_head row missing")
    noted = noted_head.lower() if noted_head else None
    found_noted = noted is None or noted == GENESIS_HASH[: len(noted)]
    expected_prev, count = GENESIS_HASH, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size))
    for event in rows.scalars():
        if event.prev_hash != expected_prev:
            return AuditVerification(
                False,
                count,
                event.id,
                "prev_hash does not match the previous event (row deleted or inserted)",
            )
        recomputed = event_hash(
            event.prev_hash, event.actor, event.action, event.object, event.occurred_at, event.details
        )
        if recomputed != event.hash:
            return AuditVerification(False, count, event.id, "hash mismatch: the event was edited")
        expected_prev, count = event.hash, count + 1
        found_noted = found_noted or event.hash.startswith(noted or "")
    if not found_noted:
        return AuditVerification(False, count, None, f"the chain no longer holds the head {noted_head} noted "
                                                     "earlier: its last events were removed or rewritten")
    if head.hash != expected_prev or head.count != count:
        return AuditVerification(
            False,
            count,
            None,
            f"chain ends at {expected_prev[:12]}… after {count} events but the head says "
            f"{head.hash[:12]}… after {head.count}: events deleted or appended outside the log",
        )
    return AuditVerification(True, count)
