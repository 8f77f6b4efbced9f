"""Wire payloads of live events (the JSON ``data`` of hub events), built from pipeline records."""

from __future__ import annotations

import re
from typing import Any

from capture.urls import URL_PATTERN, shown_url
from courtroom_api.exports.records import SEALED_TEXT, role_label

# Capture reports that end an earlier one's alarm: the clerk console clears the kinds listed in ``clears``
# (disk_full and write_resumed stayed on it side by side, both active, for the rest of the hearing).
CLEARED_BY = {"write_resumed": ("disk_full", "write_error"), "source_reopened": ("source_error",)}
_QUOTED_PATH = re.compile(r": '/[^']*'")  # an OSError's file name
# A URL (its path is the stream's, kept; not its last punctuation), or elsewhere a path on the server (a
# model's, a file source's; quoted, with its spaces).
_URL_OR_PATH = re.compile(rf"(?P<url>{URL_PATTERN})"
                          r"|(?<=')(?P<quoted>/[^'\n]*)(?=')|(?<![\w.])/[^\s'\":;,]+")
SERVER_PATH = "a path on the server"


def scrub(message: str, *, path_as: str = SERVER_PATH) -> str:
    """An alarm's message as every viewer of the hearing gets it (parties and room terminals too): no
    password of a stream's URL (``rtsp://user:pass@host`` → ``rtsp://host``, ``?token=…`` → ``?token=***``) and no server path (each
    one, a ``file:`` URL too, ``path_as``). The server's log keeps the whole text."""
    def clean(match: re.Match[str]) -> str:
        url = match.group("url")
        if url is None or url.lower().startswith("file:"):
            return path_as
        return shown_url(url)  # no user name, password or secret query value

    return _URL_OR_PATH.sub(clean, message)


def seat_table(profile: Any) -> list[dict[str, Any]]:
    return [{"channel": c.channel, "seat": c.seat, "role": c.role, "label": c.label} for c in profile.channels]


def seat_specs(profile: Any) -> list[Any]:
    """The transcriber's view of the profile's channel → seat → role map."""
    from transcribe.room import SeatSpec

    return [SeatSpec(channel=c.channel, seat=c.seat, role=c.role) for c in profile.channels]


def transcript_data(event: Any, attribution: Any, *, segment_id: int | None = None) -> dict[str, Any]:
    """A transcript event with seat, role and participant; words as ``{start, end, text, p}``."""
    seg = event.segment
    return {
        "kind": event.kind,
        "segment_id": segment_id,
        "revision": 0,  # as transcribed; a correction comes as transcript.revised with its revision
        "stream": event.stream,
        "start": round(seg.start, 3),
        "end": round(seg.end, 3),
        "text": seg.text,
        "channel": seg.channel,
        "seat": attribution.seat,
        "role": attribution.role,
        "role_label": role_label(attribution.role, attribution.participant_name),
        "participant_id": attribution.participant_id,
        "participant": attribution.participant_name,
        "seat_confidence": round(attribution.confidence, 3),  # share of bleed-compensated speech power
        "language": seg.language,
        "confidence": round(seg.confidence, 3),
        "words": [{"start": w.start, "end": w.end, "text": w.text, "p": w.probability} for w in seg.words],
        "emitted_at": event.emitted_at,
        "transcriber_seq": event.seq,
    }


def as_filed(data: dict[str, Any], sealed: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A transcript event's data marked ``sealed`` as the dossier has its line (the bench tags it and offers
    to unseal it), and what those who may not see sealed content get instead (None: the same). Every path
    that publishes a filed line goes through here, so a final and its replay agree with the dossier."""
    data = {**data, "sealed": sealed}
    return data, ({**data, "text": SEALED_TEXT, "words": []} if sealed else None)


def capture_event(event: Any) -> tuple[str, dict[str, Any]]:
    """(hub type, data) for a capture-stage record: level meter, channel alarm or capture report."""
    from capture.types import CaptureEvent, ChannelAlarm, LevelMeter

    if isinstance(event, LevelMeter):
        return "meter", {"time_s": round(event.time_s, 3), "rms_dbfs": [round(v, 1) for v in event.rms_dbfs],
                         "peak_dbfs": [round(v, 1) for v in event.peak_dbfs]}
    if isinstance(event, ChannelAlarm):
        return "alarm", {"kind": event.kind, "active": event.active, "channel": event.channel, "seat": event.seat,
                         "time_s": round(event.time_s, 3), "message": event.message, "value": event.value}
    if isinstance(event, CaptureEvent):
        clears = CLEARED_BY.get(event.kind)
        message = event.message
        if event.kind in ("disk_full", "write_error"):  # its path: the hearing's directory (see scrub)
            message = scrub(_QUOTED_PATH.sub("", message), path_as="the hearing's recording directory")
        data: dict[str, Any] = {"kind": event.kind, "active": clears is None, "time_s": round(event.time_s, 3),
                                "message": message, "frames": event.frames}
        if clears is not None:
            data["clears"] = list(clears)
        return "alarm", data
    return "alarm", {"kind": "unknown", "active": True, "message": repr(event)}
