"""Streamed uploads: to a temp file, sha256 while streaming, size limit, type check before storing.

Nothing reaches the blob store until the whole file has arrived, matched its claimed type and
passed the deep check; on any failure the temp file is removed, so nothing is half-stored. What a
server killed mid-upload left is removed when the next one starts (:func:`remove_abandoned_uploads`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from courtroom_api.errors import StorageFullError, UploadTooLargeError
from courtroom_api.evidence.sniff import SNIFF_BYTES, FileType, audio_alone, resolve_type
from courtroom_api.evidence.validate import validate
from models.errors import is_disk_full

UPLOAD_PREFIX = "upload-"


@dataclass(frozen=True, slots=True)
class StagedUpload:
    """A complete, checked upload waiting in a temp file to be moved into the blob store."""

    path: Path
    sha256: str
    size: int
    file_type: FileType

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


async def _receive(chunks: AsyncIterator[bytes], fd: int, limit_bytes: int) -> tuple[str, int, bytes]:
    digest, size, head = hashlib.sha256(), 0, b""
    async for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        if size > limit_bytes:
            raise UploadTooLargeError(limit_bytes)
        digest.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        os.write(fd, chunk)
    return digest.hexdigest(), size, head


async def stage_upload(
    chunks: AsyncIterator[bytes], *, claimed_mime: str | None, filename: str | None, limit_bytes: int, tmp_dir: Path
) -> StagedUpload:
    """Receive, hash, sniff and validate an upload; raises and leaves nothing behind on failure."""
    import asyncio

    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=UPLOAD_PREFIX, dir=tmp_dir)
    path = Path(name)
    try:
        try:
            sha256, size, head = await _receive(chunks, fd, limit_bytes)
            os.fsync(fd)
        finally:
            os.close(fd)
        file_type = resolve_type(head, claimed_mime, filename)
        # Decoding a large file is CPU work: keep it off the event loop.
        file_type = await asyncio.to_thread(validate, path, file_type, audio_alone(file_type, claimed_mime))
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if is_disk_full(exc):
            cause = os.strerror(getattr(exc, "errno", errno.ENOSPC))
            raise StorageFullError(f"the server's upload space is full ({cause}); nothing was stored; "
                                   "upload again once space is freed") from exc
        raise
    return StagedUpload(path=path, sha256=sha256, size=size, file_type=file_type)


def remove_abandoned_uploads(tmp_dir: Path) -> list[tuple[Path, int]]:
    """Remove the partial uploads in ``tmp_dir`` (each up to the upload limit) that a server killed while
    receiving them left; returns each with its size. Only for a server's start-up, before it receives
    anything and under its ``server.lock``: only a server receives uploads, one server a data directory,
    so none of these is still arriving."""
    removed = []
    for path in sorted(tmp_dir.glob(f"{UPLOAD_PREFIX}*")):
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append((path, size))
    return removed
