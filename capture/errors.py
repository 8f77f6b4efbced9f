"""Errors of the capture package."""

from __future__ import annotations


class CaptureError(Exception):
    """Root of every error raised by :mod:`capture`."""


class SourceError(CaptureError):
    """An audio source failed (device gone, stream unreadable); the pipeline retries it."""


class DeviceError(SourceError):
    """A sound device could not be opened or stopped delivering audio."""


class DecodeError(SourceError):
    """ffmpeg could not decode an input, or the input ended early (corrupt or truncated)."""


class RecorderError(CaptureError):
    """The recording directory cannot be used (wrong format, different channel count, ...)."""


class EmptyRecordingError(RecorderError):
    """The recording holds no audio (stopped before any arrived): there is nothing to finalize.

    The recording stays closed and verifiable; no dossier file is written, since an empty FLAC or
    Opus file is not a readable file. ``chain_head`` is the manifest's last hash.
    """

    def __init__(self, message: str, chain_head: str) -> None:
        super().__init__(message)
        self.chain_head = chain_head


class ManifestError(RecorderError):
    """The manifest cannot be read at all (not JSON lines, wrong version)."""


class ExcerptError(CaptureError):
    """An excerpt of a recording cannot be served (see :mod:`capture.excerpt`)."""


class NotRecordedError(ExcerptError):
    """Nothing of the asked stretch has been recorded yet (it starts where the recording has not reached)."""


class ExcerptSourceMissingError(ExcerptError):
    """The recording directory, or a segment file the stretch needs, is not (or no longer) there."""


class SegmentMissingError(ExcerptSourceMissingError):
    """A segment file the stretch needs, listed in the manifest, is not (or no longer) there."""


class SegmentAlteredError(ExcerptError):
    """A segment file's bytes differ from the sha256 in its manifest entry: never served."""
