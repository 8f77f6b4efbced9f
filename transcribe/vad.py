"""Incremental Silero VAD (faster-whisper's bundled ``silero_vad_v6.onnx``) for one audio stream."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per VAD decision (32 ms)
CONTEXT = 64  # samples of the previous window that Silero hears before each window
STATE_SHAPE = (1, 1, 128)  # the LSTM's h and c in faster-whisper's silero_vad_v6.onnx


class StreamVad:
    """Speech probabilities per 32 ms window of a stream, computed only for new audio.

    Times are seconds from the start of the recording; ``push`` takes contiguous mono audio. The
    model's LSTM state and the last ``CONTEXT`` samples carry over from one ``push`` to the next, so
    the probabilities are those of the stream scored in one piece, however the audio is chunked
    (faster-whisper's ``SileroVADModel.__call__`` starts every call afresh: at 50 ms chunks it heard
    4.4 s of speech_en.flac's 6 s of speech, with a false 0.5 s pause mid-sentence).
    """

    def __init__(self, threshold: float = 0.5) -> None:
        from faster_whisper.vad import get_vad_model

        self.session = get_vad_model().session  # onnxruntime session: safe to share between streams
        self.threshold = threshold
        self._h = np.zeros(STATE_SHAPE, np.float32)
        self._c = np.zeros(STATE_SHAPE, np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
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
        self._h = np.zeros(STATE_SHAPE, np.float32)
        self._c = np.zeros(STATE_SHAPE, np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def push(self, audio: np.ndarray) -> None:
        """Append (frames,) float32 audio and score every complete window."""
        self._pending = np.concatenate([self._pending, np.asarray(audio, np.float32)])
        n = len(self._pending) // WINDOW
        if n == 0:
            return
        windows = self._pending[: n * WINDOW].reshape(n, WINDOW)
        # Each window is heard after the last CONTEXT samples before it: (n, CONTEXT + WINDOW).
        context = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]])
        batch = np.concatenate([context, windows], axis=1)
        probs, self._h, self._c = self.session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT:].copy()
        self._probs = np.concatenate([self._probs, np.asarray(probs, np.float32).ravel()])
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
