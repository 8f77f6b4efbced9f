"""Channel health: level meters and alarms for the clerk.

:class:`ChannelHealth` turns chunks into :class:`LevelMeter` events (per-channel RMS and peak,
``meter_hz`` per second) and :class:`ChannelAlarm` events, raised once and cleared once:

* ``dead_channel``: a channel below ``silence_dbfs`` (its mean removed) for ``dead_seconds`` while
  another was live (not for a channel the profile maps to no seat: nothing need be plugged in there);
* ``clipping``: ``clip_samples`` or more samples at full scale within a meter window;
* ``dc_offset``: the mean over an analysis window beyond ``dc_offset``;
* ``hum``: most of a channel's power at the mains frequency and its harmonics.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from capture.types import AlarmKind, AudioChunk, ChannelAlarm, LevelMeter
from hardware.types import CourtroomProfile

HealthEvent = LevelMeter | ChannelAlarm


@dataclass(frozen=True, slots=True)
class HealthOptions:
    meter_hz: float = 10.0
    dead_seconds: float = 30.0
    silence_dbfs: float = -60.0  # quieter than this is "no signal"
    live_dbfs: float = -45.0  # louder than this is a live microphone
    clip_level: float = 0.999
    clip_samples: int = 3
    clip_clear_seconds: float = 2.0
    dc_offset: float = 0.02  # of full scale
    hum_ratio: float = 0.5  # share of the power at mains frequencies
    hum_min_dbfs: float = -55.0  # quieter channels are not judged for hum
    mains_hz: tuple[float, ...] = (50.0, 60.0)
    analysis_seconds: float = 1.0


def _db(x: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, 1e-10))


class ChannelHealth:
    """Stateful meter and alarm logic for one recording's channels (not thread-safe)."""

    def __init__(self, sample_rate: int, channels: int, seats: Sequence[str] = (),
                 options: HealthOptions | None = None, *, unmapped: Collection[int] = ()) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.seats = [seats[c] if c < len(seats) else f"ch{c}" for c in range(channels)]
        self.unmapped = frozenset(unmapped)  # metered, never reported dead
        self.options = opts = options or HealthOptions()
        self.window = max(1, round(sample_rate / opts.meter_hz))
        self.analysis = max(self.window, round(sample_rate * opts.analysis_seconds))
        self._buf = np.zeros((0, channels), dtype=np.float32)  # (frames, channels) not yet metered
        self._buf_start = 0
        self._ana: list[np.ndarray] = []
        self._ana_frames = 0
        self._silent_s = np.zeros(channels)
        self._last_live = np.full(channels, -np.inf)
        self._last_clip = np.full(channels, -np.inf)
        self._active: set[tuple[int, AlarmKind]] = set()
        self._hum_mask = self._mains_mask()

    @classmethod
    def for_profile(cls, profile: CourtroomProfile, options: HealthOptions | None = None) -> ChannelHealth:
        """The health of a room's channels, named by seat. A channel between mapped ones that serves no
        seat (a profile mapping channels 0 and 2) is recorded and metered, but its silence is no alarm:
        it would stand on the clerk's console for the whole hearing."""
        mapped = {s.channel: s.seat for s in profile.channels}
        seats = [mapped.get(c, f"ch{c:02d}") for c in range(profile.channel_count)]
        unmapped = [c for c in range(profile.channel_count) if c not in mapped]
        return cls(profile.sample_rate, profile.channel_count, seats, options, unmapped=unmapped)

    def _mains_mask(self) -> np.ndarray:
        freqs = np.fft.rfftfreq(self.analysis, 1.0 / self.sample_rate)
        mask = np.zeros(len(freqs), dtype=bool)
        for base in self.options.mains_hz:
            for harmonic in (1, 2, 3):
                mask |= np.abs(freqs - base * harmonic) <= 2.0
        return mask

    def process(self, chunk: AudioChunk) -> list[HealthEvent]:
        """Events for the windows this chunk completes, in time order."""
        if chunk.first_sample != self._buf_start + len(self._buf):
            # A gap: start metering afresh at the new position.
            self._buf = np.zeros((0, self.channels), dtype=np.float32)
            self._buf_start = chunk.first_sample
            self._ana, self._ana_frames = [], 0
        self._buf = np.concatenate([self._buf, chunk.samples]) if len(self._buf) else chunk.samples
        events: list[HealthEvent] = []
        while len(self._buf) >= self.window:
            block, self._buf = self._buf[: self.window], self._buf[self.window :]
            events.extend(self._meter(block, self._buf_start / self.sample_rate))
            self._buf_start += self.window
        return events

    def _meter(self, block: np.ndarray, t: float) -> list[HealthEvent]:
        opts = self.options
        dur = len(block) / self.sample_rate
        rms = np.sqrt(np.mean(np.square(block, dtype=np.float64), axis=0))
        peak = np.max(np.abs(block), axis=0)
        events: list[HealthEvent] = [LevelMeter(t, dur, tuple(rms.tolist()), tuple(peak.tolist()))]
        # Silent or live is judged without the block's mean: a dead microphone whose preamp
        # outputs DC carries no sound, however high the DC (that is the dc_offset alarm's job).
        level = _db(np.sqrt(np.mean(np.square(block - block.mean(axis=0), dtype=np.float64), axis=0)))
        self._silent_s = np.where(level < opts.silence_dbfs, self._silent_s + dur, 0.0)
        self._last_live = np.where(level >= opts.live_dbfs, t + dur, self._last_live)
        clipped = np.count_nonzero(np.abs(block) >= opts.clip_level, axis=0)
        self._last_clip = np.where(clipped >= opts.clip_samples, t + dur, self._last_clip)
        for c in range(self.channels):
            others_live = np.delete(self._last_live, c).max(initial=-np.inf) >= t + dur - self._silent_s[c]
            dead = self._silent_s[c] >= opts.dead_seconds and others_live and c not in self.unmapped
            events += self._set(c, "dead_channel", bool(dead) or (self._silent_s[c] > 0 and self._is(c, "dead_channel")),
                                t, float(self._silent_s[c]), f"no signal for {self._silent_s[c]:.0f} s while others speak")
            clipping = t + dur - self._last_clip[c] < opts.clip_clear_seconds
            events += self._set(c, "clipping", bool(clipping), t, float(clipped[c]),
                                f"{clipped[c]} samples at full scale in {dur * 1000:.0f} ms")
        self._ana.append(block)
        self._ana_frames += len(block)
        if self._ana_frames >= self.analysis:
            events += self._analyse(np.concatenate(self._ana)[: self.analysis], t + dur)
            self._ana, self._ana_frames = [], 0
        return events

    def _analyse(self, block: np.ndarray, t: float) -> list[HealthEvent]:
        opts = self.options
        events: list[HealthEvent] = []
        mean = block.mean(axis=0)
        spectrum = np.abs(np.fft.rfft(block - mean, axis=0)) ** 2  # (bins, channels)
        total = spectrum[1:].sum(axis=0) + 1e-20
        hum = spectrum[self._hum_mask].sum(axis=0) / total
        level = _db(np.sqrt(np.mean(np.square(block - mean), axis=0)))
        for c in range(self.channels):
            events += self._set(c, "dc_offset", bool(abs(mean[c]) > opts.dc_offset), t, float(mean[c]),
                                f"DC offset {mean[c]:+.3f} of full scale")
            humming = bool(hum[c] > opts.hum_ratio and level[c] > opts.hum_min_dbfs)
            events += self._set(c, "hum", humming, t, float(hum[c]), f"{hum[c] * 100:.0f}% of the power is mains hum")
        return events

    def _is(self, channel: int, kind: AlarmKind) -> bool:
        return (channel, kind) in self._active

    def _set(self, channel: int, kind: AlarmKind, active: bool, t: float, value: float, message: str) -> list[HealthEvent]:
        key = (channel, kind)
        if active == (key in self._active):
            return []
        if active:
            self._active.add(key)
        else:
            self._active.discard(key)
            message = "cleared"
        return [ChannelAlarm(t, channel, self.seats[channel], kind, active, message, value)]
