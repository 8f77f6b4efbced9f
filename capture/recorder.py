"""The hearing recorder: segmented multi-channel FLAC (WAV beyond 8 channels, see
:mod:`capture.container`), a hash-chained manifest, a write-ahead journal.

Durability order when a segment closes: its file written to a temporary file, fsynced, renamed,
directory fsynced; then its manifest entry appended and fsynced; then the journal emptied. A crash
at any point loses at most the journal's unsynced tail (``journal_seconds``). Creating a
``Recorder`` on a directory that already holds a recording resumes it: journal audio is recovered
into a segment and the interruption is recorded as an explicit gap.

Write failures (a full disk, a vanished mount, libsndfile refusing to encode a segment) never raise out
of :meth:`Recorder.write`: they are
reported as events, closed segments wait in memory (up to ``max_pending_seconds``) and are retried;
audio that cannot be kept is recorded as a gap. Earlier segments are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf

from capture.container import segment_container
from capture.errors import RecorderError
from capture.journal import JOURNAL_NAME, Journal
from capture.manifest import FORMAT, MANIFEST_NAME, ManifestWriter, fsync_dir, holds_entry, read_entries
from capture.reserve import DiskReserve
from capture.types import AudioChunk, CaptureEvent, CaptureEventKind, FinalizedRecording, HeldAudio
from hardware.types import CourtroomProfile

log = logging.getLogger(__name__)

SEGMENTS_DIR = "segments"
RESTART_GAP = "recorder restarted after an interruption (crash, kill or power loss)"
RECESS_GAP = "recess"  # a resume's gap while the hearing was in recess (the court record prints 休庭)
SOURCE_ENDED_GAP = "source ended"  # a source that ended by itself, the hearing going on (see outage_until)


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    """How a hearing is recorded. ``seats``/``gains_db`` name and weight channels for finalize."""

    segment_seconds: float = 10.0
    journal_seconds: float = 1.0
    subtype: Literal["PCM_16", "PCM_24"] = "PCM_16"
    seats: tuple[str, ...] = ()
    gains_db: tuple[float, ...] = ()
    max_pending_seconds: float = 60.0  # audio held in memory while the disk refuses writes
    retry_seconds: float = 1.0

    @classmethod
    def for_profile(cls, profile: CourtroomProfile, **values: Any) -> RecorderOptions:
        """Options naming each channel's seat and gain from a courtroom profile (plus ``values``)."""
        seats, gains = [], []
        for c in range(profile.channel_count):
            seat = profile.seat_of(c)
            seats.append(seat.seat if seat else f"ch{c:02d}")
            gains.append(seat.gain_db if seat else 0.0)
        return cls(seats=tuple(seats), gains_db=tuple(gains), **values)


def quantize(samples: np.ndarray, subtype: str) -> np.ndarray:
    """float32 ``(frames, channels)`` in [-1, 1] -> the integers stored in the segment files, exactly."""
    if subtype == "PCM_16":
        return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    # soundfile writes the top 24 bits of an int32: keep the low byte zero so the journal and the
    # segment files hold the same values.
    return (np.clip(np.rint(samples * 8388608.0), -8388608, 8388607).astype(np.int32) << 8).astype(np.int32)


@dataclass
class _Pending:
    """A closed segment or a manifest entry waiting for the disk, in timeline order."""

    body: dict[str, Any]
    pcm: np.ndarray | None = None  # (frames, channels) for a segment
    wall_time: float = 0.0


@dataclass
class _OpenSegment:
    first_sample: int = 0
    wall_time: float = 0.0
    blocks: list[np.ndarray] = field(default_factory=list)
    frames: int = 0


class Recorder:
    """Consumer of :class:`AudioChunk` that files them durably under ``directory``.

    Chunks are placed by ``first_sample`` on the recording's timeline: a jump forward is recorded
    as a gap, a chunk seen before is ignored (redelivery is harmless).
    """

    def __init__(
        self,
        directory: Path | str,
        sample_rate: int,
        channels: int,
        options: RecorderOptions | None = None,
        *,
        on_event: Callable[[CaptureEvent], None] | None = None,
        reserve: DiskReserve | None = None,
        resume_reason: str = RESTART_GAP,
        _live: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.reserve = reserve  # given up at the first write a full disk refuses (capture/reserve.py)
        self.resume_reason = resume_reason  # a resume's gap up to now: a crash's, or a recess
        self._live = _live  # False: opened by reopen_to_close, nothing more will be recorded
        self.sample_rate = sample_rate
        self.channels = channels
        self.options = options or RecorderOptions()
        self.on_event = on_event
        self.segment_frames = max(1, round(self.options.segment_seconds * sample_rate))
        self.next_sample = 0
        self.next_index = 0
        self.resumed = False
        # Set by whoever knows why the next jump happens: the source failed or ended, nothing comes from it now
        # (cleared by the next chunk; see outage_until).
        self.pending_gap_reason = ""
        self._anchor = (0, time.time())  # (sample, wall time) pair for sample_at()
        self._open = _OpenSegment()
        self._backlog: deque[_Pending] = deque()
        self._retry_at = 0.0
        self._disk_failing = False
        self._journal_ok = True
        self._closed = False
        # Held while write, note and close change what is in memory (write runs in a worker thread), so
        # that held_audio(), called from another thread, sees each piece either in memory or on disk.
        self._lock = threading.Lock()
        (self.directory / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
        manifest = self.directory / MANIFEST_NAME
        # A manifest with no whole entry is a start that could not write its first one (a full disk left
        # it empty, a power cut tore it): nothing was recorded, so this is a new recording, not a resume
        # (which needs that entry); the writer cuts the torn line, keeping its bytes.
        existing = holds_entry(self.directory)
        # Opened for appending: a crashed run's journal stays readable until it is recovered.
        self.journal = Journal(self.directory, round(self.options.journal_seconds * sample_rate))
        if existing:
            self.manifest = self._resume()
        else:
            self.manifest = ManifestWriter(self.directory)
            try:
                try:
                    self.manifest.append(self._start_entry())
                except OSError as exc:  # a hearing opened on a full disk starts in the reserve's room
                    if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or reserve is None or not reserve.release():
                        raise
                    self.manifest.append(self._start_entry())
            except OSError as exc:
                self.journal.close()
                with contextlib.suppress(OSError):
                    if manifest.exists() and manifest.stat().st_size == 0:
                        manifest.unlink()
                raise RecorderError(f"cannot start the recording in {self.directory}: {exc.strerror or exc} "
                                    "(is the recordings disk full?)") from exc

    @classmethod
    def reopen_to_close(cls, directory: Path | str) -> Recorder:
        """A recording left open (its process died, or its close failed on a full disk), opened only to
        commit what its journal still holds, then to be closed or finalized. Unlike a resume it adds
        no gap up to now: the hearing is over, its recording ends where its audio does."""
        entries = read_entries(Path(directory))
        if not entries:
            raise RecorderError(f"{directory}: the manifest holds no whole entry (its start was never written): "
                                "nothing was recorded, nothing to close")
        start = entries[0]
        options = RecorderOptions(segment_seconds=start["segment_seconds"], subtype=start["subtype"],
                                  seats=tuple(start["seats"]), gains_db=tuple(start["gains_db"]))
        return cls(directory, start["sample_rate"], start["channels"], options, _live=False)

    # ---- creation and resume -------------------------------------------------------------

    def _start_entry(self) -> dict[str, Any]:
        return {
            "type": "start", "format": FORMAT, "recording_id": uuid.uuid4().hex,
            "sample_rate": self.sample_rate, "channels": self.channels, "subtype": self.options.subtype,
            "segment_seconds": self.options.segment_seconds, "started_at": self._anchor[1],
            "seats": list(self.options.seats), "gains_db": list(self.options.gains_db),
        }

    def _resume(self) -> ManifestWriter:
        from capture.resume import resume_state

        state = resume_state(self.directory, self.sample_rate, self.channels)
        self.resumed = True
        writer = ManifestWriter(self.directory, state.head)
        self.next_sample, self.next_index, self._anchor = state.next_sample, state.next_index, state.anchor
        self.manifest = writer
        for first, pcm in state.recovered:
            self._emit("recovered", first, f"recovered {len(pcm) / self.sample_rate:.2f} s from the journal", len(pcm))
            if first > self.next_sample:
                self._queue_gap(self.next_sample, first - self.next_sample, "lost in a crash while the disk refused writes")
            for start in range(0, len(pcm), self.segment_frames):
                part = pcm[start : start + self.segment_frames]
                self._queue_segment(first + start, part, 0.0, recovered=True)
            self.next_sample = first + len(pcm)
        resume_at = max(self.next_sample, self.sample_at(time.time()))
        self._flush_backlog(force=True)
        if self._backlog:
            raise RecorderError(f"cannot resume {self.directory}: recovered audio cannot be written (disk full?)")
        self.journal.reset()
        if not self._live:  # the recording ends where its audio ends: no gap to now, no resume entry
            return writer
        if resume_at > self.next_sample:
            self._queue_gap(self.next_sample, resume_at - self.next_sample, self.resume_reason)
        self._queue_entry({"type": "resume", "at_sample": resume_at, "wall_time": time.time()})
        self.next_sample = resume_at
        self._anchor = (resume_at, time.time())
        self._flush_backlog(force=True)
        return writer

    # ---- timeline ----------------------------------------------------------------------------

    def sample_at(self, wall_time: float) -> int:
        """Timeline position of a wall-clock time, from the latest known (sample, time) pair."""
        sample, wall = self._anchor
        return sample + max(0, round((wall_time - wall) * self.sample_rate))

    def _emit(self, kind: CaptureEventKind, sample: int, message: str, frames: int = 0) -> None:
        log.log(logging.INFO if kind in ("recovered", "write_resumed") else logging.WARNING, "%s: %s", kind, message)
        if self.on_event is not None:
            self.on_event(CaptureEvent(kind, sample / self.sample_rate, message, frames))

    # ---- writing ------------------------------------------------------------------------------

    def write(self, chunk: AudioChunk) -> None:
        """File one chunk (blocking file I/O; use :meth:`write_async` from the event loop)."""
        with self._lock:
            self._write(chunk)

    def _write(self, chunk: AudioChunk) -> None:
        if self._closed:
            raise RecorderError("recorder is closed")
        if chunk.channels != self.channels or chunk.sample_rate != self.sample_rate:
            raise RecorderError(
                f"chunk has {chunk.channels} channels at {chunk.sample_rate} Hz; this recording is "
                f"{self.channels} channels at {self.sample_rate} Hz"
            )
        first, samples = chunk.first_sample, chunk.samples
        if not len(samples):
            # Nothing to file. Past a hole it would queue the gap without moving next_sample, and the
            # next chunk would queue the same gap again: a chain that no longer verifies.
            return
        if first + len(samples) <= self.next_sample:
            return  # seen before
        if first < self.next_sample:
            samples = samples[self.next_sample - first :]
            first = self.next_sample
        if first > self.next_sample:
            reason = self.pending_gap_reason or "no audio delivered for this stretch (source overflow or outage)"
            self._close_open()
            self._queue_gap(self.next_sample, first - self.next_sample, reason)
        self.pending_gap_reason = ""
        self._anchor = (first, chunk.wall_time)
        self._append(first, quantize(samples, self.options.subtype), chunk.wall_time)
        self._flush_backlog()

    async def write_async(self, chunk: AudioChunk) -> None:
        """:meth:`write` in a worker thread, so file I/O and encoding stay off the event loop."""
        await asyncio.to_thread(self.write, chunk)

    def _append(self, first: int, pcm: np.ndarray, wall: float) -> None:
        while len(pcm):
            if self._open.frames == 0:
                self._open = _OpenSegment(first, wall)
            take = min(len(pcm), self.segment_frames - self._open.frames)
            part, pcm = pcm[:take], pcm[take:]
            self._journal_append(first, part)
            self._open.blocks.append(part)
            self._open.frames += take
            first += take
            wall += take / self.sample_rate
            self.next_sample = first
            if self._open.frames >= self.segment_frames:
                self._close_open()

    def _journal_append(self, first: int, pcm: np.ndarray) -> None:
        if not self._journal_ok:
            return
        try:
            self.journal.append(first, pcm)
        except OSError as exc:
            self._journal_ok = False
            self._write_failed(exc, "journal")

    def _close_open(self) -> None:
        if self._open.frames == 0:
            return
        pcm = np.concatenate(self._open.blocks) if len(self._open.blocks) > 1 else self._open.blocks[0]
        self._queue_segment(self._open.first_sample, pcm, self._open.wall_time)
        self._open = _OpenSegment()

    def _queue_segment(self, first: int, pcm: np.ndarray, wall: float, recovered: bool = False) -> None:
        body = {"type": "segment", "first_sample": first, "frames": len(pcm)}
        if recovered:
            body["recovered"] = True
        self._backlog.append(_Pending(body, pcm, wall))
        self._limit_backlog()

    def _queue_gap(self, first: int, frames: int, reason: str, **more: Any) -> None:
        self._emit("gap", first, f"{frames / self.sample_rate:.2f} s gap: {reason}", frames)
        self._queue_entry({"type": "gap", "first_sample": first, "frames": frames, "reason": reason, **more})

    def _queue_entry(self, body: dict[str, Any]) -> None:
        self._backlog.append(_Pending(body))

    def source_ended(self) -> None:
        """The source ended by itself (a file played to its end) and nothing more will come, while the hearing
        may go on: its audio ended now, whatever its stamps say (a replay's run ahead of its pace, or behind
        it), which is where :meth:`outage_until` measures the time to the recording's stop from."""
        with self._lock:
            self.pending_gap_reason = SOURCE_ENDED_GAP
            self._anchor = (self.next_sample, time.time())

    def outage_until(self, wall_time: float) -> None:
        """The recording stops at ``wall_time`` (a recess, the hearing's end, a shutdown) while its source is
        down (``pending_gap_reason``: it failed or ended): the time from its last audio to then is a gap with
        that reason. Without it the recording ended at the last audio, and the gap a resume adds up to its own
        time (a recess's) took in the outage too, or, at the end, the hearing went on past the recording
        unsaid. Positions stay the hearing's. Does nothing while the source delivers."""
        with self._lock:
            reason = self.pending_gap_reason
            until = self.sample_at(wall_time)
            if self._closed or not self._live or not reason or until <= self.next_sample:
                return
            self._close_open()
            # Where it ends, in the recording and on the wall clock: a resume measures from there (its last
            # segment's clock runs ahead or behind where the source's stamps did, as a replay faster than real
            # time's does: the recess came out shorter or not at all).
            self._queue_gap(self.next_sample, until - self.next_sample, reason, end_wall_time=round(wall_time, 3))
            self.next_sample = until
            self._anchor = (until, wall_time)
            self.pending_gap_reason = ""  # (once: a close retried on a full disk adds no second gap)
            self._flush_backlog()

    def note(self, kind: str, message: str) -> None:
        """Record an operational event (source failure, overflow) in the manifest."""
        with self._lock:
            self._queue_entry({"type": "event", "kind": kind, "at_sample": self.next_sample, "message": message})
            self._flush_backlog()

    def held_audio(self) -> list[HeldAudio]:
        """The audio only in memory now, in timeline order: closed segments the disk has not taken yet,
        then the open segment. A consistent snapshot: a piece leaves memory only once its segment file
        and manifest entry are written, so read this *before* the manifest and every recorded frame is
        in one or the other (a piece written in between is in both, at the same place)."""
        with self._lock:
            held = [HeldAudio(p.body["first_sample"], p.pcm) for p in self._backlog if p.pcm is not None]
            first, blocks = self._open.first_sample, list(self._open.blocks)
        if blocks:  # (the blocks themselves are never changed once appended)
            held.append(HeldAudio(first, np.concatenate(blocks) if len(blocks) > 1 else blocks[0]))
        return held

    def _limit_backlog(self) -> None:
        limit = self.options.max_pending_seconds * self.sample_rate
        held = sum(len(p.pcm) for p in self._backlog if p.pcm is not None)
        for item in self._backlog:
            if held <= limit:
                break
            if item.pcm is not None:
                # Memory is bounded: the oldest unwritten audio becomes an explicit gap.
                held -= len(item.pcm)
                body = item.body
                item.body = {"type": "gap", "first_sample": body["first_sample"], "frames": body["frames"],
                             "reason": "disk full or unwritable: audio could not be stored"}
                item.pcm = None
                self._emit("gap", body["first_sample"], "audio held for the disk dropped after "
                           f"{self.options.max_pending_seconds:.0f} s", body["frames"])

    # ---- the disk -----------------------------------------------------------------------------

    def _flush_backlog(self, force: bool = False) -> None:
        if not self._backlog or (not force and self._disk_failing and time.monotonic() < self._retry_at):
            return
        try:
            while self._backlog:
                item = self._backlog[0]
                if item.pcm is not None:
                    self._store_segment(item)
                else:
                    self.manifest.append(item.body)
                self._backlog.popleft()
            self._after_flush()
        except OSError as exc:
            self._write_failed(exc, "segment")

    def _store_segment(self, item: _Pending) -> None:
        assert item.pcm is not None
        container = segment_container(self.channels)
        buf = io.BytesIO()
        try:
            sf.write(buf, item.pcm, self.sample_rate, format=container.format, subtype=self.options.subtype)
        except (sf.SoundFileError, RuntimeError, ValueError) as exc:
            # libsndfile refusing to encode (it refused FLAC past 8 channels) must not escape write()
            # and end the capture: it is a write failure like a full disk, the audio held and alarmed.
            raise OSError(errno.EIO, f"libsndfile cannot encode the segment as {container.format}: {exc}") from exc
        data = buf.getvalue()
        name = f"{SEGMENTS_DIR}/{self.next_index:06d}{container.suffix}"
        path, tmp = self.directory / name, self.directory / (name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        import hashlib

        body = dict(item.body, index=self.next_index, file=name, sha256=hashlib.sha256(data).hexdigest())
        if item.wall_time:
            body["wall_time"] = round(item.wall_time, 3)
        self.manifest.append(body)
        self.next_index += 1

    def _after_flush(self) -> None:
        if self._disk_failing:
            self._disk_failing = False
            self._emit("write_resumed", self.next_sample, "writing again: the disk accepts data")
        # Everything closed is committed: the journal needs only the open segment's audio.
        try:
            self.journal.reset()
            self._journal_ok = True
            if self._open.frames:
                start = self._open.first_sample
                for block in self._open.blocks:
                    self.journal.append(start, block)
                    start += len(block)
        except OSError as exc:
            self._journal_ok = False
            self._write_failed(exc, "journal")

    def _write_failed(self, exc: OSError, what: str) -> None:
        self._retry_at = time.monotonic() + self.options.retry_seconds
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        freed = self.reserve.release() if full and self.reserve is not None else 0
        if freed:
            self._retry_at = 0.0  # the next write stores what is held, into the space given back
        if self._disk_failing:
            return  # already reported; stay quiet until it recovers
        self._disk_failing = True
        kind: CaptureEventKind = "disk_full" if full else "write_error"
        kept = (f"; the disk's reserve ({freed / 2**20:.0f} MiB) was given up for the recording: free space now"
                if freed else "; retrying")
        self._emit(kind, self.next_sample, f"cannot write the {what} in {self.directory}: {exc}{kept}")

    # ---- the end --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` succeeded: everything recorded is on disk."""
        return self._closed

    @property
    def held_seconds(self) -> float:
        """Seconds of audio only in memory: closed segments the disk refused, and the open one."""
        held = sum(len(p.pcm) for p in self._backlog if p.pcm is not None) + self._open.frames
        return held / self.sample_rate

    def close(self) -> None:
        """Commit the open segment and everything pending; raise if the disk still refuses."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._close_open()
        self._flush_backlog(force=True)
        if self._backlog:
            raise RecorderError(
                f"{len(self._backlog)} manifest entries could not be written to {self.directory} "
                "(disk full?); the journal keeps what it could; free space and call close() again"
            )
        self.journal.close()
        (self.directory / JOURNAL_NAME).unlink(missing_ok=True)
        self._closed = True

    def discard(self) -> bool:
        """A new recording that recorded nothing (the hearing's start failed after it opened): its files
        and then its directory, if nothing else is in it, are removed, so that the next start begins a new
        recording (reopened, it was resumed: a gap "after a crash" at 0:00, and a replayed file went on past
        its first seconds). False, and nothing removed, for a resumed recording or one that holds anything
        but its start: a recording is evidence."""
        with self._lock:
            if self.resumed or not self._live or self.next_sample or self._open.frames or self._backlog:
                return False
            if [entry["type"] for entry in read_entries(self.directory)] != ["start"]:
                return False
            self.journal.close()
            self._closed = True
            (self.directory / MANIFEST_NAME).unlink()  # first: without it, what is left is no recording
            (self.directory / JOURNAL_NAME).unlink(missing_ok=True)
            for empty in (self.directory / SEGMENTS_DIR, self.directory):
                with contextlib.suppress(OSError):  # (not empty: kept)
                    empty.rmdir()
            return True

    def finalize(self) -> FinalizedRecording:
        """Close, then write the dossier files (see :func:`capture.finalize.finalize_recording`)."""
        from capture.finalize import finalize_recording

        self.close()
        return finalize_recording(self.directory)
