"""Transcript output formats: JSON lines, WebVTT (with ``<v Role>`` voices), SubRip, plain text."""

from __future__ import annotations

import json
from collections.abc import Sequence

from transcribe.types import Segment

FORMATS = ("json", "vtt", "srt", "txt")


def segment_record(segment: Segment) -> dict[str, object]:
    """The JSON-lines record of one segment (the documented batch output schema)."""
    return {
        "start": round(segment.start, 3),
        "end": round(segment.end, 3),
        "text": segment.text,
        "seat": segment.seat,
        "role": segment.role,
        "channel": segment.channel,
        "participant_id": segment.participant_id,
        "speaker": segment.speaker,
        "language": segment.language,
        "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text, "p": round(w.probability, 4)}
                  for w in segment.words],
    }


def _clock(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _voice(segment: Segment) -> str:
    who = " ".join(x for x in (segment.role or segment.seat, segment.speaker) if x)
    return _one_line(who.replace(">", "")).strip()


def to_jsonl(segments: Sequence[Segment]) -> str:
    return "".join(json.dumps(segment_record(s), ensure_ascii=False) + "\n" for s in segments)


def _one_line(text: str) -> str:
    """``text`` on one line: a blank line would end a VTT or SRT cue, a line break split a TXT line."""
    return " ".join(line for line in text.splitlines() if line.strip())


def _vtt_escape(text: str) -> str:
    """Text as WebVTT cue text: &, < and > escaped (so "-->" cannot occur), on one line."""
    return _one_line(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def to_vtt(segments: Sequence[Segment]) -> str:
    lines = ["WEBVTT", ""]
    for s in segments:
        voice = _vtt_escape(" ".join(x for x in (s.role or s.seat, s.speaker) if x).strip())
        text = _vtt_escape(s.text)
        lines += [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}", f"<v {voice}>{text}" if voice else text, ""]
    return "\n".join(lines)


def to_srt(segments: Sequence[Segment]) -> str:
    lines: list[str] = []
    for i, s in enumerate(segments, 1):
        voice, text = _voice(s), _one_line(s.text)
        lines += [str(i), f"{_clock(s.start, ',')} --> {_clock(s.end, ',')}", f"{voice}: {text}" if voice else text, ""]
    return "\n".join(lines)


def to_txt(segments: Sequence[Segment]) -> str:
    return "".join(
        f"[{_clock(s.start, '.')}] {_voice(s) + ': ' if _voice(s) else ''}{_one_line(s.text)}\n" for s in segments)


def render(segments: Sequence[Segment], fmt: str) -> str:
    """Render segments in one of :data:`FORMATS`."""
    writers = {"json": to_jsonl, "vtt": to_vtt, "srt": to_srt, "txt": to_txt}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](segments)
