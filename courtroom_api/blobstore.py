"""The blob store the API uses: the dossier's content-addressed, write-once store (``models.blobs``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
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


def take_back(services: Any, sha256: str) -> None:
    """Remove a blob that a refused upload stored, unless an exhibit refers to it now (the same file filed
    by another upload meanwhile: that one checks, under :func:`hold_blob`, that its blob is still there).

    Call it only for a blob the refused upload created (it did not exist before): what was stored
    earlier (a recording's files, an exhibit's) is never touched. A failure here is logged, not raised:
    the refusal the caller is reporting matters more than a leftover file.
    """
    from models import Evidence

    try:
        with services.write_sessions() as session:
            hold_blob(session, sha256)
            if session.scalar(select(Evidence.id).where(Evidence.blob_sha256 == sha256).limit(1)) is None:
                services.blobs.discard(sha256)
            session.commit()
    except (SQLAlchemyError, OSError):
        log.exception("could not take back blob %s of a refused upload", sha256)
