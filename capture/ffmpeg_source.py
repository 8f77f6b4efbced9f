"""Any ffmpeg input (files of any container, video files' audio, HTTP/RTSP streams) as audio chunks.

ffmpeg-python builds the command line; the process runs under asyncio so reading its output
never blocks the event loop. All channels are kept; audio is resampled to the requested rate.
A corrupt input, an ffmpeg failure, or a file that decodes to less than its header promises
raises :class:`DecodeError` with ffmpeg's own words.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from capture.errors import DecodeError
from capture.types import AudioChunk
from capture.urls import shown_url, without_secrets

log = logging.getLogger(__name__)
_BYTES_PER_SAMPLE = 4  # float32


@dataclass(frozen=True, slots=True)
class ProbeResult:
    channels: int
    sample_rate: int
    duration_s: float | None  # None for live streams


def probe(url: str) -> ProbeResult:
    """Channels, rate and (if known) duration of the first audio stream of ``url``."""
    import ffmpeg

    try:
        info = ffmpeg.probe(url, **_timeout_options(url))
    except ffmpeg.Error as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise DecodeError(without_secrets(f"cannot read {shown_url(url)}: {detail[-1] if detail else exc}", url)) from exc
    except Exception as exc:  # subprocess.TimeoutExpired, OSError (no ffprobe)
        raise DecodeError(without_secrets(f"cannot probe {shown_url(url)}: {exc}", url)) from exc
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise DecodeError(f"{shown_url(url)} has no audio stream")
    stream = audio[0]
    if int(stream.get("channels") or 0) < 1:
        raise DecodeError(f"{shown_url(url)}: its audio stream has no channels")
    duration = stream.get("duration") or info.get("format", {}).get("duration")
    return ProbeResult(int(stream["channels"]), int(stream["sample_rate"]), float(duration) if duration else None)


def _is_stream(url: str) -> bool:
    return "://" in url and not url.startswith("file:")


def _timeout_options(url: str) -> dict[str, str]:
    """A stream that stops answering must fail, not hang: ffmpeg's I/O timeouts in microseconds."""
    if url.startswith(("rtsp:", "rtsps:")):
        return {"timeout": "10000000"}
    return {"rw_timeout": "10000000"} if _is_stream(url) else {}


class FfmpegSource:
    """Decode ``url`` with ffmpeg to float32 ``(frames, channels)`` chunks at ``sample_rate``."""

    def __init__(self, url: str, sample_rate: int, *, block_frames: int = 0, channels: int | None = None,
                 start_s: float = 0.0) -> None:
        self.url = url
        self.start_s = start_s  # decode from this far into a file
        self.sample_rate = sample_rate
        self.block_frames = block_frames or sample_rate // 10
        self.channels = channels  # None: as many as the input has
        self.notice: str | None = None  # what the pipeline must report once audio flows (a remix)
        self.frames_decoded = 0
        self._proc: asyncio.subprocess.Process | None = None

    def _command(self, channels: int, input_channels: int) -> list[str]:
        import ffmpeg

        in_opts: dict[str, object] = dict(_timeout_options(self.url))
        if self.start_s > 0:
            in_opts["ss"] = f"{self.start_s:.6f}"
        out_opts = {"format": "f32le", "acodec": "pcm_f32le", "ar": self.sample_rate, "map": "0:a:0"}
        if channels != input_channels:
            out_opts["ac"] = channels  # an explicit request to downmix/upmix
        # Otherwise no -ac at all: asking for "4 channels" makes ffmpeg remix quad into its
        # default 4.0 layout, moving seats between channels.
        out = ffmpeg.input(self.url, **in_opts).output("pipe:", **out_opts)
        # Global options must precede the input (ffmpeg ignores trailing ones, with a warning).
        args = ffmpeg.compile(out, overwrite_output=True)
        return [args[0], "-nostdin", "-hide_banner", "-v", "error", *args[1:]]

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        info = await asyncio.to_thread(probe, self.url)
        channels = self.channels or info.channels
        if channels != info.channels:
            message = (f"{shown_url(self.url)} has {info.channels} channel(s); decoded to the recording's {channels}: "
                       "seats may not match their channels")
            log.warning("%s", message)
            self.notice = message
        self._proc = proc = await asyncio.create_subprocess_exec(
            *self._command(channels, info.channels), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        stderr_task = asyncio.create_task(proc.stderr.read())
        block_bytes = self.block_frames * channels * _BYTES_PER_SAMPLE
        try:
            while True:
                wall = time.time()
                try:
                    data = await proc.stdout.readexactly(block_bytes)
                except asyncio.IncompleteReadError as exc:
                    data = exc.partial[: len(exc.partial) - len(exc.partial) % (channels * _BYTES_PER_SAMPLE)]
                    if data:
                        yield self._chunk(data, channels, wall)
                    break
                yield self._chunk(data, channels, wall)
            rc = await proc.wait()
            errors = (await stderr_task).decode(errors="replace").strip()
            self._check(rc, errors, info)
        finally:
            if proc.returncode is None:
                proc.kill()
                # What it wrote before it died is read off, or the pipe stays open and wait() never returns.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.stdout.read(), 10)
                await proc.wait()
            stderr_task.cancel()

    def _chunk(self, data: bytes, channels: int, wall: float) -> AudioChunk:
        samples = np.frombuffer(data, dtype=np.float32).reshape(-1, channels)  # (frames, channels)
        chunk = AudioChunk(samples, self.sample_rate, self.frames_decoded, wall)
        self.frames_decoded += chunk.frames
        return chunk

    def _check(self, rc: int, errors: str, info: ProbeResult) -> None:
        last = errors.splitlines()[-1] if errors else ""
        if rc != 0:
            raise DecodeError(without_secrets(f"ffmpeg failed on {shown_url(self.url)} (exit {rc}): {last or 'no message'}",
                                              self.url))
        if errors:
            raise DecodeError(without_secrets(f"{shown_url(self.url)} is corrupt: ffmpeg reported: {last}", self.url))
        decoded_s = self.frames_decoded / self.sample_rate
        # Headers that promise more than the data holds mean a truncated file; allow codec padding.
        expected_s = None if info.duration_s is None else max(0.0, info.duration_s - self.start_s)
        if expected_s is not None and not _is_stream(self.url) and decoded_s < expected_s - 0.15:
            raise DecodeError(
                f"{shown_url(self.url)} is truncated: decoded {decoded_s:.2f} s of the {info.duration_s:.2f} s its header announces"
            )

    def close(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
