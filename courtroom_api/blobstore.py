"""The blob store the API uses: the dossier's content-addressed, write-once store (``models.blobs``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from courtroom_api.config import Settings
from models.blobs import LocalBlobStore
from models.errors import BlobNotFoundError

CHUNK_BYTES = 1024 * 1024
log = logging.getLogger(__name__)


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def open_blob_store(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(Path(settings.blobs_dir))


def blob_path(store: LocalBlobStore, sha256: str) -> Path:
    """Local path of a stored blob (Range responses and renditions read files)."""
    path = store.path(sha256)
    if not path.is_file():
        raise BlobNotFoundError(f"no blob {sha256}")
    return path


def hold_blob(session: Session, sha256: str) -> None:
    """Hold a blob's address until the session's transaction ends, so that filing a row that refers to the
    blob and taking the blob back (:func:`take_back`) happen one after the other, never interleaved.

    SQLite's write sessions hold the whole database already; PostgreSQL takes a transaction-level
    advisory lock on the address.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(sha256[:15], 16)})


def is_referenced(session: Session, sha256: str) -> bool:
    """Whether any row refers to the blob: an exhibit, or a recording (its file, a track, its mixdown)."""
    from models import Evidence, Recording

    refers = (select(Evidence.id).where(Evidence.blob_sha256 == sha256),
              select(Recording.id).where(Recording.blob_sha256 == sha256),
              select(Recording.id).where(cast(Recording.channel_layout, String).contains(sha256)))  # its tracks
    return any(session.scalar(query.limit(1)) is not None for query in refers)


def take_back(services: Any, sha256: str) -> None:
    """Remove a blob that a refused upload stored, unless an exhibit refers to it now (the same file filed
    by another upload meanwhile: that one checks, under :func:`hold_blob`, that its blob is still there).

    Call it only for a blob the refused upload created (it did not exist before): what was stored
    earlier (a recording's files, an exhibit's) is never touched. A failure here is logged, not raised:
    the refusal the caller is reporting matters more than a leftover file.
    """
    try:
        with services.write_sessions() as session:
            hold_blob(session, sha256)
            if not is_referenced(session, sha256):
                services.blobs.discard(sha256)
            session.commit()
    except (SQLAlchemyError, OSError):
        log.exception("could not take back blob %s of a refused upload", sha256)


def remove_unfiled_uploads(settings: Settings) -> list[tuple[Path, int]]:
    """Remove the blobs of uploads a killed server stored but never filed (each marked pending before it
    was stored: :meth:`LocalBlobStore.mark_pending`), then their markers; returns each with its size. A
    blob any row refers to (the same file filed by another upload, a recording's) is kept. Only marked
    blobs are looked at: a blob is never removed for merely seeming unused. Called holding
    ``server.lock``, so no upload is under way."""
    from models.db import make_engine, session_factory

    store = open_blob_store(settings)
    pending = store.pending()
    if not pending:
        return []
    removed = []
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, write=True)() as session:
            for sha256, markers in pending.items():
                hold_blob(session, sha256)
                path = store.path(sha256)
                if not is_referenced(session, sha256) and path.is_file():
                    size = path.stat().st_size
                    store.discard(sha256)
                    removed.append((path, size))
                for marker in markers:
                    marker.unlink(missing_ok=True)
            session.commit()
    except SQLAlchemyError as exc:  # markers kept: the next start tries again
        raise OSError(f"the dossier could not be read: {exc}") from exc
    finally:
        engine.dispose()
    return removed
