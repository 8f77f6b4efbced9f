"""Incremental Silero VAD (faster-whisper's bundled ``silero_vad_v6.onnx``) for one audio stream."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per VAD decision (32 ms)


class StreamVad:
    """Speech probabilities per 32 ms window of a stream, computed only for new audio.

    Times are seconds from the start of the recording; ``push`` takes contiguous mono audio.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        from faster_whisper.vad import get_vad_model

        self.model = get_vad_model()
        self.threshold = threshold
        self._pending = np.zeros(0, np.float32)
        self._pending_start_s = 0.0
        self._probs = np.zeros(0, np.float32)  # one per window since _probs_start_s
        self._probs_start_s = 0.0

    def reset(self, start_s: float) -> None:
        """Forget everything; the next audio pushed starts at ``start_s``."""
        self._pending = np.zeros(0, np.float32)
        self._pending_start_s = start_s
        self._probs = np.zeros(0, np.float32)
        self._probs_start_s = start_s

    def push(self, audio: np.ndarray) -> None:
        """Append (frames,) float32 audio and score every complete window."""
        self._pending = np.concatenate([self._pending, audio])
        n = len(self._pending) // WINDOW
        if n == 0:
            return
        probs = np.asarray(self.model(self._pending[: n * WINDOW]), np.float32).ravel()
        self._probs = np.concatenate([self._probs, probs])
        self._pending = self._pending[n * WINDOW :]
        self._pending_start_s += n * WINDOW / SAMPLE_RATE

    def _index(self, t: float) -> int:
        return int(max(0.0, (t - self._probs_start_s)) * SAMPLE_RATE // WINDOW)

    def speech_between(self, start_s: float, end_s: float, min_speech_s: float = 0.1) -> bool:
        """True if at least ``min_speech_s`` of speech lies between the two times."""
        probs = self._probs[self._index(start_s) : self._index(end_s) + 1]
        return float(np.sum(probs >= self.threshold)) * WINDOW / SAMPLE_RATE >= min_speech_s

    def trailing_silence_s(self) -> float:
        """How long the stream has been without speech, up to the last scored window."""
        speech = np.nonzero(self._probs >= self.threshold)[0]
        last = int(speech[-1]) + 1 if len(speech) else 0
        return (len(self._probs) - last) * WINDOW / SAMPLE_RATE

    def forget_before(self, t: float) -> None:
        """Drop probabilities older than ``t`` (keeps memory bounded for long hearings)."""
        i = self._index(t)
        if i > 0:
            self._probs = self._probs[i:]
            self._probs_start_s += i * WINDOW / SAMPLE_RATE
