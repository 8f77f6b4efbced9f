"""Per-seat gating: which microphone channels carry their own seat's speech right now.

Every voice reaches the other microphones too (bleed), attenuated by roughly 15–25 dB and a few
milliseconds late. A channel is *active* in a 20 ms frame when it is loud enough in absolute terms
and not much quieter than the loudest channel (within ``bleed_margin_db``): bleed is far below its
source, while two seats talking at once are both near the top. The frames are long compared with
the bleed delay, so no explicit time alignment is needed. A hangover bridges pauses between words
and a pre-roll keeps the onset, so each active span is one utterance of that seat; hangover frames
in which the channel carries only another seat's bleed are passed on as silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transcribe.errors import AudioFormatError

SAMPLE_RATE = 16000
FRAME = 320  # 20 ms


@dataclass(frozen=True, slots=True)
class GateOptions:
    """Thresholds of the seat gate (levels in dBFS, times in seconds)."""

    activity_dbfs: float = -48.0  # below this a channel is silent whatever the others do
    bleed_margin_db: float = 10.0  # active if within this many dB of the loudest channel
    hangover_s: float = 0.35  # stay active across short pauses
    pre_roll_s: float = 0.2  # audio kept before an onset
    min_active_s: float = 0.12  # shorter bursts (a cough, a tap) are ignored


@dataclass(frozen=True, slots=True)
class SeatSpan:
    """Audio of one channel that carries its own seat's speech: (frames,) float32 from ``start_s``."""

    channel: int
    start_s: float
    audio: np.ndarray
    closes: bool = False  # the span ends here (the seat went quiet)


@dataclass(slots=True)
class _ChannelState:
    active: bool = False
    quiet_frames: int = 0
    loud_frames: int = 0
    pre_roll: list[np.ndarray] = field(default_factory=list)
    pending: list[np.ndarray] = field(default_factory=list)  # onset candidates not yet confirmed
    pending_start_s: float = 0.0


def frame_levels_db(samples: np.ndarray) -> np.ndarray:
    """(frames, channels) audio → (n_frames, channels) RMS level in dBFS per 20 ms frame."""
    n = samples.shape[0] // FRAME
    blocks = samples[: n * FRAME].reshape(n, FRAME, samples.shape[1])
    rms = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-10)


def dominant_mask(levels: np.ndarray, options: GateOptions) -> np.ndarray:
    """(n_frames, channels) bool: the channel is loud and within the bleed margin of the loudest."""
    loudest = levels.max(axis=1, keepdims=True)
    return (levels > options.activity_dbfs) & (levels >= loudest - options.bleed_margin_db)


def bleed_mask(levels: np.ndarray, options: GateOptions) -> np.ndarray:
    """(n_frames, channels) bool: someone is speaking and this channel is far below them (only bleed)."""
    loudest = levels.max(axis=1, keepdims=True)
    return (loudest > options.activity_dbfs) & (levels < loudest - options.bleed_margin_db)


class SeatGate:
    """Streaming gate over a room's channels; feed (frames, channels) audio, get per-seat spans."""

    def __init__(self, channels: int, options: GateOptions | None = None) -> None:
        self.options = options or GateOptions()
        self.channels = channels
        self.state = [_ChannelState() for _ in range(channels)]
        self._carry = np.zeros((0, channels), np.float32)
        self._carry_start_s: float | None = None
        self.active_seconds = [0.0] * channels
        # per channel, so that a seat's pause can be held by the language it speaks (RoomTranscriber.feed)
        self.hangover_s = [self.options.hangover_s] * channels

    def feed(self, samples: np.ndarray, start_s: float) -> list[SeatSpan]:
        """Gate one block of (frames, channels) float32 audio starting at ``start_s``."""
        if samples.ndim != 2 or samples.shape[1] != self.channels:
            raise AudioFormatError(f"seat gate expects (frames, {self.channels}) audio, got {samples.shape}")
        if self._carry_start_s is None or not len(self._carry):
            self._carry_start_s = start_s
        audio = np.concatenate([self._carry, samples.astype(np.float32, copy=False)])
        n = audio.shape[0] // FRAME
        self._carry = audio[n * FRAME :]
        t0 = self._carry_start_s
        self._carry_start_s = t0 + n * FRAME / SAMPLE_RATE
        if n == 0:
            return []
        levels = frame_levels_db(audio[: n * FRAME])
        mask = dominant_mask(levels, self.options)
        bleed = bleed_mask(levels, self.options)
        spans: list[SeatSpan] = []
        for ch in range(self.channels):
            spans += self._channel(ch, audio[: n * FRAME, ch], mask[:, ch], bleed[:, ch], t0)
        return spans

    def _channel(self, ch: int, audio: np.ndarray, mask: np.ndarray, bleed: np.ndarray, t0: float) -> list[SeatSpan]:
        o, st = self.options, self.state[ch]
        hang = int(self.hangover_s[ch] * SAMPLE_RATE / FRAME)
        need = max(1, int(o.min_active_s * SAMPLE_RATE / FRAME))
        keep = max(1, int(o.pre_roll_s * SAMPLE_RATE / FRAME))
        out: list[SeatSpan] = []
        run: list[np.ndarray] = []
        run_start = 0.0
        for i, loud in enumerate(mask):
            frame = audio[i * FRAME : (i + 1) * FRAME]
            t = t0 + i * FRAME / SAMPLE_RATE
            if st.active:
                if not run:
                    run_start = t
                # In the hangover after a seat's words, another seat's speech can be all this channel
                # carries: that bleed is silenced, or this seat's transcript would get the other's
                # words ("... with interest. Not." from the defendant's "that is not true").
                run.append(np.zeros_like(frame) if bleed[i] else frame)
                st.quiet_frames = 0 if loud else st.quiet_frames + 1
                if st.quiet_frames > hang:
                    st.active = False
                    out.append(SeatSpan(ch, run_start, np.concatenate(run), closes=True))
                    run = []
                continue
            if loud:
                if not st.pending:
                    st.pending_start_s = t - len(st.pre_roll) * FRAME / SAMPLE_RATE
                    st.pending = list(st.pre_roll)
                    st.pre_roll = []
                st.pending.append(frame)
                st.loud_frames += 1
                if st.loud_frames >= need:  # confirmed onset: pre-roll + pending become the span's start
                    st.active, st.quiet_frames, st.loud_frames = True, 0, 0
                    run_start, run, st.pending = st.pending_start_s, st.pending, []
            else:
                if st.pending:  # a burst too short to count: back to pre-roll
                    st.pre_roll = st.pending[-keep:]
                    st.pending, st.loud_frames = [], 0
                st.pre_roll = (st.pre_roll + [frame])[-keep:]
        if run:
            out.append(SeatSpan(ch, run_start, np.concatenate(run)))
        self.active_seconds[ch] += sum(len(s.audio) for s in out) / SAMPLE_RATE
        return out


def seat_spans(samples: np.ndarray, options: GateOptions | None = None) -> list[list[tuple[float, float]]]:
    """Offline gating of a whole (frames, channels) recording: per channel, (start_s, end_s) spans."""
    gate = SeatGate(samples.shape[1], options)
    spans: list[list[tuple[float, float]]] = [[] for _ in range(samples.shape[1])]
    for span in gate.feed(samples, 0.0) + gate.feed(np.zeros((FRAME * 40, samples.shape[1]), np.float32),
                                                    samples.shape[0] / SAMPLE_RATE):
        end = min(span.start_s + len(span.audio) / SAMPLE_RATE, samples.shape[0] / SAMPLE_RATE)
        runs = spans[span.channel]
        if runs and span.start_s - runs[-1][1] < 1e-6:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((span.start_s, end))
    return [[(s, e) for s, e in runs if e > s] for runs in spans]
