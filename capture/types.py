"""Core records of the capture stage."""

from __future__ import annotations

from dataclasses import dataclass

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
