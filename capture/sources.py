"""``open_source``: the audio source a courtroom profile (or a bare source spec) describes."""

from __future__ import annotations

from collections.abc import AsyncIterable

from capture.device import DeviceSource, EventSink
from capture.errors import SourceError
from capture.ffmpeg_source import FfmpegSource
from capture.replay import ReplaySource
from capture.types import AudioChunk
from hardware.types import AudioSourceSpec, CourtroomProfile


def open_source(
    profile_or_spec: CourtroomProfile | AudioSourceSpec,
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    queue_chunks: int = 256,
    on_event: EventSink | None = None,
) -> AsyncIterable[AudioChunk]:
    """Build (not yet start) the source: iterate it with ``async for`` to capture.

    With a profile, rate and channel count come from it; with a bare spec pass them.
    """
    if isinstance(profile_or_spec, CourtroomProfile):
        spec = profile_or_spec.source
        sample_rate = sample_rate or profile_or_spec.sample_rate
        channels = channels or profile_or_spec.channel_count
    else:
        spec = profile_or_spec
    if not sample_rate:
        raise SourceError("open_source needs a sample rate (from a profile or sample_rate=...)")
    if spec.kind == "device":
        if not channels:
            raise SourceError("a device source needs a channel count (from a profile or channels=...)")
        return DeviceSource(spec.device, sample_rate, channels, queue_chunks=queue_chunks, on_event=on_event)
    if not spec.url:
        raise SourceError(f"a {spec.kind} source needs a url")
    if spec.kind == "ffmpeg":
        # The recording's channel count when it is known: a stream whose sender restarted with another
        # layout is decoded to it and goes on being recorded (it used to end the hearing's recording).
        return FfmpegSource(spec.url, sample_rate, channels=channels)
    return ReplaySource.from_file(spec.url, sample_rate, speed=spec.speed, start_s=spec.start_s)
