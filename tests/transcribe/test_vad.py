import numpy as np
import pytest

from transcribe.vad import WINDOW, StreamVad


def _pushed(audio: np.ndarray, chunk: int, start_s: float = 0.0) -> StreamVad:
    vad = StreamVad()
    vad.reset(start_s)
    for i in range(0, len(audio), chunk):
        vad.push(audio[i : i + chunk])
    return vad


def _speech_s(vad: StreamVad) -> float:
    return float(np.sum(vad._probs >= vad.threshold)) * WINDOW / 16000


@pytest.mark.parametrize("chunk_ms", [20, 50, 100])
def test_speech_does_not_depend_on_how_the_stream_is_chunked(en_clip, chunk_ms) -> None:
    """A live stream arrives in 20-100 ms chunks: the VAD hears the same speech as in one piece
    (it used to start each chunk afresh: 4.4 s of the clip's 6 s of speech at 50 ms chunks, with a
    false 0.5 s pause mid-sentence, long enough to end the utterance there)."""
    audio, ref = en_clip
    whole = _pushed(audio, len(audio))
    chunked = _pushed(audio, chunk_ms * 16)
    assert len(chunked._probs) == len(whole._probs) == len(audio) // WINDOW
    np.testing.assert_allclose(chunked._probs, whole._probs, atol=1e-3)
    assert abs(_speech_s(chunked) - _speech_s(whole)) <= 0.04
    assert _speech_s(whole) >= 0.8 * (ref["end"] - ref["start"])
    assert chunked.trailing_silence_s() == whole.trailing_silence_s()
    # no pause of end_silence_s (0.5 s) inside the spoken sentences
    speech = np.nonzero(chunked._probs >= chunked.threshold)[0]
    assert np.max(np.diff(speech)) * WINDOW / 16000 < 0.5


def test_reset_starts_a_new_stream(en_clip, zh_clip) -> None:
    """After a reset, nothing of the stream before carries over."""
    en, zh = en_clip[0], zh_clip[0]
    vad = _pushed(en, 800)
    vad.reset(100.0)
    for i in range(0, len(zh), 800):
        vad.push(zh[i : i + 800])
    fresh = _pushed(zh, 800, 100.0)
    np.testing.assert_allclose(vad._probs, fresh._probs, atol=1e-3)
    assert vad.speech_between(100.0, 100.0 + len(zh) / 16000)
