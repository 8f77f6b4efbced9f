"""Core records of the capture stage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class AudioChunk:
    """A block of multi-channel audio as captured.

    Addressed by (recording, first_sample): processing the same chunk twice is harmless.
    """

    samples: np.ndarray  # (frames, channels) float32 in [-1, 1]
    sample_rate: int
    first_sample: int  # index of the first frame since the start of the recording
    wall_time: float  # time.time() when the first frame was captured

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def start_s(self) -> float:
        return self.first_sample / self.sample_rate

    @property
    def end_s(self) -> float:
        return (self.first_sample + self.frames) / self.sample_rate


CaptureEventKind = Literal[
    "overflow",  # the source's bounded queue or the device dropped audio
    "source_error",  # a source failed; the pipeline retries it
    "source_reopened",
    "channels_changed",  # a stream came back with another channel count: decoded to the recording's
    "disk_full",  # ENOSPC while writing; the audio not written is recorded as a gap
    "write_error",  # any other OS error while writing
    "write_resumed",
    "gap",  # a stretch of the timeline with no audio, recorded in the manifest
    "recovered",  # audio recovered from the write-ahead journal after a crash
    "downstream_drop",  # a slow consumer (e.g. the transcriber) missed chunks; the recording did not
]

AlarmKind = Literal["dead_channel", "clipping", "hum", "dc_offset"]


@dataclass(frozen=True, slots=True)
class CaptureEvent:
    """Something the clerk or the operator must know about the capture; never silent."""

    kind: CaptureEventKind
    time_s: float  # position in the recording's timeline
    message: str
    frames: int = 0  # frames concerned (lost, dropped, recovered), when it applies


@dataclass(frozen=True, slots=True)
class LevelMeter:
    """Per-channel levels over one meter window (linear, full scale = 1.0)."""

    time_s: float  # start of the window
    duration_s: float
    rms: tuple[float, ...]
    peak: tuple[float, ...]

    @property
    def rms_dbfs(self) -> tuple[float, ...]:
        return tuple(20.0 * math.log10(max(v, 1e-10)) for v in self.rms)

    @property
    def peak_dbfs(self) -> tuple[float, ...]:
        return tuple(20.0 * math.log10(max(v, 1e-10)) for v in self.peak)


@dataclass(frozen=True, slots=True)
class ChannelAlarm:
    """A channel health alarm raised (``active``) or cleared (not ``active``)."""

    time_s: float
    channel: int
    seat: str
    kind: AlarmKind
    active: bool
    message: str
    value: float = 0.0  # the measurement behind it (seconds silent, clipped ratio, DC, hum ratio)


@dataclass(frozen=True, slots=True)
class Gap:
    """Frames of the timeline with no audio, and why."""

    first_sample: int
    frames: int
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class HeldAudio:
    """Recorded audio a live recorder holds only in memory (its open segment, or a closed one waiting for
    the disk), as the integers its segment file will store."""

    first_sample: int
    pcm: np.ndarray  # (frames, channels) int16 (PCM_16) or int32 (PCM_24, top 24 bits)

    @property
    def end_sample(self) -> int:
        return self.first_sample + int(self.pcm.shape[0])


@dataclass(frozen=True, slots=True)
class FinalFile:
    """One file produced by finalize, as recorded in the manifest."""

    role: str  # "recording", "track", "mixdown"
    path: Path
    sha256: str
    duration_s: float
    channel: int | None = None
    seat: str | None = None


@dataclass(frozen=True, slots=True)
class FinalizedRecording:
    """The dossier's view of a finished hearing recording."""

    directory: Path
    sample_rate: int
    channels: int
    frames: int
    recording: FinalFile  # one multi-channel FLAC (RF64 WAV beyond 8 channels), gaps filled with silence
    tracks: tuple[FinalFile, ...]  # one FLAC per seat
    mixdown: FinalFile  # Opus listening copy
    gaps: tuple[Gap, ...]
    chain_head: str  # the manifest's last hash: keep it elsewhere to detect tail removal

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


BreakKind = Literal["changed", "removed", "inserted", "reordered", "corrupt"]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`capture.verify.verify_recording`: OK or the first break found."""

    ok: bool
    segments: int
    finalized: bool
    kind: BreakKind | None = None
    index: int | None = None  # segment (or manifest entry) where the break is
    message: str = ""
    chain_head: str = ""

    def __str__(self) -> str:
        if self.ok:
            state = "finalized" if self.finalized else "not finalized"
            return f"OK: {self.segments} segments, hash chain intact ({state}), head {self.chain_head}"
        return f"BROKEN ({self.kind}): {self.message}"
