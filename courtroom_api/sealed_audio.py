"""A hearing's recording as heard by those who may not see its sealed portions: silent there.

Sealing a line hides its text from parties, terminals and appeal judges in lists, exports, search and
the live stream; its audio is the same words. So for them every recording file of the hearing (the
multi-channel file, each seat's track, the mixdown) is served as a copy with the sealed lines' time
spans and the range seals (padded for word-timing error) silenced, made once per set of spans and cached beside the
evidence renditions; the bench gets the original. The original blob is never touched. A seal starts
making the hearing's copies in the background (a day's recording takes minutes), so that the first
listener does not wait: one job a hearing, always for its newest seals (seals while it runs stop its
copies and are made in one run after it), which then removes the copies for earlier seals once no
response can still be reading them.
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
SUFFIX = {"audio/flac": ".flac", "audio/wav": ".wav", "audio/ogg": ".ogg"}  # a recording file's MIME type → its copy's name
STALE_S = 600.0  # a copy for earlier seals is removed this long after it was superseded (a listener may be on it)


def sealed_spans(session: Session, hearing_id: int) -> list[tuple[float, float]]:
    """The hearing's sealed lines and range seals (a sealed time where no line was filed is silent too)
    as merged, padded ``(start_s, end_s)`` spans of recording time."""
    from courtroom_api import sealed_ranges
    from models import TranscriptSegment

    lines = session.execute(select(TranscriptSegment.start_s, TranscriptSegment.end_s).where(
        TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.sealed.is_(True))).all()
    ranges = sealed_ranges.stored(session, hearing_id)
    return sealed_ranges.merged((max(0.0, start - PAD_S), end + PAD_S) for start, end in (*lines, *ranges))


def spans_key(spans: Sequence[tuple[float, float]]) -> str:
    """A short name for a set of spans (the cached copy's name, and part of its ETag)."""
    text = ";".join(f"{a:.3f}-{b:.3f}" for a, b in spans)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def silenced_copy(source: Path, spans: Sequence[tuple[float, float]], target: Path) -> Path:
    """``source`` (FLAC, RF64 WAV, Opus, any format libsndfile writes) with ``spans`` silenced, in its own
    format, cached as ``target``; streamed in blocks (a day's six-channel recording is gigabytes). Made
    once: callers asking for it while another thread makes it wait for that one."""
    while not _made(source, spans, target, None):  # (the thread that was making it failed: try here)
        pass
    return target


def _target(services: Any, hearing_id: int, sha256: str, mime: str, spans: Sequence[tuple[float, float]]) -> Path:
    # named by hearing too: two hearings may share a byte-identical file, and each job removes only its own
    return copy_dir(services) / sha256[:2] / sha256 / f"sealed-h{hearing_id}-{spans_key(spans)}{SUFFIX.get(mime, '')}"


_making: dict[Path, threading.Event] = {}  # copies being made → set once their maker is done (made or not)
_making_lock = threading.Lock()


def _made(source: Path, spans: Sequence[tuple[float, float]], target: Path, stop: threading.Event | None) -> bool:
    """Whether ``target`` exists: made here, or waited for if another thread is making it (False if that
    one failed or was stopped, or ``stop`` was set). Two listeners, or a listener and the job after a
    seal, must not both encode a day's file."""
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
            if not _silence(source, spans, Path(tmp), stop):
                return False
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return True
    finally:
        with _making_lock:
            del _making[target]
        done.set()


def copy_for(services: Any, hearing_id: int, sha256: str, mime: str, spans: Sequence[tuple[float, float]]) -> Path:
    """The silenced copy of the hearing's recording file ``sha256`` (of type ``mime``) for ``spans``, made if need be."""
    from courtroom_api.blobstore import blob_path

    return silenced_copy(blob_path(services.blobs, sha256), spans, _target(services, hearing_id, sha256, mime, spans))


def copy_dir(services: Any) -> Path:
    return Path(services.renditions_dir) / "sealed-audio"


def recording_mime(recording: Any) -> str:
    """The MIME type of a recording's multi-channel file: FLAC up to 8 channels, WAV (RF64) beyond, as
    :mod:`capture.container` writes it."""
    from capture.container import recording_container

    return recording_container(recording.channel_count).mime_type


def recording_files(recording: Any) -> list[tuple[str, str]]:
    """(sha256, MIME type) of every file of a finalized recording: the multi-channel file, tracks, mixdown."""
    files = [(recording.blob_sha256, recording_mime(recording))] if recording.blob_sha256 else []
    return files + [(e["track_sha256"], str(e.get("mime_type") or "audio/ogg"))
                    for e in recording.channel_layout or [] if e.get("track_sha256")]


def _hearing_files(services: Any, hearing_id: int) -> tuple[list[tuple[float, float]], list[tuple[str, str]]]:
    """The hearing's sealed spans now, and (sha256, MIME type) of its recordings' files."""
    from models import Recording

    with services.sessions() as session:
        spans = sealed_spans(session, hearing_id)
        recordings = session.scalars(select(Recording).where(Recording.hearing_id == hearing_id)).all()
        return spans, [f for r in recordings for f in recording_files(r)]


def _make_all(services: Any, hearing_id: int, spans: Sequence[tuple[float, float]], files: Sequence[tuple[str, str]],
              stop: threading.Event | None) -> int:
    from courtroom_api.blobstore import blob_path

    made = 0
    for sha256, mime in files:
        target = _target(services, hearing_id, sha256, mime, spans)
        if (stop is not None and stop.is_set()) or not _made(blob_path(services.blobs, sha256), spans, target, stop):
            break
        made += 1
    return made


def prepare(services: Any, hearing_id: int) -> int:
    """Make the silenced copies of the hearing's recordings for its current seals; how many were made."""
    spans, files = _hearing_files(services, hearing_id)
    return _make_all(services, hearing_id, spans, files, None) if spans else 0


class _Job:
    """A hearing's background job: ``again`` is set by a seal made since its run read the seals."""

    def __init__(self) -> None:
        self.again = threading.Event()
        self.thread: threading.Thread | None = None


_jobs: dict[tuple[Path, int], _Job] = {}  # (copy folder, hearing) → its job while it runs or waits to sweep
_jobs_lock = threading.Lock()


def prepare_in_background(services: Any, hearing_id: int) -> threading.Thread:
    """After a seal: the hearing's copies for its newest seals, in its one worker thread. A seal while
    that runs stops the copies it is making and has them made for the seals then (one run for many
    seals); a failure is logged, and the copy is then made on request."""
    key = (copy_dir(services), hearing_id)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None and job.thread is not None:
            job.again.set()
            return job.thread
        job = _jobs[key] = _Job()
        job.thread = threading.Thread(target=_run_job, args=(services, hearing_id, key, job),
                                      name=f"sealed-audio-{hearing_id}", daemon=True)
    job.thread.start()
    return job.thread


def _run_job(services: Any, hearing_id: int, key: tuple[Path, int], job: _Job) -> None:
    try:
        _job_loop(services, hearing_id, key, job)
    finally:  # whatever ends the thread, the hearing's next seal starts a fresh job, not joins a dead one
        with _jobs_lock:
            if _jobs.get(key) is job:
                del _jobs[key]


def _job_loop(services: Any, hearing_id: int, key: tuple[Path, int], job: _Job) -> None:
    superseded_at: dict[Path, float] = {}  # copies for earlier seals → when this job found them so
    while True:
        job.again.clear()
        wait_s: float | None = None  # until the next superseded copy may go; None: none left
        try:
            spans, files = _hearing_files(services, hearing_id)
        except Exception:  # (the database) what is sealed is not known, so neither is what to remove
            log.exception("hearing %s's seals could not be read to make its silenced copies", hearing_id)
            spans, files = [], []
        try:
            if spans:
                _make_all(services, hearing_id, spans, files, job.again)
        except Exception:
            log.exception("silenced copies of hearing %s's recordings could not be made ahead", hearing_id)
        if files and not job.again.is_set():
            current = f"sealed-h{hearing_id}-{spans_key(spans)}" if spans else None
            folders = [copy_dir(services) / sha[:2] / sha for sha, _ in files]
            wait_s = _remove_superseded(folders, hearing_id, current, superseded_at)
        with _jobs_lock:
            if not job.again.is_set() and wait_s is None:
                del _jobs[key]
                return
        job.again.wait(wait_s)  # a new seal, or the next superseded copy's time


def _remove_superseded(folders: Sequence[Path], hearing_id: int, current: str | None,
                       superseded_at: dict[Path, float]) -> float | None:
    """Remove the hearing's copies in ``folders`` not named ``current`` that were superseded ``STALE_S``
    ago (a response that started on one may still be reading it), and any of the earlier naming without
    a hearing; seconds until the next is due, None if none."""
    now = time.monotonic()
    left: dict[Path, float] = {}
    for folder in folders:
        for copy in folder.glob("sealed-*"):
            if copy.stem == current or (copy.name.startswith("sealed-h") and not copy.name.startswith(f"sealed-h{hearing_id}-")):
                continue
            since = superseded_at.get(copy, now)
            if now - since >= STALE_S:
                try:
                    copy.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:  # not tracked again: a copy that cannot go must not hold the job
                    log.warning("superseded silenced copy %s could not be removed: %s", copy, exc)
            else:
                left[copy] = since
    superseded_at.clear()
    superseded_at.update(left)
    return min(since + STALE_S - now for since in left.values()) if left else None


def _silence(source: Path, spans: Sequence[tuple[float, float]], out_path: Path, stop: threading.Event | None) -> bool:
    """Write ``source`` with ``spans`` silenced to ``out_path``; False if ``stop`` was set meanwhile."""
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
                if stop is not None and stop.is_set():
                    return False
                block = src.read(BLOCK_FRAMES, dtype=dtype, always_2d=True)
                if not len(block):
                    break
                last = first + len(block)
                for a, b in cuts:
                    if a < last and b > first:
                        block[max(a, first) - first : min(b, last) - first] = 0
                out.write(np.ascontiguousarray(block))
                first = last
    return True
