"""Write-ahead journal of the open segment, so a ``kill -9`` loses at most about a second.

Records are appended as the audio arrives and fsynced every ``sync_frames`` frames. Each record:
``magic(4) first_sample(int64) frames(int32) channels(int16) width(int16) crc32(uint32)`` then
``frames * channels`` little-endian PCM integers. A torn or corrupt record ends the readable part.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

JOURNAL_NAME = "journal.wal"
_MAGIC = b"CRJ1"
_HEADER = struct.Struct("<4sqihhI")


@dataclass(frozen=True, slots=True)
class JournalRecord:
    first_sample: int
    pcm: np.ndarray  # (frames, channels) int16 or int32


class Journal:
    """The open segment's journal. ``append`` buffers; ``sync`` makes it durable."""

    def __init__(self, directory: Path, sync_frames: int) -> None:
        self.path = directory / JOURNAL_NAME
        self.sync_frames = max(1, sync_frames)
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the recording
        self._unsynced = 0

    def append(self, first_sample: int, pcm: np.ndarray) -> None:
        payload = np.ascontiguousarray(pcm).astype(pcm.dtype.newbyteorder("<"), copy=False).tobytes()
        header = _HEADER.pack(_MAGIC, first_sample, pcm.shape[0], pcm.shape[1], pcm.dtype.itemsize, zlib.crc32(payload))
        self._file.write(header + payload)
        self._unsynced += pcm.shape[0]
        if self._unsynced >= self.sync_frames:
            self.sync()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._unsynced = 0

    def reset(self) -> None:
        """Empty the journal once its audio is safely in a committed segment."""
        self._file.flush()
        self._file.truncate(0)
        self._file.seek(0)
        os.fsync(self._file.fileno())
        self._unsynced = 0

    def close(self) -> None:
        if not self._file.closed:
            try:
                self.sync()
            finally:
                self._file.close()


def read_journal(directory: Path) -> Iterator[JournalRecord]:
    """The intact records of a journal left behind by a crash, in order."""
    path = directory / JOURNAL_NAME
    if not path.exists():
        return
    data = path.read_bytes()
    pos = 0
    while pos + _HEADER.size <= len(data):
        magic, first, frames, channels, width, crc = _HEADER.unpack_from(data, pos)
        end = pos + _HEADER.size + frames * channels * width
        if magic != _MAGIC or width not in (2, 4) or end > len(data):
            return
        payload = data[pos + _HEADER.size : end]
        if zlib.crc32(payload) != crc:
            return
        dtype = np.dtype("<i2") if width == 2 else np.dtype("<i4")
        yield JournalRecord(first, np.frombuffer(payload, dtype=dtype).reshape(frames, channels))
        pos = end
