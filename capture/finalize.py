"""Finalize a hearing recording into the files the dossier keeps.

* ``final/recording.flac``: every channel, the whole timeline, gaps filled with silence (the
  manifest says where they are), so positions in it are positions in the hearing; beyond 8 channels
  (more than FLAC holds) ``final/recording.wav``, RF64 (see :mod:`capture.container`);
* ``final/track-NN-<seat>.flac``: one mono track per seat;
* ``final/mixdown.opus``: a mono listening copy (seat gains applied).

Audio is streamed segment by segment, so a long hearing never sits in memory. The recording is
verified first: a broken hash chain is never finalized. Each file's sha256 and duration go into a
``final`` manifest entry, chained like every other.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from capture.container import recording_container
from capture.errors import EmptyRecordingError, RecorderError
from capture.manifest import ManifestWriter, file_sha256, fsync_dir, read_entries
from capture.types import FinalFile, FinalizedRecording, Gap
from capture.verify import verify_recording

FINAL_DIR = "final"
_BLOCK = 1 << 16  # frames of silence written per step over a gap


def _seat_names(start: dict[str, Any]) -> list[str]:
    seats = list(start.get("seats") or [])
    return [seats[c] if c < len(seats) else f"ch{c:02d}" for c in range(start["channels"])]


def seat_gains(start: dict[str, Any]) -> np.ndarray:
    """Each channel's listening gain (linear, float32 ``(channels,)``) from the manifest's start entry."""
    gains = list(start.get("gains_db") or [])
    db = [gains[c] if c < len(gains) else 0.0 for c in range(start["channels"])]
    return (10.0 ** (np.asarray(db, dtype=np.float32) / 20.0)).astype(np.float32)


def pcm_format(subtype: str) -> tuple[str, float]:
    """(numpy dtype, full scale) of the integers a recording of ``subtype`` stores and is read back as."""
    return ("int16", 32768.0) if subtype == "PCM_16" else ("int32", 2147483648.0)


def mix_down(pcm: np.ndarray, gains: np.ndarray, scale: float) -> np.ndarray:
    """The listening mix of int PCM ``(frames, channels)``: float32 ``(frames,)`` in [-1, 1], each seat at
    its gain. The one mix of the recording: the finalized mixdown and the excerpts played mid-hearing."""
    mono = (pcm.astype(np.float32) / scale) @ gains / np.sqrt(pcm.shape[1])
    return np.clip(mono, -1.0, 1.0).astype(np.float32)


def _timeline(directory: Path, entries: list[dict[str, Any]], dtype: str):
    """Yield int PCM blocks ``(frames, channels)`` covering the timeline in order, gaps as zeros."""
    channels = entries[0]["channels"]
    for e in entries:
        if e["type"] == "segment":
            pcm, _ = sf.read(directory / e["file"], dtype=dtype, always_2d=True)
            yield pcm
        elif e["type"] == "gap":
            left = e["frames"]
            while left > 0:
                n = min(left, _BLOCK)
                yield np.zeros((n, channels), dtype=dtype)
                left -= n


class _Mixdown:
    """Pipes the mono mix to ffmpeg's Opus encoder."""

    def __init__(self, path: Path, sample_rate: int) -> None:
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sample_rate), "-ac", "1",
               "-i", "pipe:", "-c:a", "libopus", "-b:a", "32k", "-f", "ogg", str(path)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, mono: np.ndarray) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(mono.astype("<f4").tobytes())

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        err = self.proc.stderr.read().decode(errors="replace").strip()
        if self.proc.wait() != 0:
            raise RecorderError(f"ffmpeg could not encode the Opus mixdown: {err}")


def _write_files(directory: Path, entries: list[dict[str, Any]]) -> tuple[int, list[Path]]:
    start = entries[0]
    rate, channels, subtype = start["sample_rate"], start["channels"], start["subtype"]
    dtype, scale = pcm_format(subtype)
    final = directory / FINAL_DIR
    final.mkdir(exist_ok=True)
    seats = _seat_names(start)
    track_paths = [final / f"track-{c:02d}-{re.sub(r'[^A-Za-z0-9_-]', '_', seats[c])}.flac" for c in range(channels)]
    gains = seat_gains(start)
    frames = 0
    mix = _Mixdown(final / "mixdown.opus", rate)
    container = recording_container(channels)
    whole_path = final / f"recording{container.suffix}"
    with sf.SoundFile(whole_path, "w", rate, channels, subtype, format=container.format) as whole:
        tracks = [sf.SoundFile(p, "w", rate, 1, subtype, format="FLAC") for p in track_paths]
        try:
            for pcm in _timeline(directory, entries, dtype):  # (frames, channels)
                whole.write(pcm)
                for c, track in enumerate(tracks):
                    track.write(np.ascontiguousarray(pcm[:, c]))
                mix.write(mix_down(pcm, gains, scale))
                frames += len(pcm)
        finally:
            for track in tracks:
                track.close()
            mix.close()
    return frames, [whole_path, *track_paths, final / "mixdown.opus"]


def _final_file(directory: Path, path: Path, role: str, duration: float, channel: int | None = None,
                seat: str | None = None) -> FinalFile:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    return FinalFile(role, path, file_sha256(path), duration, channel, seat)


def finalize_recording(directory: Path | str) -> FinalizedRecording:
    """Write and hash the dossier files of a closed recording; record them in the manifest.

    Raises :class:`EmptyRecordingError` for a recording without a single frame."""
    directory = Path(directory)
    check = verify_recording(directory)
    if not check.ok:
        raise RecorderError(f"refusing to finalize {directory}: {check}")
    if check.finalized:
        raise RecorderError(f"{directory} is already finalized")
    entries = read_entries(directory)
    if not any(e["type"] in ("segment", "gap") and e["frames"] > 0 for e in entries):
        # Stopped before any audio arrived: libsndfile leaves an empty file and ffmpeg a malformed
        # Opus, which the dossier would file as if they were the hearing's recording.
        raise EmptyRecordingError(f"{directory} holds no audio; nothing to finalize", check.chain_head)
    start = entries[0]
    rate = start["sample_rate"]
    frames, paths = _write_files(directory, entries)
    fsync_dir(directory / FINAL_DIR)
    duration = frames / rate
    seats = _seat_names(start)
    recording = _final_file(directory, paths[0], "recording", duration)
    tracks = tuple(_final_file(directory, p, "track", duration, c, seats[c]) for c, p in enumerate(paths[1:-1]))
    mixdown = _final_file(directory, paths[-1], "mixdown", duration)
    body = {
        "type": "final", "frames": frames, "duration_s": duration,
        "files": [
            {"role": f.role, "file": str(f.path.relative_to(directory)), "sha256": f.sha256,
             "duration_s": f.duration_s, "channel": f.channel, "seat": f.seat}
            for f in (recording, *tracks, mixdown)
        ],
    }
    entry = ManifestWriter(directory, entries[-1]["chain"]).append(body)
    return _finalized(directory, [*entries, entry])


def is_finalized(directory: Path | str) -> bool:
    """Whether the manifest ends with its ``final`` entry (the manifest only: no file is hashed);
    False where there is no readable manifest."""
    try:
        entries = read_entries(Path(directory))
    except (OSError, RecorderError):
        return False
    return bool(entries) and entries[-1].get("type") == "final"


def read_finalized(directory: Path | str) -> FinalizedRecording:
    """The dossier's view of a recording finalized earlier (verified first), e.g. to file it again
    after the dossier refused it."""
    directory = Path(directory)
    check = verify_recording(directory)
    if not check.ok or not check.finalized:
        raise RecorderError(f"{directory} is not a verified, finalized recording: {check}")
    return _finalized(directory, read_entries(directory))


def _finalized(directory: Path, entries: list[dict[str, Any]]) -> FinalizedRecording:
    """From a manifest whose last entry is the ``final`` one."""
    start, final = entries[0], entries[-1]
    files = [FinalFile(f["role"], directory / f["file"], f["sha256"], f["duration_s"], f["channel"], f["seat"])
             for f in final["files"]]
    gaps = tuple(Gap(e["first_sample"], e["frames"], e["reason"]) for e in entries if e["type"] == "gap")
    return FinalizedRecording(directory, start["sample_rate"], start["channels"], final["frames"], files[0],
                              tuple(f for f in files if f.role == "track"), files[-1], gaps, final["chain"])
