import numpy as np
import pytest

from transcribe.errors import AudioFormatError
from transcribe.seats import SeatGate, seat_spans


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_each_utterance_opens_only_its_own_seat(hearing) -> None:
    audio, ref = hearing
    spans = seat_spans(audio)
    for u in ref["utterances"]:
        talk = (u["start"], u["end"])
        own = sum(_overlap(talk, s) for s in spans[u["channel"]])
        assert own >= 0.9 * (talk[1] - talk[0]), u
        others_talking = {v["channel"] for v in ref["utterances"] if _overlap(talk, (v["start"], v["end"])) > 0}
        for ch in set(range(4)) - others_talking:  # bleed on the other microphones stays shut
            assert sum(_overlap(talk, s) for s in spans[ch]) < 0.1, (u, ch)


def test_overlapping_seats_are_both_open(hearing) -> None:
    audio, ref = hearing
    spans = seat_spans(audio)
    a, b = next((u, v) for u, v in zip(ref["utterances"], ref["utterances"][1:], strict=False) if v["start"] < u["end"])
    both = (b["start"], min(a["end"], b["end"]))
    for ch in (a["channel"], b["channel"]):
        assert sum(_overlap(both, s) for s in spans[ch]) >= 0.8 * (both[1] - both[0])


def test_active_time_follows_speech_not_microphones(hearing) -> None:
    audio, ref = hearing
    speech = sum(u["end"] - u["start"] for u in ref["utterances"])
    active = sum(e - s for runs in seat_spans(audio) for s, e in runs)
    assert speech <= active <= 1.3 * speech  # ~ speech + pre-roll/hangover, not 4 x duration
    assert active < 0.5 * 4 * audio.shape[0] / 16000


def test_streaming_gate_matches_offline_gate(hearing) -> None:
    audio, _ = hearing
    gate = SeatGate(4)
    streamed = [0.0] * 4
    for i in range(0, 20 * 16000, 1600):  # 100 ms chunks of the first 20 s
        for span in gate.feed(audio[i : i + 1600], i / 16000):
            streamed[span.channel] += len(span.audio) / 16000
    offline = seat_spans(audio[: 20 * 16000])
    for ch in range(4):
        assert abs(streamed[ch] - sum(e - s for s, e in offline[ch])) < 0.5


def test_gate_rejects_wrong_shapes() -> None:
    with pytest.raises(AudioFormatError, match=r"\(frames, 4\)"):
        SeatGate(4).feed(np.zeros((1600, 2), np.float32), 0.0)


def test_bleed_in_a_seats_hangover_is_silenced() -> None:
    """Seat 0 stops at 1.0 s while seat 1 talks on: during seat 0's hangover its microphone carries
    only seat 1's bleed, which must not reach seat 0's transcriber; seat 0's own speech is untouched."""
    rng = np.random.default_rng(7)
    t = np.arange(32000) / 16000
    voice0 = 0.2 * np.sin(2 * np.pi * 200 * t) * (t < 1.0)
    voice1 = 0.2 * rng.standard_normal(32000) * (t >= 0.8)
    audio = np.stack([voice0 + 0.05 * voice1, voice1 + 0.05 * voice0], axis=1).astype(np.float32)  # -26 dB bleed
    spans = [s for s in SeatGate(2).feed(audio, 0.0) if s.channel == 0]
    heard = np.concatenate([s.audio for s in spans])
    start = spans[0].start_s
    assert start < 0.1 and start + len(heard) / 16000 > 1.2  # the hangover runs on past 1.0 s ...
    after = heard[int((1.02 - start) * 16000) :]
    assert after.size and not after.any()  # ... carrying silence, not seat 1's words
    own = slice(int((0.1 - start) * 16000), int((0.78 - start) * 16000))
    assert np.array_equal(heard[own], audio[int(0.1 * 16000) : int(0.78 * 16000), 0])
