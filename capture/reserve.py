"""A reserve of disk space for the recordings, given up the moment the disk fills.

A recorder holds what a full disk refuses in memory (``max_pending_seconds``), then records the rest
as gaps, and a process killed meanwhile loses what it held. So the server keeps a file of
``size`` bytes allocated on the recordings disk (``posix_fallocate``: the blocks are really taken,
not a sparse promise). The first write refused for space deletes it, and the held audio and the
hearing's next minutes are written into the room it leaves, while the clerk frees space. It is made
again (never from the last free space) when the server starts and when a hearing starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from pathlib import Path

log = logging.getLogger(__name__)

NAME = ".disk-reserve"


class DiskReserve:
    def __init__(self, directory: Path, size_bytes: int) -> None:
        self.path = Path(directory) / NAME
        self.size_bytes = size_bytes
        self._lock = threading.Lock()

    @property
    def held_bytes(self) -> int:
        """Bytes the reserve holds now (0 when given up or never made)."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def ensure(self) -> bool:
        """Make the reserve if it is missing and the disk has twice its size free; True when it is held."""
        if self.size_bytes <= 0:
            return False
        with self._lock:
            if self.held_bytes >= self.size_bytes:
                return True
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if shutil.disk_usage(self.path.parent).free < 2 * self.size_bytes:
                    return False  # (the recordings need that space more than a reserve does)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    os.posix_fallocate(fd, 0, self.size_bytes)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                return True
            except OSError as exc:
                log.warning("cannot keep a disk reserve at %s: %s", self.path, exc)
                with contextlib.suppress(OSError):
                    self.path.unlink()
                return False

    def release(self) -> int:
        """Give the space back to the disk (the recordings need it now); the bytes freed, 0 if none."""
        with self._lock:
            freed = self.held_bytes
            try:
                self.path.unlink()
            except FileNotFoundError:
                return 0
            except OSError as exc:
                log.error("cannot release the disk reserve %s: %s", self.path, exc)
                return 0
            return freed
