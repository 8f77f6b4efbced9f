"""Seat attribution: which seat's microphone carries a stretch of speech, and who sits there.

Every seat has its own microphone, but each voice also reaches the neighbouring microphones
("bleed"), and microphones differ in gain: a witness microphone turned down may carry its own
talker more quietly than the defendant's microphone next to it does. So "the loudest channel" is
not the seat. Instead:

1. Frame powers ``(n_frames, channels)`` are computed in 20 ms frames as audio arrives.
2. A :class:`BleedModel` is estimated from the recording itself: each channel's own-talker level
   (a high percentile of its power), its noise floor, and from *single-talker* frames (one channel
   dominates all others by a margin after normalising by those levels) the bleed gains
   ``G[i, j]`` = power on channel ``j`` per unit power on channel ``i`` while seat ``i`` talks.
3. For a segment, each speech frame's observed powers are explained as non-negative source powers
   ``obs = Gᵀ·s`` (NNLS); the seat is the source with most level-normalised power over the segment,
   and its share of that power is the confidence — unless the talker of the channel the words were
   transcribed on is among the strongest sources in a good share of its frames (two people speaking
   at once), which then keeps them.

Occupancy (a witness called and dismissed) maps seat + time to the participant and role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from capture.types import AudioChunk
from diarize.errors import AudioShapeError
from diarize.types import Attribution, SeatDecision, SeatOccupant
from hardware.types import SeatChannel


@dataclass(frozen=True, slots=True)
class BleedOptions:
    """Tuning of the bleed model; defaults suit 16–48 kHz courtroom microphones."""

    frame_s: float = 0.02
    level_percentile: float = 98.0  # a channel's own-talker speech level
    noise_percentile: float = 10.0  # its noise floor
    speech_over_noise_db: float = 12.0  # a frame is speech when some channel is this far above noise
    dominance_db: float = 3.0  # single-talker frame: normalised top channel beats the next by this
    min_single_frames: int = 25  # below this many single-talker frames a seat keeps default gains
    refit_every_s: float = 30.0  # live mode: re-estimate the model after this much new audio
    # The channel a segment was transcribed on keeps it when its own talker is within dominance_db of
    # the strongest source in this share of the segment's speech frames: two people speaking at once
    # are each on their own microphone, and Whisper writes the voice that dominates the channel it
    # hears. Counted in frames, not summed power: in the plaintiff's "repayment with interest." under
    # the defendant's objection on the demo hearing, the plaintiff is there in 0.65–0.77 of the frames
    # with any model fitted after the defendant first spoke, but a few loud words of the objection
    # carry most of the power, and the plaintiff's share of it (0.26–0.53) hung on how much of the
    # defendant the model had seen, so on when it was last refitted. A channel that only carries
    # bleed, once the talker has single-talker frames (below min_single_frames the hint is kept
    # anyway), is there in at most 0.14 of the frames on the test hearings, whenever the model was
    # fitted.
    hint_share: float = 1 / 3
    # An empty seat's microphone carries only bleed: normalised by its own level (the bleed's) it ties
    # with the talker's channel, frame after frame. It is bleed-only when it never dominates and, in
    # this share of the frames where it comes within dominance_db of the top, one louder channel is
    # there with it.
    bleed_only_share: float = 0.9
    # Live mode: frame powers older than this are let go, and the model is refitted over the rest. Kept
    # whole, an 8-hour hearing held 46 MB of them and each refit took 1.4 s of a core (40 rooms: two
    # cores). None: keep everything (a whole recording, fitted once).
    keep_s: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class BleedModel:
    """Estimated microphone bleed: ``gains`` ``(channels, channels)``, rows = talking seat."""

    gains: np.ndarray  # (C, C), gains[i, i] == 1
    level: np.ndarray  # (C,) own-talker power per channel
    noise: np.ndarray  # (C,) noise floor power per channel
    single_frames: np.ndarray  # (C,) how many single-talker frames each row was estimated from

    @classmethod
    def estimate(cls, powers: np.ndarray, options: BleedOptions) -> BleedModel:
        """Estimate from frame powers ``(n_frames, channels)``."""
        n_ch = powers.shape[1]
        if len(powers) == 0:  # under one frame of audio (20 ms): no speech, nothing to estimate
            floor = np.full(n_ch, 1e-12)
            return cls(gains=np.eye(n_ch), level=floor * 10, noise=floor, single_frames=np.zeros(n_ch, dtype=int))
        noise = np.percentile(powers, options.noise_percentile, axis=0) + 1e-12
        level = np.maximum(np.percentile(powers, options.level_percentile, axis=0), noise * 10)
        clean = np.clip(powers - noise, 0.0, None)  # (n, C)
        speech = np.any(powers > noise * 10 ** (options.speech_over_noise_db / 10), axis=1)
        norm = clean / level
        # Single-talker frames are judged without bleed-only channels: they tie with the talker they
        # carry and would hide all of its frames, leaving it without bleed gains.
        judged = np.where(_bleed_only(clean, norm, speech, options), 0.0, norm)
        order = np.sort(judged, axis=1)
        single = speech & (order[:, -1] > order[:, -2] * 10 ** (options.dominance_db / 10))
        top = np.argmax(judged, axis=1)
        gains = np.eye(n_ch)
        counts = np.zeros(n_ch, dtype=int)
        for i in range(n_ch):
            rows = clean[single & (top == i)]
            counts[i] = len(rows)
            if len(rows) >= options.min_single_frames:
                gains[i] = np.median(rows / np.maximum(rows[:, i : i + 1], 1e-12), axis=0)
                gains[i, i] = 1.0
        return cls(gains=gains, level=level, noise=noise, single_frames=counts)

    def source_powers(self, powers: np.ndarray) -> np.ndarray:
        """Non-negative source powers ``(n, C)`` explaining observed frame powers ``(n, C)``."""
        clean = np.clip(powers - self.noise, 0.0, None)
        # obs = s @ gains (row vectors). Solve all frames at once; only frames whose exact solution
        # goes clearly negative (overlap, model error) need the slower NNLS.
        try:
            out = clean @ np.linalg.inv(self.gains)
        except np.linalg.LinAlgError:
            out = np.full_like(clean, -1.0)
        bad = np.any(out < -0.05 * np.maximum(clean.max(axis=1, keepdims=True), 1e-12), axis=1)
        mat = self.gains.T
        for k in np.flatnonzero(bad):
            out[k], _ = nnls(mat, clean[k])
        return np.clip(out, 0.0, None)


def _bleed_only(clean: np.ndarray, norm: np.ndarray, speech: np.ndarray, options: BleedOptions) -> np.ndarray:
    """Channels ``(C,)`` that only carry other seats' talkers, from clean and level-normalised frame
    powers ``(n, C)``: never clearly on top, and nearly always matched by one louder channel (raw power,
    as bleed is quieter than its source) when near the top. A seat that speaks dominates sometimes."""
    n_ch = norm.shape[1]
    margin = 10 ** (options.dominance_db / 10)
    out = np.zeros(n_ch, dtype=bool)
    for j in range(n_ch if n_ch > 1 else 0):
        others, others_raw = np.delete(norm, j, axis=1), np.delete(clean, j, axis=1)  # (n, C - 1)
        if np.count_nonzero(speech & (norm[:, j] > others.max(axis=1) * margin)) >= options.min_single_frames:
            continue  # it speaks
        near = speech & (norm[:, j] * margin >= norm.max(axis=1))  # (n,) frames where j competes
        if np.count_nonzero(near) < options.min_single_frames:
            continue
        with_it = others[near] * margin >= norm[near, j : j + 1]  # (k, C - 1) as high, after scaling
        louder = others_raw[near] > clean[near, j : j + 1]  # (k, C - 1) and louder on the wire
        out[j] = (with_it & louder).mean(axis=0).max() >= options.bleed_only_share
    return out


def frame_powers(samples: np.ndarray, frame_len: int) -> np.ndarray:
    """Mean-square power per frame: ``(frames, channels)`` → ``(frames // frame_len, channels)``."""
    n = samples.shape[0] // frame_len
    blocks = samples[: n * frame_len].astype(np.float64).reshape(n, frame_len, samples.shape[1])
    return np.mean(blocks**2, axis=1)


class SeatRoster:
    """Who sits where over time: seat + time → :class:`SeatOccupant`."""

    def __init__(self, occupants: Sequence[SeatOccupant] = ()) -> None:
        self._occupants = sorted(occupants, key=lambda o: o.from_s)

    def occupant(self, seat: str, t: float) -> SeatOccupant | None:
        """The participant on ``seat`` at time ``t`` (the latest assignment wins on overlap)."""
        found = None
        for occ in self._occupants:
            if occ.seat == seat and occ.covers(t):
                found = occ
        return found

    def occupants(self, seat: str, t: float) -> list[SeatOccupant]:
        """Everyone on ``seat`` at time ``t``, earliest assignment first: several people can share one
        seat's microphone (a mono recording's one seat holds every participant)."""
        return [occ for occ in self._occupants if occ.seat == seat and occ.covers(t)]

    def assign(self, occupant: SeatOccupant) -> None:
        """Add an assignment (e.g. a witness called to the stand during the hearing)."""
        self._occupants.append(occupant)
        self._occupants.sort(key=lambda o: o.from_s)

    def dismiss(self, seat: str, participant_id: int, at_s: float) -> None:
        """End the open assignment of ``participant_id`` on ``seat`` at ``at_s``."""
        for k, occ in enumerate(self._occupants):
            if occ.seat == seat and occ.participant_id == participant_id and occ.to_s is None:
                self._occupants[k] = SeatOccupant(occ.seat, occ.participant_id, occ.name, occ.role, occ.from_s, at_s)


class SeatAttributor:
    """Attributes segments of a multi-channel hearing to seats, participants and roles.

    Feed it the audio (whole recording with :meth:`fit_audio`, or live with :meth:`feed`), then ask
    :meth:`attribute` for any (start, end) span already fed.
    """

    def __init__(
        self,
        channels: Sequence[SeatChannel],
        roster: SeatRoster | None = None,
        options: BleedOptions | None = None,
    ) -> None:
        self.channels = {c.channel: c for c in channels}
        self.n_channels = max(self.channels) + 1 if self.channels else 0
        self.roster = roster or SeatRoster()
        self.options = options or BleedOptions()
        self.sample_rate = 0
        self._frame_len = 0
        self._blocks: list[np.ndarray] = []  # frame powers (k, C) in arrival order
        self._powers = np.zeros((0, self.n_channels))
        self._carry = np.zeros((0, self.n_channels), dtype=np.float32)
        self._model: BleedModel | None = None
        self._model_frames = 0
        self._dropped = 0  # frames let go from the front (options.keep_s)

    @property
    def model(self) -> BleedModel:
        """The bleed model, re-estimated when enough new audio has arrived."""
        powers = self.powers
        stale = len(powers) - self._model_frames >= self.options.refit_every_s / self.frame_s
        if self._model is None or (stale and len(powers) > self._model_frames):
            self._model = BleedModel.estimate(powers, self.options)
            self._model_frames = len(powers)
        return self._model

    @property
    def powers(self) -> np.ndarray:
        """Frame powers ``(n, C)`` kept so far; row ``k`` is frame ``k + dropped`` of the hearing."""
        if self._blocks:
            self._powers = np.concatenate([self._powers, *self._blocks])
            self._blocks.clear()
            keep = None if self.options.keep_s is None else max(1, round(self.options.keep_s / self.frame_s))
            excess = len(self._powers) - keep if keep is not None else 0
            if excess > 0:
                self._powers = self._powers[excess:].copy()
                self._dropped += excess
                self._model_frames = max(0, self._model_frames - excess)
        return self._powers

    def _set_rate(self, sample_rate: int) -> None:
        if self.sample_rate and sample_rate != self.sample_rate:
            raise AudioShapeError(f"sample rate changed from {self.sample_rate} to {sample_rate}")
        self.sample_rate = sample_rate
        self._frame_len = max(1, round(self.options.frame_s * sample_rate))

    @property
    def frame_s(self) -> float:
        """Seconds per power frame: ``frame_len / sample_rate``, not ``options.frame_s``, which a
        whole number of samples only approximates (at 11025 Hz, 220 samples are 19.95 ms)."""
        return self._frame_len / self.sample_rate if self.sample_rate else self.options.frame_s

    def feed(self, chunk: AudioChunk) -> None:
        """Append a captured chunk ``(frames, channels)``; chunks must arrive in order."""
        self._set_rate(chunk.sample_rate)
        if chunk.channels < self.n_channels:
            raise AudioShapeError(f"chunk has {chunk.channels} channels, profile needs {self.n_channels}")
        data = np.concatenate([self._carry, chunk.samples[:, : self.n_channels]])
        usable = (len(data) // self._frame_len) * self._frame_len
        self._blocks.append(frame_powers(data[:usable], self._frame_len))
        self._carry = data[usable:]

    def fit_audio(self, samples: np.ndarray, sample_rate: int) -> BleedModel:
        """Take a whole recording ``(frames, channels)`` and estimate the bleed model from it."""
        if samples.ndim != 2:
            raise AudioShapeError(f"expected (frames, channels) audio, got shape {samples.shape}")
        self.feed(AudioChunk(samples=samples, sample_rate=sample_rate, first_sample=0, wall_time=0.0))
        return self.model

    def decide(self, start: float, end: float, channel_hint: int | None = None) -> SeatDecision:
        """Which channel carries the speech in ``[start, end)``, compensating bleed."""
        model = self.model
        fs = self.frame_s  # indexed by real frame times: 20 ms frames drifted 8 s an hour at 11025 Hz
        first, last = int(start / fs) - self._dropped, int(np.ceil(end / fs)) - self._dropped
        if last <= 0:  # older than what live mode keeps: the transcriber's channel stands
            return SeatDecision(channel=None, confidence=0.0)
        powers = self.powers[max(0, first) : max(first + 1, last)]
        speech = np.any(powers > model.noise * 10 ** (self.options.speech_over_noise_db / 10), axis=1)
        if not np.any(speech):
            return SeatDecision(channel=None, confidence=0.0)
        # Level-normalised so a turned-down microphone competes fairly with a hot one.
        sources = model.source_powers(powers[speech]) / model.level  # (n, C)
        share = sources.sum(axis=0)
        total = float(share.sum())
        if total <= 0:
            return SeatDecision(channel=None, confidence=0.0)
        channel = int(np.argmax(share))
        if (channel_hint is not None and channel != channel_hint and 0 <= channel_hint < len(share)
                and (model.single_frames[channel] < self.options.min_single_frames
                     or self._speaks_through(sources, channel_hint))):
            # Keep the transcriber's channel when its own talker speaks through much of the segment
            # (an overlap, not bleed), or when there is no single-talker evidence for the winning seat
            # yet (early in a live hearing its "level" is only bleed, which the normalisation inflates).
            channel = channel_hint
        bleed = channel_hint is not None and channel_hint != channel
        return SeatDecision(channel=channel, confidence=float(share[channel] / total), hint_is_bleed=bleed)

    def _speaks_through(self, sources: np.ndarray, channel: int) -> bool:
        """Whether ``channel``'s talker is among the strongest sources (within ``dominance_db`` of the
        top) in ``hint_share`` of the speech frames of level-normalised source powers ``(n, C)``."""
        top = sources.max(axis=1)
        with_top = sources[:, channel] * 10 ** (self.options.dominance_db / 10) >= top
        return bool(np.mean(with_top & (top > 0)) >= self.options.hint_share)

    def attribute(self, start: float, end: float, channel_hint: int | None = None) -> Attribution:
        """Seat, participant and role for a segment; the seat's default role when nobody is assigned."""
        decision = self.decide(start, end, channel_hint)
        channel = decision.channel if decision.channel is not None else channel_hint
        seat = self.channels.get(channel) if channel is not None else None
        if seat is None:
            return Attribution(seat=None, role=None, confidence=0.0, channel=channel)
        occ = self.roster.occupant(seat.seat, (start + end) / 2)
        if occ is None:
            return Attribution(seat=seat.seat, role=seat.role, confidence=decision.confidence, channel=channel)
        return Attribution(
            seat=seat.seat,
            role=occ.role,
            participant_id=occ.participant_id,
            participant_name=occ.name,
            confidence=decision.confidence,
            channel=channel,
            speaker=occ.name,
        )


def loudest_channel(samples: np.ndarray, sample_rate: int, start: float, end: float) -> int:
    """Baseline for comparison only: the channel with most energy in ``[start, end)``."""
    seg = samples[int(start * sample_rate) : int(end * sample_rate)]
    return int(np.argmax(np.mean(seg.astype(np.float64) ** 2, axis=0)))
