"""Fixtures of the diarize tests: generated audio (scripts/make_diarize_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diarize"


def load_audio(name: str) -> tuple[np.ndarray, int]:
    """Float32 samples ((frames,) mono or (frames, channels)) and the sample rate."""
    samples, sr = sf.read(FIXTURES / name, dtype="float32")
    return samples, int(sr)


@pytest.fixture(scope="session")
def hearing4() -> tuple[np.ndarray, int, dict[str, Any]]:
    samples, sr = load_audio("hearing4.flac")
    ref = json.loads((FIXTURES / "hearing4.json").read_text())
    return samples, sr, ref
