"""The server lease: which ``courtroom serve`` records for this database (one row, or none yet).

A second server on the same database, with a data directory of its own, resumed the first's live
hearing from 0:00 and filed every transcript line twice; the lease keeps it from starting. The
logic is in ``courtroom_api.server_lease``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

LEASE_ID = 1  # the one row


class ServerLease(Base):
    """The holder of the database; ``token`` None: free (the last holder stopped cleanly)."""

    __tablename__ = "server_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str | None] = mapped_column(String(32))  # this holding's own id, changed at every take
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    data_dir: Mapped[str] = mapped_column(Text)
    # The data directory's own id (its server.id file): a path names a different directory on another
    # machine or in another container that shares the host name.
    directory_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]  # refreshed by the holder every lease_heartbeat_seconds
