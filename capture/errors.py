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
