"""Generate the capture tests' small multi-channel fixture (deterministic, no speech engine needed).

tests/fixtures/capture/four_seats.flac: 4 channels, 16 kHz, 2 s. Each seat "speaks" (a voiced,
syllable-modulated harmonic sound with its own pitch) in its own half second, and leaks into the other
microphones 20 dB down, as a courtroom array does. Run: python scripts/make_capture_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
TURN_S = 0.5
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "capture" / "four_seats.flac"


def voice(seconds: float, pitch_hz: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    harmonics = sum(np.sin(2 * np.pi * pitch_hz * k * t + rng.uniform(0, 6.28)) / k for k in range(1, 8))
    syllables = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))  # ~4 syllables a second
    return (0.25 * harmonics * syllables + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


def make() -> np.ndarray:
    rng = np.random.default_rng(20261122)
    audio = (0.0003 * rng.standard_normal((int(4 * TURN_S * RATE), 4))).astype(np.float32)  # room noise, (frames, channels)
    for seat, pitch in enumerate((110.0, 210.0, 150.0, 250.0)):
        v = voice(TURN_S, pitch, rng)
        span = slice(int(seat * TURN_S * RATE), int((seat + 1) * TURN_S * RATE))
        audio[span] += 0.1 * v[:, None]  # bleed into every microphone
        audio[span, seat] += 0.9 * v
    return np.clip(audio, -1, 1)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT, make(), RATE, subtype="PCM_16")
    print(OUT, OUT.stat().st_size, "bytes")
