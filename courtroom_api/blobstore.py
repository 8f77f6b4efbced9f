"""The blob store the API uses: the dossier's content-addressed store (``models.blobs``).

Until the dossier branch ships ``models.blobs`` this module provides a minimal write-once local
store with the same interface (put_stream → BlobRef, open, path, exists, size).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from courtroom_api.config import Settings
from models.errors import BlobNotFoundError
from models.types import BlobRef

CHUNK_BYTES = 1024 * 1024


class _LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def size(self, sha256: str) -> int:
        return self.open_path(sha256).stat().st_size

    def open_path(self, sha256: str) -> Path:
        path = self.path(sha256)
        if not path.exists():
            raise BlobNotFoundError(f"no blob {sha256}")
        return path

    def open(self, sha256: str) -> BinaryIO:
        return self.open_path(sha256).open("rb")

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".put-", dir=self.root)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            target = self.path(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(tmp, target)  # never overwrites: content-addressed and write-once
        finally:
            Path(tmp).unlink(missing_ok=True)
        return BlobRef(digest.hexdigest(), size)


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def open_blob_store(settings: Settings) -> Any:
    try:
        from models.blobs import LocalBlobStore  # type: ignore[import-not-found]
    except ImportError:
        return _LocalBlobStore(Path(settings.blobs_dir))
    return LocalBlobStore(Path(settings.blobs_dir))


def blob_path(store: Any, sha256: str) -> Path:
    """Local path of a blob (Range responses and renditions read files)."""
    if hasattr(store, "open_path"):
        return Path(store.open_path(sha256))
    path = Path(store.path(sha256))
    if not path.exists():
        raise BlobNotFoundError(f"no blob {sha256}")
    return path
