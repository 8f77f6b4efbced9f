"""Annotation, RTTM and DER/JER round trips."""

from __future__ import annotations

import io

import pytest
from diarize_helpers import FIXTURES

from diarize.formats import (
    diarization_error_rate,
    from_annotation,
    jaccard_error_rate,
    read_rttm,
    to_annotation,
    write_rttm,
)
from diarize.types import SpeakerTurn


def test_rttm_roundtrip_keeps_turns(tmp_path):
    turns = read_rttm(FIXTURES / "shared3.rttm")["shared3"]
    out = io.StringIO()
    write_rttm(turns, out, uri="shared3")
    path = tmp_path / "x.rttm"
    path.write_text(out.getvalue())
    again = read_rttm(path)["shared3"]
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in again] == [
        (round(t.start, 3), round(t.end, 3), t.speaker) for t in turns
    ]


def test_labels_with_spaces_stay_one_rttm_field():
    out = io.StringIO()
    write_rttm([SpeakerTurn(1.0, 2.5, "unknown speaker 2")], out, uri="hearing 7")
    fields = out.getvalue().split()
    assert len(fields) == 10 and fields[1] == "hearing_7" and fields[7] == "unknown_speaker_2"


def test_annotation_roundtrip():
    turns = (SpeakerTurn(0.0, 1.0, "a"), SpeakerTurn(0.5, 2.0, "b"), SpeakerTurn(3.0, 4.0, "a"))
    annotation = to_annotation(turns, uri="h")
    assert annotation.uri == "h" and sorted(annotation.labels()) == ["a", "b"]
    assert from_annotation(annotation) == turns


def test_der_and_jer():
    ref = [SpeakerTurn(0.0, 10.0, "a"), SpeakerTurn(10.0, 20.0, "b")]
    same_labels_renamed = [SpeakerTurn(0.0, 10.0, "x"), SpeakerTurn(10.0, 20.0, "y")]
    assert diarization_error_rate(ref, same_labels_renamed) == 0.0
    assert jaccard_error_rate(ref, same_labels_renamed) == 0.0
    half_wrong = [SpeakerTurn(0.0, 15.0, "x"), SpeakerTurn(15.0, 20.0, "y")]
    assert diarization_error_rate(ref, half_wrong) == pytest.approx(0.25)
