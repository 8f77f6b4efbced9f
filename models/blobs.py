"""Content-addressed, write-once blob store (evidence files, finalized recordings).

Blobs are addressed by the sha256 of their content. The local store keeps them under
``root/ab/cd/<sha256>``; a new blob is streamed into a temporary file under ``root/tmp``, fsynced,
then hard-linked into place, so a reader never sees a partial file and an existing blob is never
overwritten. The temporary file is locked while it is written, so that what a process killed mid-write
left can be told from a write in progress and removed (:meth:`LocalBlobStore.remove_abandoned`). A
blob is removed only when nothing refers to it (what a refused upload stored). Object storage (S3 with
object lock) can implement the same protocol later.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

from models.errors import BlobError, BlobNotFoundError, BlobStoreFullError, BlobTooLargeError, is_disk_full
from models.types import BlobRef

_SHA256 = re.compile(r"[0-9a-f]{64}")
INCOMING = "incoming-"  # a temporary file's name: a blob being written
PENDING = "pending"  # markers of blobs stored for a row not yet committed (an upload's exhibit)


class BlobStore(Protocol):
    """What the rest of the system may do with blobs: create, read, ask. Never overwrite."""

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        """Store the concatenated ``chunks``; the same content always gives the same ref."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for binary reading; BlobNotFoundError if absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """True if a blob with this address is stored."""
        ...

    def size(self, sha256: str) -> int:
        """Size in bytes of a stored blob; BlobNotFoundError if absent."""
        ...


class LocalBlobStore:
    """Blobs as read-only files under ``root``; ``max_bytes`` bounds one blob (None: no bound)."""

    def __init__(self, root: Path, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._tmp = self.root / "tmp"
        self._pending = self.root / PENDING

    def path(self, sha256: str) -> Path:
        """Where the blob with this address lives (whether or not it exists)."""
        if not _SHA256.fullmatch(sha256):
            raise BlobNotFoundError(f"not a sha256 address: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).is_file()
        except BlobNotFoundError:
            return False

    def size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {sha256}") from None

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {sha256}") from None

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data`` (convenience over :meth:`put_stream`)."""
        return self.put_stream([data])

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = self._new_temp()
        try:
            digest, size = self._write(fd, chunks)
            ref = BlobRef(sha256=digest, size=size)
            self._link_into_place(tmp, ref)
            return ref
        except OSError as exc:
            if is_disk_full(exc):
                raise BlobStoreFullError(f"the blob store is full ({exc.strerror}); nothing was stored; "
                                         "try again once space is freed") from exc
            raise
        finally:
            tmp.unlink(missing_ok=True)  # after a successful link the blob has its own name
            os.close(fd)  # (its lock with it: the name is gone first)

    def remove_abandoned(self) -> list[tuple[Path, int]]:
        """Remove the temporary files of writes that never ended (a process killed mid-write; each up to
        a whole recording); returns each with its size. A write in progress (`courtroom recordings
        file-pending` runs beside a server) holds its file locked, and is left alone."""
        removed = []
        for path in sorted(self._tmp.glob(f"{INCOMING}*")):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # its write ended meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.stat(path).st_ino != os.fstat(fd).st_ino:
                    continue  # its write ended between the open and the lock
                size = os.fstat(fd).st_size
                path.unlink()
            except (BlockingIOError, FileNotFoundError):
                continue  # being written, or its write ended meanwhile
            finally:
                os.close(fd)
            removed.append((path, size))
        return removed

    def mark_pending(self, sha256: str) -> Path:
        """Say, durably, that a blob with this address is being stored for a row not yet committed: a
        process killed before the commit left a blob that nothing refers to, and the next start finds it
        by its marker (:meth:`pending`). The caller removes the marker once the row is committed, or the
        blob taken back. Each call has a marker of its own (two uploads of one file at once)."""
        self.path(sha256)  # (an address, not a path)
        self._pending.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._pending, prefix=f"{sha256}.")
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self._pending)  # on disk before the blob's link is
        return Path(name)

    def pending(self) -> dict[str, list[Path]]:
        """The markers :meth:`mark_pending` wrote and nobody removed, by blob address."""
        found: dict[str, list[Path]] = {}
        for marker in sorted(self._pending.glob("*.*")) if self._pending.is_dir() else []:
            sha256 = marker.name.partition(".")[0]
            if _SHA256.fullmatch(sha256):
                found.setdefault(sha256, []).append(marker)
        return found

    def _new_temp(self) -> tuple[int, Path]:
        """A new temporary file, locked until its descriptor is closed."""
        while True:
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix=INCOMING)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink:  # (not removed as abandoned between its creation and its lock)
                    return fd, Path(name)
            except BaseException:  # a lock refused (ENOLCK): neither the descriptor nor the file is left behind
                try:
                    if os.stat(name).st_ino == os.fstat(fd).st_ino:  # still ours, not a later write's
                        os.unlink(name)
                except OSError:
                    pass
                os.close(fd)
                raise
            os.close(fd)

    def discard(self, sha256: str) -> None:
        """Remove a stored blob that nothing refers to (a refused upload's); absent is fine. The caller makes
        sure nothing refers to it, nor will: see ``courtroom_api.blobstore.take_back``."""
        final = self.path(sha256)
        try:
            final.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(final.parent)

    def _write(self, fd: int, chunks: Iterable[bytes]) -> tuple[str, int]:
        hasher, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb", closefd=False) as out:  # (the caller closes it, and its lock)
            for chunk in chunks:
                size += len(chunk)
                if self.max_bytes is not None and size > self.max_bytes:
                    raise BlobTooLargeError(f"blob exceeds the limit of {self.max_bytes} bytes")
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return hasher.hexdigest(), size

    def _link_into_place(self, tmp: Path, ref: BlobRef) -> None:
        final = self.path(ref.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        while True:
            try:
                os.link(tmp, final)  # atomic, and fails instead of overwriting
                break
            except FileExistsError:
                try:
                    size = final.stat().st_size
                except FileNotFoundError:
                    continue  # discarded between the two calls: link again
                if size != ref.size:
                    raise BlobError(f"existing blob {ref.sha256} has the wrong size: store corrupted") from None
                return
        _fsync_dir(final.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the new directory entry itself durable (POSIX: a file's fsync does not cover its name).
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
