"""A hearing's recording as heard by those who may not see its sealed portions: silent there.

Sealing a line hides its text from parties, terminals and appeal judges in lists, exports, search and
the live stream; its audio is the same words. So for them every recording file of the hearing (the
multi-channel file, each seat's track, the mixdown) is served as a copy with the sealed lines' time
spans (padded for word-timing error) silenced, made once per set of spans and cached beside the
evidence renditions; the bench gets the original. The original blob is never touched. A seal starts
making the hearing's copies in the background (a day's recording takes a minute), so that the first
listener does not wait; copies for seals since changed are removed after a while.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
PAD_S = 0.3  # word times are ±0.1-0.2 s; a sealed name must not leak at a span's edge
BLOCK_FRAMES = 1 << 16
SUFFIX = {"audio/flac": ".flac", "audio/ogg": ".ogg"}  # a recording file's MIME type → its copy's name
STALE_S = 600.0  # a copy for earlier seals is removed this long after it was made (a listener may be on it)


def sealed_spans(session: Session, hearing_id: int) -> list[tuple[float, float]]:
    """The hearing's sealed lines as merged, padded ``(start_s, end_s)`` spans of recording time."""
    from models import TranscriptSegment

    rows = session.execute(select(TranscriptSegment.start_s, TranscriptSegment.end_s).where(
        TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.sealed.is_(True))
        .order_by(TranscriptSegment.start_s)).all()
    spans: list[tuple[float, float]] = []
    for start, end in rows:
        start, end = max(0.0, start - PAD_S), end + PAD_S
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def spans_key(spans: Sequence[tuple[float, float]]) -> str:
    """A short name for a set of spans (the cached copy's name, and part of its ETag)."""
    text = ";".join(f"{a:.3f}-{b:.3f}" for a, b in spans)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def silenced_copy(source: Path, spans: Sequence[tuple[float, float]], cache_dir: Path, sha256: str,
                  suffix: str) -> Path:
    """``source`` (FLAC, Opus, any format libsndfile writes) with ``spans`` silenced, cached under
    ``cache_dir``; streamed in blocks (a day's six-channel recording is gigabytes). Made once: callers
    asking for it while another thread makes it wait for that one."""
    target = cache_dir / sha256[:2] / sha256 / f"sealed-{spans_key(spans)}{suffix}"
    while not _made(source, spans, target):  # (the thread that was making it failed: try here)
        pass
    for old in target.parent.glob("sealed-*"):  # copies for seals since changed
        with contextlib.suppress(OSError):
            if old != target and time.time() - old.stat().st_mtime > STALE_S:
                old.unlink()
    return target


_making: dict[Path, threading.Event] = {}  # copies being made → set once their maker is done (made or not)
_making_lock = threading.Lock()


def _made(source: Path, spans: Sequence[tuple[float, float]], target: Path) -> bool:
    """Whether ``target`` exists: made here, or waited for if another thread is making it (False if that
    one failed). Two listeners, or a listener and the job after a seal, must not both encode a day's file."""
    if target.exists():
        return True
    with _making_lock:
        other = _making.get(target)
        if other is None:
            done = _making[target] = threading.Event()
    if other is not None:
        other.wait()
        return target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
        os.close(fd)
        try:
            _silence(source, spans, Path(tmp))
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return True
    finally:
        with _making_lock:
            del _making[target]
        done.set()


def copy_for(services: Any, sha256: str, mime: str, spans: Sequence[tuple[float, float]]) -> Path:
    """The silenced copy of the recording file ``sha256`` (of type ``mime``) for ``spans``, made if need be."""
    from courtroom_api.blobstore import blob_path

    return silenced_copy(blob_path(services.blobs, sha256), spans, copy_dir(services), sha256, SUFFIX.get(mime, ""))


def copy_dir(services: Any) -> Path:
    return Path(services.renditions_dir) / "sealed-audio"


def recording_files(recording: Any) -> list[tuple[str, str]]:
    """(sha256, MIME type) of every file of a finalized recording: the multi-channel file, tracks, mixdown."""
    files = [(recording.blob_sha256, "audio/flac")] if recording.blob_sha256 else []
    return files + [(e["track_sha256"], str(e.get("mime_type") or "audio/ogg"))
                    for e in recording.channel_layout or [] if e.get("track_sha256")]


def prepare(services: Any, hearing_id: int) -> int:
    """Make the silenced copies of the hearing's recordings for its current seals; how many were made."""
    from models import Recording

    with services.sessions() as session:
        spans = sealed_spans(session, hearing_id)
        recordings = session.scalars(select(Recording).where(Recording.hearing_id == hearing_id)).all()
        files = [f for r in recordings for f in recording_files(r)]
    if not spans:
        return 0
    for sha256, mime in files:
        copy_for(services, sha256, mime, spans)
    return len(files)


def prepare_in_background(services: Any, hearing_id: int) -> threading.Thread:
    """``prepare`` in a worker thread (after a seal); a failure is logged, and the copy is then made on request."""
    def run() -> None:
        try:
            prepare(services, hearing_id)
        except Exception:
            log.exception("silenced copies of hearing %s's recordings could not be made ahead", hearing_id)

    thread = threading.Thread(target=run, name=f"sealed-audio-{hearing_id}", daemon=True)
    thread.start()
    return thread


def _silence(source: Path, spans: Sequence[tuple[float, float]], out_path: Path) -> None:
    import soundfile as sf

    with sf.SoundFile(source) as src:
        # PCM is copied sample for sample (as integers: no rounding); lossy codecs are re-encoded
        dtype = "int32" if src.subtype.startswith("PCM") else "float32"
        rate = src.samplerate
        cuts = [(round(a * rate), round(b * rate)) for a, b in spans]
        with sf.SoundFile(out_path, "w", samplerate=rate, channels=src.channels, format=src.format,
                          subtype=src.subtype) as out:
            first = 0
            while True:
                block = src.read(BLOCK_FRAMES, dtype=dtype, always_2d=True)
                if not len(block):
                    break
                last = first + len(block)
                for a, b in cuts:
                    if a < last and b > first:
                        block[max(a, first) - first : min(b, last) - first] = 0
                out.write(np.ascontiguousarray(block))
                first = last
