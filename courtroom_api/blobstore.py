"""The blob store the API uses: the dossier's content-addressed, write-once store (``models.blobs``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from courtroom_api.config import Settings
from models.blobs import LocalBlobStore
from models.errors import BlobNotFoundError

CHUNK_BYTES = 1024 * 1024


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
