"""Check the filed copies of the hearings' recordings: what the court serves is what was recorded.

A recording is served from the blob store under the sha256 the dossier keeps (also its ETag), never
re-hashed on a download. This check re-hashes each filed file (streamed: they can be gigabytes) against
the dossier, compares the dossier's hashes with the ``final`` entry of the recording's manifest and with
what the audit log recorded at filing, and verifies the recording directory as ``courtroom verify`` does,
its chain ending at the dossier's head. Run by ``courtroom recordings verify``.

The recording directory is looked for where it was filed, then where this server keeps the hearing's
(the filed path is relative with a relative data directory, and stale once the data directory moved).
Found in neither, the recording is not passed as OK: its chain and manifest went unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.errors import ManifestError
from capture.manifest import MANIFEST_NAME, file_sha256, read_entries
from capture.verify import verify_entries, verify_recording
from models.blobs import LocalBlobStore
from models.errors import BlobNotFoundError

FILING_ACTIONS = ("recording.finalize", "recording.empty")  # the audit events that file a recording


@dataclass(frozen=True, slots=True)
class FiledFile:
    """One file of a filed recording, as the dossier names it."""

    label: str  # e.g. "the track of seat judge (channel 0)"
    role: str  # as the manifest's final entry says: recording, track, mixdown
    channel: int | None
    sha256: str


@dataclass(frozen=True, slots=True)
class FiledRecording:
    """What the dossier holds of one filed recording, read before any hashing (no transaction stays
    open for the hours a court's recordings can take to hash)."""

    recording_id: int
    hearing_id: int
    directories: tuple[Path, ...]  # where its recording directory may be: where it was filed, where this server keeps it
    chain_head: str
    files: tuple[FiledFile, ...]
    audited: dict[str, Any] | None  # the details of the audit event that filed it; None: there is none


@dataclass(frozen=True, slots=True)
class RecordingCheck:
    """Outcome for one filed recording: OK, or each problem found."""

    recording_id: int
    hearing_id: int
    files: int
    directory: Path | None  # the recording directory checked; None: none was (not found, or not asked for)
    problems: tuple[str, ...]
    not_found: tuple[Path, ...] = ()  # where its recording directory was looked for in vain

    @property
    def ok(self) -> bool:
        """As recorded, its recording directory included (unless the check was asked to leave it out)."""
        return not self.problems and not self.not_found

    def lines(self) -> list[str]:
        name = f"recording {self.recording_id} of hearing {self.hearing_id}"
        lines = [f"{name}: BROKEN: {problem}" for problem in self.problems]
        if self.not_found:
            where = " nor at ".join(str(d) for d in self.not_found)
            lines.append(f"{name}: NO RECORDING DIRECTORY: it is neither at {where}: its chain and manifest are not "
                         f"checked" + ("" if self.problems else f" ({self.files} filed files as the dossier says)"))
        elif not self.problems:
            where = ("its manifest and recording directory" if self.directory is not None else
                     "the dossier only, as --dossier-only asks")
            lines.append(f"{name}: OK: {self.files} filed files as recorded (checked against {where})")
        return lines


def filed_recordings(session: Session, recordings_dir: Any, hearing_id: int | None = None) -> list[FiledRecording]:
    """The dossier's filed recordings (of ``hearing_id`` only, if given), oldest first.
    ``recordings_dir(hearing_id)``: the directory a hearing records into (a recording that names none)."""
    from models import AuditEvent, Recording

    stmt = select(Recording).where(Recording.finalized_at.is_not(None)).order_by(Recording.id)
    if hearing_id is not None:
        stmt = stmt.where(Recording.hearing_id == hearing_id)
    rows = session.scalars(stmt).all()
    audited: dict[str, dict[str, Any]] = {}
    for event in session.scalars(select(AuditEvent).where(AuditEvent.action.in_(FILING_ACTIONS)).order_by(AuditEvent.id)):
        audited[event.object] = event.details  # the last filing of each recording
    return [FiledRecording(
        recording_id=r.id, hearing_id=r.hearing_id, directories=_directories(r, Path(recordings_dir(r.hearing_id))),
        chain_head=r.chain_head or "", files=tuple(_files(r)), audited=audited.get(f"recording:{r.id}"),
    ) for r in rows]


def _directories(recording: Any, kept: Path) -> tuple[Path, ...]:
    """Where a recording's directory may be: the path filed (as the server had it: relative with a
    relative data directory, stale after the data directory moved), then where this server keeps it."""
    filed = [Path(recording.segment_files[0]["path"])] if recording.segment_files else []
    return tuple(dict.fromkeys([*filed, kept]))


def _files(recording: Any) -> Iterator[FiledFile]:
    if recording.blob_sha256:
        yield FiledFile("the multi-channel recording", "recording", None, recording.blob_sha256)
    for entry in recording.channel_layout or []:
        if not entry.get("track_sha256"):
            continue
        if entry.get("channel") is None:  # filing gives the mixdown no channel
            yield FiledFile("the mixdown", "mixdown", None, entry["track_sha256"])
        else:
            yield FiledFile(f"the track of seat {entry.get('seat')} (channel {entry['channel']})", "track",
                            entry["channel"], entry["track_sha256"])


def check_recording(blobs: LocalBlobStore, filed: FiledRecording, *, dossier_only: bool = False) -> RecordingCheck:
    """Re-hash a filed recording's blobs and compare them with the dossier, its manifest and the audit log.
    ``dossier_only``: leave its recording directory out (archived off this server)."""
    problems = [problem for f in filed.files if (problem := _blob_problem(blobs, f))]
    problems += _audit_problems(filed)
    if dossier_only:
        return RecordingCheck(filed.recording_id, filed.hearing_id, len(filed.files), None, tuple(problems))
    directory = next((d for d in filed.directories if (d / MANIFEST_NAME).is_file()), None)
    if directory is None:
        return RecordingCheck(filed.recording_id, filed.hearing_id, len(filed.files), None, tuple(problems),
                              not_found=filed.directories)
    try:
        entries = read_entries(directory)
    except ManifestError:
        entries = None
    result = (verify_recording(directory) if entries is None  # says why the manifest is unreadable
              else verify_entries(directory, entries, expected_head=filed.chain_head or None))
    if not result.ok:
        problems.append(f"its recording directory {directory}: {result}")
    if entries is not None:
        problems += _manifest_problems(filed, entries)
    return RecordingCheck(filed.recording_id, filed.hearing_id, len(filed.files), directory, tuple(problems))


def _blob_problem(blobs: LocalBlobStore, f: FiledFile) -> str | None:
    try:
        path = blobs.path(f.sha256)
    except BlobNotFoundError:
        return f"{f.label}: the dossier's sha256 {f.sha256!r} is not a blob address"
    if not path.is_file():
        return f"{f.label} is missing from the blob store (blob {f.sha256})"
    digest = file_sha256(path)
    if digest != f.sha256:
        return f"{f.label} was changed in the blob store: {path} hashes to {digest}, filed as {f.sha256}"
    return None


def _audit_problems(filed: FiledRecording) -> list[str]:
    """The dossier's head and recording hash are those the audit log recorded when it was filed."""
    if filed.audited is None:
        return ["the audit log holds no event filing it (recording.finalize or recording.empty)"]
    problems = []
    if filed.audited.get("chain_head") != filed.chain_head:
        problems.append(f"the dossier's chain head {filed.chain_head} is not the one the audit log recorded "
                        f"at filing ({filed.audited.get('chain_head')})")
    recording = next((f.sha256 for f in filed.files if f.role == "recording"), None)
    if filed.audited.get("sha256") != recording:
        problems.append(f"the dossier's sha256 of the multi-channel recording ({recording}) is not the one "
                        f"the audit log recorded at filing ({filed.audited.get('sha256')})")
    return problems


def _manifest_problems(filed: FiledRecording, entries: list[dict[str, Any]]) -> list[str]:
    """The dossier's files are those of the manifest's final entry at the dossier's chain head."""
    if not filed.files:
        return []  # filed without audio: no final entry
    final = next((e for e in entries if e.get("type") == "final" and e.get("chain") == filed.chain_head), None)
    if final is None:
        return [f"its manifest holds no final entry at the dossier's chain head {filed.chain_head}: "
                "the filed files cannot be compared with it"]
    problems = []
    dossier = {(f.role, f.channel): f for f in filed.files}
    for listed in final.get("files", []):
        key = (listed.get("role"), listed.get("channel"))
        f = dossier.pop(key, None)
        if f is None:
            problems.append(f"the manifest's final entry lists {listed.get('file')}, the dossier does not")
        elif f.sha256 != listed.get("sha256"):
            problems.append(f"{f.label}: the dossier's sha256 {f.sha256} is not the manifest's "
                            f"({listed.get('sha256')}, {listed.get('file')})")
    problems += [f"the dossier lists {f.label}, the manifest's final entry does not" for f in dossier.values()]
    return problems
