"""Voice enrolment: CAM++ voiceprints identify enrolled participants and reject strangers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from diarize_helpers import load_audio

from diarize.errors import EnrolmentError
from diarize.types import EnrolledVoice
from diarize.voiceprints import DEFAULT_THRESHOLD, SpeakerNamer, from_bytes, to_bytes, voiceprint


def _utterances(voice: str) -> list[np.ndarray]:
    """The shared-channel turns of ``voice`` (different sentences from its enrolment sample)."""
    from diarize_helpers import FIXTURES

    from diarize.formats import read_rttm

    samples, sr = load_audio("shared3.flac")
    turns = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    return [samples[int(t.start * sr) : int(t.end * sr)] for t in turns if t.speaker == voice]


def test_enrolment_identifies_the_right_participant(enrolled):
    namer = SpeakerNamer(list(enrolled.values()))
    for voice, person in enrolled.items():
        for clip in _utterances(voice):
            match = namer.identify(voiceprint(clip, 16000))
            assert match.participant_id == person.participant_id, (voice, match)
            assert match.role == person.role


def test_a_stranger_is_rejected_as_unknown_speaker(enrolled):
    namer = SpeakerNamer(list(enrolled.values()))
    samples, sr = load_audio("enrol_stranger.flac")
    first = namer.identify(voiceprint(samples, sr))
    assert first.participant_id is None and first.label == "unknown speaker 1"
    # The same stranger again keeps their number; nobody enrolled turns into an unknown speaker.
    assert namer.identify(voiceprint(samples[: len(samples) // 2 + 8000], sr)).label == "unknown speaker 1"


def test_threshold_separates_same_and_different_speakers(enrolled, record_property):
    """Calibration on the fixtures: every same-speaker score above the threshold, every different one below."""
    same, different = [], []
    for voice, person in enrolled.items():
        same += [float(voiceprint(c, 16000) @ person.vector) for c in _utterances(voice)]
    for a, b in itertools.permutations(enrolled, 2):
        different += [float(voiceprint(c, 16000) @ enrolled[b].vector) for c in _utterances(a)]
    stranger = voiceprint(*load_audio("enrol_stranger.flac"))
    different += [float(stranger @ p.vector) for p in enrolled.values()]
    record_property("same", f"{min(same):.2f}..{max(same):.2f}")
    record_property("different", f"{min(different):.2f}..{max(different):.2f}")
    print(f"same speaker {min(same):.2f}..{max(same):.2f}, different {min(different):.2f}..{max(different):.2f}")
    assert max(different) < DEFAULT_THRESHOLD < min(same)


def test_two_speakers_of_one_pass_never_share_a_participant(enrolled):
    namer = SpeakerNamer([enrolled["kal"]])
    kal = enrolled["kal"].vector
    names = namer.name_all(np.stack([kal, kal * 0.99 + 0.01]))
    assert sorted(n.label for n in names) == ["unknown speaker 1", "王磊"]


def test_voiceprint_storage_roundtrip(enrolled):
    vec = enrolled["slt"].vector
    blob = to_bytes(vec)
    assert len(blob) == 192 * 4
    assert np.array_equal(from_bytes(blob), vec)
    assert EnrolledVoice(2, "张三", "plaintiff", from_bytes(blob)).vector.shape == (192,)


def test_unusable_samples_are_refused():
    with pytest.raises(EnrolmentError, match="too short"):
        voiceprint(np.zeros(8000, dtype=np.float32), 16000)
    with pytest.raises(EnrolmentError, match="silent"):
        voiceprint(np.zeros(48000, dtype=np.float32), 16000)
    with pytest.raises(EnrolmentError, match="mono"):
        voiceprint(np.zeros((48000, 2), dtype=np.float32), 16000)


def _at(similarity: float, to: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A unit vector ``(192,)`` at cosine ``similarity`` to the unit vector ``to``."""
    other = rng.standard_normal(192)
    other -= (other @ to) * to
    return similarity * to + np.sqrt(1 - similarity**2) * other / np.linalg.norm(other)


def test_two_unknown_speakers_of_one_pass_are_never_one() -> None:
    # Diarization told two strangers apart; at 0.62 (the top of the calibrated different-speaker
    # range) both became "unknown speaker 1", one at a time.
    rng = np.random.default_rng(0)
    a = rng.standard_normal(192)
    a /= np.linalg.norm(a)
    namer = SpeakerNamer([])
    assert [n.label for n in namer.name_all(np.stack([a, _at(0.62, a, rng)]))] == [
        "unknown speaker 1", "unknown speaker 2"]
    # A later pass with two voices above the threshold to speaker 1 (0.9 and 0.7): the closer one
    # is speaker 1, the other a new speaker, not both speaker 1.
    namer = SpeakerNamer([])
    namer.name_all(a[None])
    again, near = _at(0.9, a, rng), _at(0.7, a, rng)
    assert [n.label for n in namer.name_all(np.stack([near, again]))] == ["unknown speaker 2", "unknown speaker 1"]
    assert namer.identify(_at(0.95, a, rng)).label == "unknown speaker 1"  # still stable
