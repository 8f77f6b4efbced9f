"""Fixtures of the transcription tests: the shared model wrapped in a decoder, the speech fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcribe.decoder import Decoder

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
HEARING = ROOT / "hardware" / "samples" / "demo_hearing.flac"


@pytest.fixture(scope="session")
def base_decoder(whisper_base) -> Decoder:
    return Decoder(whisper_base, "base")


def _clip(stem: str) -> tuple[np.ndarray, dict]:
    audio, rate = sf.read(FIXTURES / f"{stem}.flac", dtype="float32")
    assert rate == 16000
    return audio, json.loads((FIXTURES / f"{stem}.json").read_text())


@pytest.fixture(scope="session")
def en_clip() -> tuple[np.ndarray, dict]:
    """~8 s of English, one speaker: (frames,) float32 and its reference."""
    return _clip("speech_en")


@pytest.fixture(scope="session")
def en_credit_clip() -> tuple[np.ndarray, dict]:
    """~7 s of English testimony holding words of Whisper's subtitle credits ("to the end.", "www.")."""
    return _clip("speech_en_credit")


@pytest.fixture(scope="session")
def zh_clip() -> tuple[np.ndarray, dict]:
    """~5 s of Mandarin, one speaker (reference in simplified characters)."""
    return _clip("speech_zh")


@pytest.fixture(scope="session")
def hearing() -> tuple[np.ndarray, dict]:
    """The 4-seat demo hearing: (frames, 4) float32 and its reference."""
    audio, rate = sf.read(HEARING, dtype="float32", always_2d=True)
    assert rate == 16000 and audio.shape[1] == 4
    return audio, json.loads(HEARING.with_suffix(".json").read_text())


@pytest.fixture(scope="session")
def tiny_en_decoder(whisper_model_store) -> Decoder:
    """``tiny.en`` (one thread): for tests of how the streaming core copes, where accuracy is not the point."""
    from transcribe.model_store import load_model

    return Decoder(load_model(whisper_model_store, "tiny.en", cpu_threads=1), "tiny.en")
