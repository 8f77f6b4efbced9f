"""A stretch of a hearing's recording as its listening mix, while the recording is still being made.

While it is made, a recording is in two places: its directory (segment files, each listed in the
manifest with its ``first_sample``, ``frames`` and sha256) and the live recorder's memory (the open
segment, which closes only every ``segment_seconds``, and closed segments the disk has not taken yet).
An excerpt reads the recorder's memory first, then the manifest: a segment written in between is found
in both, and every piece is placed by its ``first_sample``, so finding one twice is harmless. Gaps and
what is not recorded yet are silence. A segment file is used only if it matches its manifest hash.
The channels are mixed as the finalized mixdown is (:func:`capture.finalize.mix_down`, the seat gains
of the manifest's start entry), piece by piece: an excerpt holds one mono buffer, not every channel.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from capture.errors import (
    ExcerptSourceMissingError,
    NotRecordedError,
    SegmentAlteredError,
    SegmentMissingError,
)
from capture.finalize import mix_down, pcm_format, seat_gains
from capture.manifest import MANIFEST_NAME, read_entries
from capture.recorder import quantize
from capture.types import HeldAudio
from capture.verify import time_span


@dataclass(frozen=True, slots=True, eq=False)
class Excerpt:
    """The listening mix of the recording's frames ``first_sample`` to ``first_sample + len(mix)``."""

    sample_rate: int
    first_sample: int
    mix: np.ndarray  # (frames,) float32 in [-1, 1]

    def silenced(self, spans_s: Sequence[tuple[float, float]]) -> Excerpt:
        """A copy silent over ``spans_s`` (recording time, seconds): the hearing's sealed lines, say."""
        mix = self.mix.copy()
        for start_s, end_s in spans_s:
            lo = max(0, round(start_s * self.sample_rate) - self.first_sample)
            hi = min(len(mix), round(end_s * self.sample_rate) - self.first_sample)
            if lo < hi:
                mix[lo:hi] = 0.0
        return Excerpt(self.sample_rate, self.first_sample, mix)

    def wav(self) -> bytes:
        """The excerpt as a WAV file: PCM 16-bit, mono, the recording's sample rate."""
        out = io.BytesIO()
        sf.write(out, quantize(self.mix, "PCM_16"), self.sample_rate, format="WAV", subtype="PCM_16")
        return out.getvalue()


def read_excerpt(directory: Path | str, start_s: float, end_s: float, recorder: Any = None) -> Excerpt:
    """The listening mix of ``[start_s, end_s)`` (recording time) of the recording in ``directory``, with
    what ``recorder`` (the live :class:`capture.recorder.Recorder` writing it, if any) holds in memory.

    Raises :class:`NotRecordedError` when the recording has not reached ``start_s``,
    :class:`ExcerptSourceMissingError` when ``directory`` holds no recording (:class:`SegmentMissingError`
    when it lacks a segment file the stretch needs), :class:`SegmentAlteredError` when such a file differs
    from its manifest hash. These name ``directory`` by its name only (an API answers with them).
    """
    held: list[HeldAudio] = recorder.held_audio() if recorder is not None else []  # before the manifest
    directory = Path(directory)
    if not (directory / MANIFEST_NAME).is_file():
        raise ExcerptSourceMissingError(f"{directory.name} holds no recording")
    entries = read_entries(directory)
    if not entries or entries[0].get("type") != "start":  # (its first write torn or refused by a full disk)
        raise NotRecordedError(f"{directory.name}: the recording has not written its start yet")
    start = entries[0]
    rate = int(start["sample_rate"])
    dtype, scale = pcm_format(start["subtype"])
    gains = seat_gains(start)
    first, last = round(start_s * rate), round(end_s * rate)
    pieces = [e for e in entries if e["type"] in ("segment", "gap")]
    recorded_to = max([e["first_sample"] + e["frames"] for e in pieces] + [h.end_sample for h in held], default=0)
    if first >= recorded_to:
        raise NotRecordedError(f"nothing from {start_s:.2f} s on has been recorded yet "
                               f"(the recording has reached {recorded_to / rate:.2f} s)")
    mix = np.zeros(max(0, last - first), dtype=np.float32)
    for e in pieces:
        if e["type"] == "segment" and e["first_sample"] < last and e["first_sample"] + e["frames"] > first:
            _place(mix, first, e["first_sample"], _segment_pcm(directory, e, dtype, rate), gains, scale)
    for h in held:
        _place(mix, first, h.first_sample, h.pcm, gains, scale)
    return Excerpt(rate, first, mix)


def _segment_pcm(directory: Path, entry: dict[str, Any], dtype: str, rate: int) -> np.ndarray:
    """A segment's int PCM ``(frames, channels)``, decoded from the very bytes checked against its hash."""
    name = entry["file"]
    span = time_span(entry["first_sample"], entry["frames"], rate)
    try:
        data = (directory / name).read_bytes()
    except FileNotFoundError as exc:
        raise SegmentMissingError(f"segment file {name} is no longer in {directory.name}: the recording's "
                                  f"{span} cannot be heard") from exc
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise SegmentAlteredError(f"segment file {name} ({span}) of {directory.name} does not match the sha256 in "
                                  "its manifest entry (altered or damaged): it is not served")
    pcm, _ = sf.read(io.BytesIO(data), dtype=dtype, always_2d=True)
    return pcm[: entry["frames"]]


def _place(mix: np.ndarray, mix_first: int, first: int, pcm: np.ndarray, gains: np.ndarray, scale: float) -> None:
    """Write the mix of ``pcm`` (frames from ``first`` on) where it overlaps ``mix`` (from ``mix_first``)."""
    lo, hi = max(first, mix_first), min(first + len(pcm), mix_first + len(mix))
    if lo < hi:
        mix[lo - mix_first : hi - mix_first] = mix_down(pcm[lo - first : hi - first], gains, scale)
