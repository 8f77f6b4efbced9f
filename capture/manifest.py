"""The recording manifest: JSON lines, each entry chained to the previous one by sha256.

``chain = sha256(prev_chain + canonical_json(entry without prev/chain))``; the first entry's
``prev`` is 64 zeros. A segment entry carries its file's sha256 (FLAC, or WAV beyond 8 channels), so
changing, removing, inserting or reordering a segment (or its entry) breaks the chain or a file hash.

Entry types: ``start`` (format), ``segment``, ``gap``, ``resume``, ``event``, ``final``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from capture.errors import ManifestError

MANIFEST_NAME = "manifest.jsonl"
GENESIS = "0" * 64
FORMAT = "courtroom-recording/1"

log = logging.getLogger(__name__)


def canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, body: dict[str, Any]) -> str:
    clean = {k: v for k, v in body.items() if k not in ("prev", "chain")}
    return hashlib.sha256((prev + canonical(clean)).encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_entries(directory: Path) -> list[dict[str, Any]]:
    """Every complete entry of the manifest, in file order.

    A torn last line (a crash in the middle of an append) is ignored: its audio is still in the
    journal, and the recorder cuts the line off before appending again.
    """
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{directory} is not a recording: no {MANIFEST_NAME}")
    entries = []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):  # the part after the last newline is torn
        try:
            entry = json.loads(line)
        except ValueError as exc:  # (not JSON, or not UTF-8: a damaged byte)
            raise ManifestError(f"{path}:{number}: not a JSON manifest entry: {exc}") from exc
        if not isinstance(entry, dict) or "type" not in entry:
            raise ManifestError(f"{path}:{number}: not a manifest entry")
        entries.append(entry)
    return entries


def holds_entry(directory: Path) -> bool:
    """Whether the manifest holds at least one whole entry (a line): an absent or empty one, or one with
    only its first line torn by a crash or a full disk, is a recording that never started (no audio is
    recorded before the start entry is fsynced)."""
    try:
        with open(directory / MANIFEST_NAME, "rb") as f:
            return any(b"\n" in block for block in iter(lambda: f.read(1 << 16), b""))
    except FileNotFoundError:
        return False


class ManifestWriter:
    """Appends chained entries durably (write, flush, fsync per entry)."""

    def __init__(self, directory: Path, head: str = GENESIS) -> None:
        self.path = directory / MANIFEST_NAME
        self.head = head
        self._cut_torn_tail()

    def _cut_torn_tail(self) -> None:
        """Cut a line torn by a crash, so that the next entry is a line of its own. The recording is
        evidence: the torn bytes are kept beside the manifest (or, the disk refusing, in the log) first."""
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        keep = raw.rfind(b"\n") + 1
        if keep == len(raw):
            return
        torn = raw[keep:]
        copy = self.path.with_name(f"{self.path.name}.torn-{keep}-{hashlib.sha256(torn).hexdigest()[:12]}")
        try:
            with open(copy, "wb") as f:
                f.write(torn)
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(self.path.parent)
            log.warning("%s: cut a torn last line (%d bytes at byte %d), kept in %s", self.path, len(torn), keep,
                        copy.name)
        except OSError as exc:
            log.warning("%s: cut a torn last line (%d bytes at byte %d; not kept: %s): %r", self.path, len(torn),
                        keep, exc, torn)
        os.truncate(self.path, keep)

    def append(self, body: dict[str, Any]) -> dict[str, Any]:
        """Chain and append one entry; on an OSError the file is left as it was."""
        entry = dict(body, prev=self.head)
        entry["chain"] = chain_hash(self.head, entry)
        line = (canonical(entry) + "\n").encode("utf-8")
        size = self.path.stat().st_size if self.path.exists() else 0
        try:
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            # A partial line on a full disk must not stay: cut back to the last whole entry.
            try:
                os.truncate(self.path, size)
            except OSError:
                pass
            raise
        self.head = entry["chain"]
        return entry
