"""Fixtures of the diarize tests: generated audio (scripts/make_diarize_fixtures.py)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from diarize_helpers import FIXTURES, load_audio


@pytest.fixture(scope="session")
def hearing4() -> tuple[np.ndarray, int, dict[str, Any]]:
    samples, sr = load_audio("hearing4.flac")
    ref = json.loads((FIXTURES / "hearing4.json").read_text())
    return samples, sr, ref


@pytest.fixture(scope="session")
def diarizer():
    """One pyannote pipeline (segmentation-3.0 + CAM++) for the whole test session."""
    from diarize.shared import SpeakerDiarizer

    return SpeakerDiarizer()


@pytest.fixture(scope="session")
def shared3(diarizer):
    """Three synthetic speakers on one channel, its reference turns, and the full-pass result."""
    from diarize.formats import read_rttm

    samples, sr = load_audio("shared3.flac")
    reference = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    # Bounded by the hearing's participant list (five participants in the demo hearing).
    result = diarizer.diarize(samples, sr, max_speakers=5)
    return samples, sr, reference, result


@pytest.fixture(scope="session")
def enrolled():
    """Voiceprints of the three shared-channel voices, as the dossier would hand them in."""
    from diarize.types import EnrolledVoice
    from diarize.voiceprints import voiceprint

    people = [("kal", 1, "王磊", "presiding_judge"), ("slt", 2, "张三", "plaintiff"), ("m3", 3, "李四", "defendant_counsel")]
    voices = {}
    for voice, pid, name, role in people:
        samples, sr = load_audio(f"enrol_{voice}.flac")
        voices[voice] = EnrolledVoice(pid, name, role, voiceprint(samples, sr))
    return voices
