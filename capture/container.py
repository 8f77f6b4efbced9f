"""Which container holds a recording's multi-channel audio: FLAC for up to 8 channels, WAV beyond.

FLAC holds at most 8 channels (libsndfile refuses more: "Format not recognised"), and a courtroom with
a panel, a clerk, counsel and witnesses has 12-16 seats. Such rooms are recorded losslessly in WAV
instead: segments as WAVE_FORMAT_EXTENSIBLE (10 s each, small), the finalized whole as RF64 (WAV
that may pass 4 GB, as a day's hearing does). Up to 8 channels nothing changes. Per-seat tracks are
mono and stay FLAC; the mixdown is mono Opus.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAC_MAX_CHANNELS = 8


@dataclass(frozen=True, slots=True)
class Container:
    """A libsndfile major format (soundfile's name), the file name suffix and the MIME type it is served as."""

    format: str
    suffix: str
    mime_type: str


FLAC = Container("FLAC", ".flac", "audio/flac")
WAVEX = Container("WAVEX", ".wav", "audio/wav")
RF64 = Container("RF64", ".wav", "audio/wav")
SEGMENT_SUFFIXES = (FLAC.suffix, WAVEX.suffix)


def segment_container(channels: int) -> Container:
    """The container of a recording's 10 s segment files."""
    return FLAC if channels <= FLAC_MAX_CHANNELS else WAVEX


def recording_container(channels: int) -> Container:
    """The container of the finalized multi-channel recording (``final/recording.<suffix>``)."""
    return FLAC if channels <= FLAC_MAX_CHANNELS else RF64
