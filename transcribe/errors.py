"""Errors of the transcription stage; everything raised here derives from :class:`TranscribeError`."""

from __future__ import annotations


class TranscribeError(Exception):
    """Root of all transcription errors."""


class ModelNotFoundError(TranscribeError):
    """A model name or path that cannot be resolved offline."""


class ModelIntegrityError(TranscribeError):
    """A model's files are present but do not match the expected size or hash."""


class ComputeTypeError(TranscribeError):
    """A compute type the machine's CPU (CTranslate2 build) cannot run: a setting to change, not a damaged model."""


class AudioFormatError(TranscribeError):
    """Audio that cannot be transcribed: unreadable file, wrong shape, rate or sample type."""
