"""Generate the API tests' small audio fixture: a 4-channel 16 kHz FLAC with a different tone per seat.

Usage: python scripts/make_api_fixtures.py  (writes tests/fixtures/api/four_seats_tones.flac)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "api" / "four_seats_tones.flac"


def main() -> None:
    rate, seconds = 16000, 6.0
    t = np.arange(int(rate * seconds)) / rate
    audio = np.zeros((len(t), 4), np.float32)  # (frames, channels)
    for ch, freq in enumerate((220.0, 330.0, 440.0, 550.0)):
        on = (t >= ch * 1.5) & (t < ch * 1.5 + 1.2)  # each seat "speaks" in turn
        audio[on, ch] = 0.2 * np.sin(2 * np.pi * freq * t[on])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT, audio, rate, subtype="PCM_16")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")




def cut_demo(seconds: float = 22.0) -> None:
    """The first ``seconds`` of the bundled demo hearing (4 seats, bleed), for the real-model API test."""
    import json

    root = Path(__file__).resolve().parents[1]
    src = root / "hardware" / "samples" / "demo_hearing.flac"
    audio, rate = sf.read(src, dtype="float32", always_2d=True)  # (frames, channels)
    out = OUT.parent / f"demo_hearing_{int(seconds)}s.flac"
    sf.write(out, audio[: int(seconds * rate)], rate, subtype="PCM_16")
    meta = json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))
    meta["utterances"] = [u for u in meta["utterances"] if u["end"] <= seconds]
    meta["duration"] = seconds
    out.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
    cut_demo()
