"""Interchange formats: pyannote.core ``Annotation``, RTTM, and DER/JER with pyannote.metrics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from diarize.errors import DiarizeError
from diarize.types import SpeakerTurn


def to_annotation(turns: Iterable[SpeakerTurn], uri: str = "hearing") -> Any:
    """Speaker turns as a ``pyannote.core.Annotation`` (one track per turn, labelled by speaker)."""
    from pyannote.core import Annotation, Segment

    annotation = Annotation(uri=uri)
    for k, turn in enumerate(turns):
        if turn.end > turn.start:
            annotation[Segment(turn.start, turn.end), k] = turn.speaker
    return annotation


def from_annotation(annotation: Any, channel: int | None = None) -> tuple[SpeakerTurn, ...]:
    """Turns of a ``pyannote.core.Annotation``, in time order."""
    turns = [
        SpeakerTurn(start=float(seg.start), end=float(seg.end), speaker=str(label), channel=channel)
        for seg, _, label in annotation.itertracks(yield_label=True)
    ]
    return tuple(sorted(turns, key=lambda t: (t.start, t.end, t.speaker)))


def _rttm_label(speaker: str) -> str:
    # RTTM fields are whitespace separated: "unknown speaker 2" becomes "unknown_speaker_2".
    return "_".join(speaker.split()) or "<NA>"


def write_rttm(turns: Iterable[SpeakerTurn], out: TextIO, uri: str = "hearing") -> None:
    """Write turns as RTTM ``SPEAKER`` lines (NIST RT format, channel 1)."""
    safe_uri = _rttm_label(uri)
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        dur = turn.end - turn.start
        if dur > 0:
            out.write(
                f"SPEAKER {safe_uri} 1 {turn.start:.3f} {dur:.3f} <NA> <NA> {_rttm_label(turn.speaker)} <NA> <NA>\n"
            )


def read_rttm(path: Path | str) -> dict[str, tuple[SpeakerTurn, ...]]:
    """Turns per recording ``uri`` from an RTTM file."""
    result: dict[str, list[SpeakerTurn]] = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        try:
            start, dur = float(fields[3]), float(fields[4])
        except (IndexError, ValueError) as exc:
            raise DiarizeError(f"{path}:{lineno}: malformed RTTM line: {line!r}") from exc
        result.setdefault(fields[1], []).append(SpeakerTurn(start=start, end=start + dur, speaker=fields[7]))
    return {uri: tuple(turns) for uri, turns in result.items()}


def diarization_error_rate(
    reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn], collar: float = 0.0,
    skip_overlap: bool = False,
) -> float:
    """DER (missed + false alarm + confusion over reference speech) with pyannote.metrics."""
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    return float(metric(to_annotation(reference), to_annotation(hypothesis)))


def jaccard_error_rate(
    reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn], collar: float = 0.0,
    skip_overlap: bool = False,
) -> float:
    """JER (per-speaker Jaccard error averaged over reference speakers) with pyannote.metrics."""
    from pyannote.metrics.diarization import JaccardErrorRate

    metric = JaccardErrorRate(collar=collar, skip_overlap=skip_overlap)
    return float(metric(to_annotation(reference), to_annotation(hypothesis)))
