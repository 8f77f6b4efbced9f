"""Exceptions of the diarize package; everything raised here derives from :class:`DiarizeError`."""

from __future__ import annotations


class DiarizeError(Exception):
    """Root of all errors raised by speaker attribution and diarization."""


class ModelUnavailableError(DiarizeError):
    """A diarization or speaker-embedding model could not be found or loaded offline."""


class AudioShapeError(DiarizeError):
    """Audio handed to the diarizer has the wrong shape, rate or length."""


class EnrolmentError(DiarizeError):
    """A voice sample is unusable for enrolment (too short, silent)."""
