"""Helpers of the diarize tests (a uniquely named module: test dirs are not packages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diarize"


def load_audio(name: str) -> tuple[np.ndarray, int]:
    """Float32 samples ((frames,) mono or (frames, channels)) and the sample rate."""
    samples, sr = sf.read(FIXTURES / name, dtype="float32")
    return samples, int(sr)


def pyannote_sample_dir() -> Path:
    from diarize.weights import import_pyannote

    return Path(import_pyannote().__file__).parent / "sample"
