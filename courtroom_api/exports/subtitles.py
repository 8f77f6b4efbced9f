"""Transcript as JSON lines, WebVTT with ``<v Role>`` voice tags, and SRT."""

from __future__ import annotations

import json
from collections.abc import Iterable

from courtroom_api.exports.records import ExportSegment, clock, marked


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_json_lines(segments: Iterable[ExportSegment]) -> str:
    """One JSON object per line per segment (the same shape ``courtroom transcribe`` prints)."""
    lines = []
    for s in segments:
        obj = {
            "id": s.segment_id,
            "start": round(s.start, 3),
            "end": round(s.end, 3),
            "text": s.text,
            "seat": s.seat,
            "role": s.role,
            "participant": s.participant_name,
            "channel": s.channel,
            "sealed": s.sealed,
            "words": [{"start": w.start, "end": w.end, "text": w.text, "p": w.probability} for w in s.words],
        }
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def _one_line(text: str) -> str:
    """A cue's text on one line: a line break (a blank line ends a cue) or control character becomes a space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split()) if text else ""


def to_webvtt(segments: Iterable[ExportSegment]) -> str:
    """WebVTT; the speaker goes into a voice span, e.g. ``<v 原告 张三>``."""
    out = ["WEBVTT", ""]
    for i, s in enumerate(segments, 1):
        voice = _escape_vtt(_one_line(s.label)).replace(">", "")
        out += [str(i), f"{clock(s.start)} --> {clock(max(s.end, s.start))}", f"<v {voice}>{_escape_vtt(_one_line(marked(s.text, s.sealed)))}",
                ""]
    return "\n".join(out)


def _srt_text(text: str) -> str:
    """SubRip has no escapes: an arrow in the text reads as a timing line to players that look for ``-->``."""
    return _one_line(text).replace("-->", "->")


def to_srt(segments: Iterable[ExportSegment]) -> str:
    """SubRip; the speaker's label prefixes the text."""
    out = []
    for i, s in enumerate(segments, 1):
        out += [str(i), f"{clock(s.start, ',')} --> {clock(max(s.end, s.start), ',')}",
                f"{_srt_text(s.label)}：{_srt_text(marked(s.text, s.sealed))}", ""]
    return "\n".join(out)
