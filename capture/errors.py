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


class ManifestError(RecorderError):
    """The manifest cannot be read at all (not JSON lines, wrong version)."""
