"""One courtroom's transcription state: a seat gate and one online processor per seat.

Audio comes in as (frames, channels) chunks; only spans where a channel carries its own seat's
speech reach that seat's processor, so decoding grows with speech, not with microphones. Events
get the room's monotonic sequence number when they are published.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transcribe.decoder import SAMPLE_RATE, Decoder
from transcribe.errors import AudioFormatError
from transcribe.online import Conversation, OnlineOptions, OnlineProcessor, SeatInfo
from transcribe.seats import GateOptions, SeatGate
from transcribe.types import TranscriptEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """A channel and who sits there (the transcribe-side view of a profile's SeatChannel)."""

    channel: int
    seat: str
    role: str


class RoomTranscriber:
    """Per-room state; ``feed`` is cheap (event loop), ``process`` decodes (worker thread)."""

    def __init__(self, room_id: str, decoder: Decoder, seats: Sequence[SeatSpec], channels: int,
                 online: OnlineOptions | None = None, gate: GateOptions | None = None) -> None:
        if channels < 1:
            raise AudioFormatError("a room needs at least one channel")
        self.room_id = room_id
        self.channels = channels
        self.gate = SeatGate(channels, gate) if channels > 1 else None
        by_channel = {s.channel: s for s in seats}
        self.conversation = Conversation()  # every seat's decodes are prompted with what the room said
        self.processors: dict[int, OnlineProcessor] = {}
        for ch in range(channels):
            spec = by_channel.get(ch)
            if channels > 1 and spec is None:
                continue  # a channel without a seat is recorded, not transcribed
            info = SeatInfo(stream=f"{room_id}/{spec.seat if spec else ch}", channel=ch,
                            seat=spec.seat if spec else None, role=spec.role if spec else None)
            self.processors[ch] = OnlineProcessor(decoder, online, info, self.conversation)
        self._seq = 0
        self._seq_lock = threading.Lock()
        self.received_until_s = 0.0

    def feed(self, samples: np.ndarray, start_s: float) -> None:
        """Take (frames, channels) float32 audio starting at ``start_s`` (seconds since recording start)."""
        if samples.ndim != 2 or samples.shape[1] != self.channels:
            raise AudioFormatError(f"room {self.room_id} expects (frames, {self.channels}) audio, got {samples.shape}")
        self.received_until_s = start_s + samples.shape[0] / SAMPLE_RATE
        if self.gate is None:
            self.processors[0].insert_audio_chunk(samples[:, 0], start_s)
            return
        for ch, seat in self.processors.items():  # each seat's pause is held by the language it speaks
            self.gate.hangover_s[ch] = seat.hangover_s(self.gate.options.hangover_s)
        for span in self.gate.feed(samples, start_s):
            proc = self.processors.get(span.channel)
            if proc is None:
                continue
            if len(span.audio):
                proc.insert_audio_chunk(span.audio, span.start_s)
            if span.closes:
                proc.mark_pause()

    def stamp(self, events: list[TranscriptEvent]) -> list[TranscriptEvent]:
        """Give events the room's next sequence numbers, in order, stamped with the time they leave the
        transcriber (not when the worker built them: latency figures must include the whole decode turn)."""
        now = time.time()
        with self._seq_lock:
            out = []
            for e in events:
                self._seq += 1
                out.append(dataclasses.replace(e, seq=self._seq, emitted_at=max(e.emitted_at, now)))
            return out

    def finish(self) -> list[TranscriptEvent]:
        """End of the hearing: flush every seat (worker thread). A seat whose last decode fails still gives
        the finals it had committed, and the other seats are flushed (one failing model dropped them all)."""
        events: list[TranscriptEvent] = []
        for ch, proc in self.processors.items():
            try:
                events += proc.finish()
            except Exception:  # supervisor: the model failing its decodes (alarmed by the caller)
                log.exception("room %s, channel %s: the last decode failed; its committed finals are kept",
                              self.room_id, ch)
                events += proc.take_unsent()
        return self.stamp(sorted(events, key=lambda e: (e.segment.start, e.segment.channel or 0)))
