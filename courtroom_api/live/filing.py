"""What the live pipeline writes to the dossier: the Recording row, final segments, finalized files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from courtroom_api.access import audit
from courtroom_api.blobstore import file_chunks


def create_or_resume_recording(services: Any, hearing_id: int, profile: Any, recorder: Any) -> tuple[int, int]:
    """The hearing's open Recording row (created on first start) and the last persisted event seq."""
    from models import Recording
    from models.base import utcnow

    with services.write_sessions() as session:
        recording = session.scalar(select(Recording).where(
            Recording.hearing_id == hearing_id, Recording.finalized_at.is_(None)).order_by(Recording.id.desc()))
        if recording is None:
            recording = Recording(
                hearing_id=hearing_id, sample_rate=profile.sample_rate, channel_count=profile.channel_count,
                channel_layout=[{"channel": c.channel, "seat": c.seat, "role": c.role} for c in profile.channels],
                started_at=utcnow(),
            )
            session.add(recording)
            session.flush()
            audit(session, "system", "recording.start", f"recording:{recording.id}", hearing_id=hearing_id,
                  directory=str(recorder.directory))
        else:
            audit(session, "system", "recording.resume", f"recording:{recording.id}", hearing_id=hearing_id,
                  resumed_at_sample=recorder.next_sample)
        last = last_persisted_seq(session, hearing_id)
        session.commit()
        return recording.id, last


def last_persisted_seq(session: Any, hearing_id: int) -> int:
    """The highest event seq the dossier holds for a hearing (its finals'): a stream created after a
    restart continues from there, so that screens still holding later numbers get a reset."""
    from models import TranscriptSegment

    last = session.scalar(select(func.max(TranscriptSegment.seq)).where(TranscriptSegment.hearing_id == hearing_id))
    return int(last or 0)


def hearing_stream(services: Any, hearing_id: int) -> Any:
    """The hearing's live stream (``live.hub.HearingStream``): the one this server has, else a new one
    numbered on from the dossier's last seq. A database read when it is created: call from a worker thread."""
    from courtroom_api import sealed_ranges

    stream = services.hub.get(hearing_id)
    if stream is None:
        with services.sessions() as session:
            stream = services.hub.stream(hearing_id, start_seq=last_persisted_seq(session, hearing_id),
                                         sealed_ranges=sealed_ranges.stored(session, hearing_id))
    return stream


def final_values(event: Any, attribution: Any) -> dict[str, Any]:
    """A final transcript event as the column values of its segment row (JSON-able, for the spill file)."""
    seg = event.segment
    return {
        "start_s": seg.start, "end_s": seg.end, "text": seg.text,
        "words": [{"start": w.start, "end": w.end, "word": w.text, "probability": w.probability} for w in seg.words],
        "language": seg.language, "channel": seg.channel, "seat": attribution.seat, "role": attribution.role,
        "participant_id": attribution.participant_id, "confidence": seg.confidence, "engine": seg.engine,
        "model": seg.model,
    }


@dataclass(frozen=True, slots=True)
class Filed:
    """A final in the dossier: its segment, and whether a range seal covers it (it was filed sealed)."""

    segment_id: int
    sealed: bool = False


def file_final(services: Any, hearing_id: int, values: dict[str, Any], seq: int | None = None) -> Filed:
    """Persist a final as a segment.

    With ``seq`` (a final filed late, already published) it is idempotent: a row of this hearing that
    already has that seq is the same final, filed before a crash lost the spill file's update.
    A final in a stretch the bench sealed by time is filed sealed (``sealed_ranges.seal_on_filing``):
    it may come after the seal (held and retried, or transcription behind the audio). The caller
    publishes it as ``Filed.sealed`` says, not as the live stream's copy of the ranges does: a seal
    that committed while this waited for it tells the stream only afterwards.
    """
    from courtroom_api import sealed_ranges
    from models import TranscriptSegment

    with services.write_sessions() as session:
        row = TranscriptSegment(hearing_id=hearing_id, seq=seq, **values)
        sealing = sealed_ranges.seal_on_filing(session, row)  # first: it locks the hearing's row
        if seq is not None:
            existing = session.scalar(select(TranscriptSegment.id).where(
                TranscriptSegment.hearing_id == hearing_id, TranscriptSegment.seq == seq))
            if existing is not None:
                return Filed(int(existing), sealing is not None)
        session.add(row)
        session.flush()
        if seq is not None:  # the record shows which finals reached the dossier late
            audit(session, "system", "transcript.filed_late", f"hearing:{hearing_id}", segment_id=row.id, seq=seq)
        if sealing is not None:
            audit(session, "system", "segment.seal", f"segment:{row.id}", reason=sealing.reason,
                  sealed_range=sealing.id)
        session.commit()
        return Filed(int(row.id), sealing is not None)


def set_segment_seq(services: Any, segment_id: int, seq: int) -> None:
    from models import TranscriptSegment

    with services.write_sessions() as session:
        row = session.get(TranscriptSegment, segment_id)
        row.seq = seq
        session.commit()


def file_recording(services: Any, hearing_id: int, recording_id: int, final: Any) -> None:
    """Put the finalized files into the blob store and attach them to the Recording row."""
    from models import Recording
    from models.base import utcnow

    def put(path: Any) -> str:
        return str(services.blobs.put_stream(file_chunks(path)).sha256)

    recording_sha = put(final.recording.path)
    layout = [{"channel": t.channel, "seat": t.seat, "track_sha256": put(t.path), "mime_type": "audio/flac"}
              for t in final.tracks]
    layout.append({"channel": None, "seat": "mixdown", "track_sha256": put(final.mixdown.path),
                   "mime_type": "audio/ogg"})
    with services.write_sessions() as session:
        recording = session.get(Recording, recording_id)
        roles = {e.get("seat"): e.get("role") for e in recording.channel_layout or []}
        for entry in layout:
            entry["role"] = roles.get(entry["seat"])
        recording.channel_layout = layout
        recording.blob_sha256 = recording_sha
        recording.duration_s = final.duration_s
        recording.chain_head = final.chain_head
        recording.segment_files = [{"path": str(final.directory), "gaps": [
            {"first_sample": g.first_sample, "frames": g.frames, "reason": g.reason} for g in final.gaps]}]
        recording.finalized_at = utcnow()
        audit(session, "system", "recording.finalize", f"recording:{recording_id}", hearing_id=hearing_id,
              sha256=recording_sha, chain_head=final.chain_head, duration_s=round(final.duration_s, 3),
              gaps=len(final.gaps))
        session.commit()


def file_empty_recording(services: Any, hearing_id: int, recording_id: int, chain_head: str) -> None:
    """Close the Recording row of a hearing stopped before any audio arrived: finalized with no files
    (an empty FLAC or Opus would be unreadable) and a duration of 0; the audit log says so."""
    from models import Recording
    from models.base import utcnow

    with services.write_sessions() as session:
        recording = session.get(Recording, recording_id)
        recording.duration_s = 0.0
        recording.chain_head = chain_head
        recording.segment_files = [{"path": str(services.settings.hearing_recording_dir(hearing_id)), "gaps": []}]
        recording.finalized_at = utcnow()
        audit(session, "system", "recording.empty", f"recording:{recording_id}", hearing_id=hearing_id,
              chain_head=chain_head)
        session.commit()


def note_recording_failed(services: Any, hearing_id: int, recording_id: int, action: str, error: str) -> None:
    """Audit why a stop could not finalize or file the recording (``recording.finalize_failed`` …)."""
    with services.write_sessions() as session:
        audit(session, "system", action, f"recording:{recording_id}", hearing_id=hearing_id, error=error)
        session.commit()


def unfiled_recording(session: Any, hearing_id: int) -> int | None:
    """The hearing's recording not yet filed in the dossier (its id), if any."""
    from models import Recording

    return session.scalar(select(Recording.id).where(
        Recording.hearing_id == hearing_id, Recording.finalized_at.is_(None)).order_by(Recording.id).limit(1))


def recording_lost(services: Any, hearing_id: int) -> bool:
    """The hearing's recording directory holds no recording to file (gone with a disk, deleted): nothing
    can file it, so a filing is not tried again and its record may be signed without it."""
    from capture.manifest import MANIFEST_NAME

    return not (services.settings.hearing_recording_dir(hearing_id) / MANIFEST_NAME).is_file()


def file_pending_recordings(services: Any, hearing_id: int | None = None) -> list[str]:
    """Recordings of ended hearings that never reached the dossier (closing, finalizing or filing failed
    at the stop): close and finalize them if need be, verify, file. One line per recording: what was
    done, or why not.

    An ended hearing is no longer running (a stop files the recording before it ends the hearing),
    so this is safe beside a running server. ``hearing_id``: that hearing's only.
    """
    from capture.errors import EmptyRecordingError
    from capture.finalize import is_finalized, read_finalized
    from capture.recorder import Recorder
    from models import Hearing, Recording
    from models.enums import HearingStatus

    with services.sessions() as session:
        stmt = select(Recording.id, Recording.hearing_id).join(Hearing).where(
            Recording.finalized_at.is_(None), Hearing.status == HearingStatus.ENDED).order_by(Recording.id)
        if hearing_id is not None:
            stmt = stmt.where(Recording.hearing_id == hearing_id)
        pending = session.execute(stmt).all()
    report = []
    for recording_id, hearing_id in pending:
        directory = services.settings.hearing_recording_dir(hearing_id)
        try:
            # One filing at a time (the server's start-up sweep and `courtroom recordings file-pending`
            # run at once): two finalized the recording twice, a second "final" entry that breaks its chain.
            with _filing_lock(directory) as locked:
                if not locked:
                    report.append(f"recording {recording_id} of hearing {hearing_id}: left alone, being filed by "
                                  "another process (or held by the running server until the disk takes it)")
                    continue
                with services.sessions() as session:
                    if session.get(Recording, recording_id).finalized_at is not None:
                        report.append(f"recording {recording_id} of hearing {hearing_id}: filed meanwhile")
                        continue
                if is_finalized(directory):
                    final = read_finalized(directory)  # verified there, once
                else:  # the journal's audio is committed first: a close that failed left it there
                    try:
                        final = Recorder.reopen_to_close(directory).finalize()
                    except EmptyRecordingError as empty:
                        file_empty_recording(services, hearing_id, recording_id, empty.chain_head)
                        report.append(f"recording {recording_id} of hearing {hearing_id}: filed, no audio")
                        continue
                file_recording(services, hearing_id, recording_id, final)
            report.append(f"recording {recording_id} of hearing {hearing_id}: filed ({final.duration_s:.1f} s)")
        except Exception as exc:  # one recording failing must not stop the others
            report.append(f"recording {recording_id} of hearing {hearing_id}: NOT filed: {exc}")
    return report


def lock_recording(directory: Path) -> int | None:
    """Take a recording directory's filing lock without waiting: its descriptor (closing it releases the
    lock), or None when another filing, or a running server holding the audio of a recording its stop
    could not write, has it. The lock is on the directory itself: taking it writes nothing (a full disk)."""
    import fcntl

    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def _filing_lock(directory: Path) -> Iterator[bool]:
    """The recording's filing lock while its recording is filed; False (not taken) when held elsewhere."""
    fd = lock_recording(directory)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)
