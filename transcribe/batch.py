"""Batch transcription of a recording file: per seat for multi-channel files, one seat for mono.

Each seat's utterances (where the seat gate and Silero VAD both hear its speech) are decoded on their
own, several at a time, so the cost is that of the seats' speech, not of the file's length times its
channels, and every utterance is decoded in the language it is spoken in.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from transcribe.decoder import (
    SAMPLE_RATE,
    SENTENCE_END,
    ZH_PROMPT,
    drop_loops,
    is_hallucination,
    to_simplified,
    vocabulary_prompt,
)
from transcribe.errors import AudioFormatError
from transcribe.homophones import corrector
from transcribe.room import SeatSpec
from transcribe.seats import GateOptions, seat_spans
from transcribe.types import Segment, Word
from transcribe.whisper_window import RawWord, WindowResult

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


@dataclass(frozen=True, slots=True)
class BatchOptions:
    language: str | None = None  # "zh", "en" or None (detect per utterance among ``languages``)
    languages: tuple[str, ...] = ("zh", "en")
    beam_size: int = 5
    vocabulary: tuple[str, ...] = ()
    model_name: str = ""
    gate: GateOptions = GateOptions()


CUT_OFF_S = 1.0  # a file this much shorter than its header says is cut off (AAC's padding is 0.05 s)


def read_audio(path: Path, track: int | None = None, warn: Callable[[str], None] | None = None) -> np.ndarray:
    """A recording as (frames, channels) float32 at 16 kHz; clear errors for what cannot be read.

    ``track``: which audio track of a file holding several (a video's, an MKV's), from 0; None: the first,
    and ``warn`` is told of the others (speech on track 1 behind a silent track 0 was an empty transcript).
    ``warn`` is also told of a file cut off before the length its header declares (an interrupted copy
    was transcribed in part without a word), whose audio up to the cut is still returned.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioFormatError(f"no such audio file: {path}")
    declared: float | None = None  # seconds, as the file's header says
    if track:  # libsndfile reads a file's first audio track only
        audio, rate, declared = _decode_with_ffmpeg(path, None, track, warn)
    else:
        try:
            with sf.SoundFile(str(path)) as f:
                declared = f.frames / f.samplerate if f.frames > 0 else None
                if f.format in ("WAV", "WAVEX", "RF64"):  # their frame count is shrunk to the bytes there are
                    header = _riff_declared_frames(path)
                    declared = header / f.samplerate if header else declared
                audio, rate = f.read(dtype="float32", always_2d=True), f.samplerate
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:  # a cut-off FLAC: "decoder lost sync"
            audio, rate, declared = _decode_with_ffmpeg(path, exc, track, warn)
    if audio.shape[0] == 0:
        raise AudioFormatError(f"{path} contains no audio frames")
    read = audio.shape[0] / rate
    if warn and declared is not None and read < declared - CUT_OFF_S:
        warn(f"{path} is cut off: only {_clock(read)} of the {_clock(declared)} its header declares could be "
             f"read ({read / declared:.0%}); the rest is missing from the transcript")
    if rate != SAMPLE_RATE:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(rate), SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, int(rate) // g, axis=0).astype(np.float32)
    return np.ascontiguousarray(audio)


def _riff_declared_frames(path: Path) -> int | None:
    """The frames a WAV (RIFF) or RF64 file's header declares: its ``data`` chunk's size (an RF64's in its
    ``ds64`` chunk) over the ``fmt `` chunk's bytes per frame; None where the header does not say. Only the
    chunk headers before ``data`` are read. libsndfile counts the frames there are, so a cut-off WAV looked
    whole."""
    import struct

    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:] != b"WAVE":
            return None
        size = block = None
        while len(chunk := f.read(8)) == 8:
            name, n = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                if head[:4] == b"RIFF" and n not in (0, 0xFFFFFFFF):  # 0, ~0: streamed, the size never written
                    size = n
                elif head[:4] == b"RF64" and n != 0xFFFFFFFF:  # ~0: the size is the ds64 chunk's
                    size = n
                break
            body = f.read(16) if name in (b"fmt ", b"ds64") else b""
            f.seek(n + n % 2 - len(body), 1)  # to the next chunk (a chunk is padded to an even size)
            if name == b"fmt " and len(body) >= 14:
                block = struct.unpack_from("<H", body, 12)[0]  # nBlockAlign: bytes per frame
            elif name == b"ds64" and len(body) >= 16:
                size = struct.unpack_from("<Q", body, 8)[0]  # riffSize, dataSize, sampleCount, ...
    return size // block if size and block else None


def _clock(seconds: float) -> str:
    """``seconds`` as h:mm:ss.s, as a clerk reads a recording's time."""
    minutes, s = divmod(seconds, 60)
    return f"{int(minutes // 60)}:{int(minutes % 60):02d}:{s:04.1f}"


def _decode_with_ffmpeg(path: Path, cause: Exception | None, track: int | None,
                        warn: Callable[[str], None] | None) -> tuple[np.ndarray, int, float | None]:
    """Formats libsndfile does not read (mp3, m4a, mka, video) through ffmpeg's decoders (PyAV), every
    channel kept: (frames, channels) float32 at 16 kHz, so a 4-seat M4A is per seat as its WAV is; and
    the track's length in seconds as its header declares it (None where it does not)."""
    why = f"{cause}; ffmpeg" if cause else "ffmpeg"
    try:
        audio, declared = _decode_channels(path, track, warn)
    except AudioFormatError:
        raise
    except Exception as exc:  # av raises many error types for garbage input
        raise AudioFormatError(f"cannot read {path} as audio: {why}: {exc}") from exc
    if audio is None or not len(audio):
        raise AudioFormatError(f"cannot read {path} as audio: {why} found no audio stream")
    return audio, SAMPLE_RATE, declared


def _decode_channels(path: Path, track: int | None = None,
                     warn: Callable[[str], None] | None = None) -> tuple[np.ndarray | None, float | None]:
    """Audio track ``track`` (None: the first, ``warn`` told of the others) as (frames, channels) float32 at
    16 kHz, None without one; and its declared length in seconds (None if its header gives none)."""
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        tracks = container.streams.audio
        if not tracks:
            return None, None
        if track is not None and not 0 <= track < len(tracks):
            raise AudioFormatError(f"{path} has no audio track {track}: its audio tracks are "
                                   f"{', '.join(str(i) for i in range(len(tracks)))}")
        if track is None and len(tracks) > 1 and warn:
            rest = f"track{'s' if len(tracks) > 2 else ''} {', '.join(str(i) for i in range(1, len(tracks)))}"
            warn(f"{path} has {len(tracks)} audio tracks: only track 0 is transcribed, {rest} left out "
                 "(choose one with --track N)")
        stream = tracks[track or 0]
        declared = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)  # the stream's own channel layout
        planes: list[np.ndarray] = []  # each (channels, samples)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # a damaged packet: skip it, as faster-whisper's decoder does
            for frame in frames:
                planes += [f.to_ndarray() for f in resampler.resample(frame)]
        planes += [f.to_ndarray() for f in resampler.resample(None)]
    if not planes:
        return None, declared
    return np.concatenate(planes, axis=1).T.astype(np.float32), declared  # (frames, channels)


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of one channel's speech, in recording seconds."""

    channel: int
    start: float
    end: float


GAP_S = 0.4  # silence put between utterances so that Whisper ends its words at the boundary
STRETCH_S = 0.1  # a word that ends this far into the next utterance is that utterance's
# Utterances are packed into windows of up to this much audio. The encoder's cost grows faster than
# its input (attention), so two 15 s windows cost less than one of 30 s; on the demo hearing 13.5 s
# windows (encoded as 15 s) took 0.6x the time of 28 s windows with the same WER and CER, where 8.5 s
# windows lost context (CER 0.22 → 0.28).
WINDOW_S = 13.5
MAX_UTTERANCE_S = 26.0  # longer speech is cut at its quietest moment so that it fits Whisper's 30 s
MIN_CUT_S = 16.0  # ... and not before this
MIN_WINDOW_S = 5.0  # shortest encoder input: a window of 2 s is encoded as 5 s, not 30 s
BATCH = 4  # windows decoded together: one encoder call, one beam search
LANGUAGE_BATCH = 8  # utterances whose language is detected in one encoder call


class _TimeMap:
    """Maps times in a window's concatenated speech back to the recording, utterance by utterance."""

    def __init__(self, utterances: Sequence[Utterance]) -> None:
        self.utterances = list(utterances)
        self.concat_starts: list[float] = []
        t = 0.0
        for u in utterances:
            self.concat_starts.append(t)
            t += u.end - u.start + GAP_S
        self.duration = t

    def word(self, w: RawWord, zh: bool) -> tuple[int, Word]:
        """(utterance index, the word in recording time) — placed by its midpoint, clamped into it."""
        start, end = w.start, max(w.start, w.end)
        mid = (start + end) / 2
        i = max(0, bisect.bisect_right(self.concat_starts, mid) - 1)
        u = self.utterances[i]
        gap_start = self.concat_starts[i] + (u.end - u.start)
        if i + 1 < len(self.utterances) and (
                (mid > gap_start and mid - gap_start > self.concat_starts[i + 1] - mid)  # in the gap: the nearer
                or end > self.concat_starts[i + 1] + STRETCH_S):
            # A word that reaches into the next utterance is its first: Whisper stretches a word's start
            # back over the silence before it (the judge's 请 of 请坐下 at 3.48–4.54 s, the clerk's line
            # ending at 3.86 s, the judge's starting at 4.26 s), not a word's end over the silence after.
            i, u = i + 1, self.utterances[i + 1]
        shift = u.start - self.concat_starts[i]
        a = min(max(start + shift, u.start), u.end)
        b = min(max(end + shift, a), u.end)
        return i, Word(round(float(a), 3), round(float(b), 3), to_simplified(w.text) if zh else w.text,
                       round(float(w.probability), 4))


def transcribe_utterances(model: WhisperModel, audio: np.ndarray, utterances: Sequence[Utterance],
                          seats: dict[int, SeatSpec], options: BatchOptions) -> list[Segment]:
    """Decode the utterances of (frames, channels) audio, language by language, in packed windows.

    The utterances of one language are put end to end in time order (silence between them left out)
    and cut into windows of up to ``WINDOW_S`` at utterance boundaries, so each utterance is decoded
    with its neighbours as context and the model sees only speech; windows are decoded several at a
    time, each encoded once (``transcribe`` re-encodes from the last timestamp of each window).
    Each segment is split at utterance boundaries and labelled with its utterance's seat.
    """
    from transcribe.whisper_window import FRAMES_PER_S, WindowRequest, decode_batch, encoder_frames

    def bucket(window: _TimeMap) -> int:  # the window's encoder input length
        return encoder_frames(int(window.duration * FRAMES_PER_S), MIN_WINDOW_S)

    utterances = [p for u in utterances if u.end - u.start >= 0.1 for p in _split_long(audio, u)]
    out: list[Segment] = []
    fix = corrector(tuple(options.vocabulary))  # the case's terms where Whisper wrote a homophone
    for language, group in _by_language(model, audio, utterances, options).items():
        request = WindowRequest(
            language=language, languages=options.languages, beam_size=options.beam_size,
            temperatures=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), min_window_s=MIN_WINDOW_S,
            language_prompts=((language, (ZH_PROMPT if language == "zh" else "")
                               + vocabulary_prompt(options.vocabulary, language)),) if language else ())
        windows = _pack(group)
        while windows:
            # Windows of one encoder length share an encoder call (a shorter one would be padded).
            first = bucket(windows[0])
            batch = [w for w in windows if bucket(w) == first][:BATCH]
            windows = [w for w in windows if w not in batch]
            for window, result in zip(batch, decode_batch(model, [_window_audio(audio, w) for w in batch], request),
                                      strict=True):
                segments, heard = _window_segments(window, result, seats, options.model_name)
                out += [fix.segment(s) for s in segments]
                # Whisper sometimes ends its text before the window's last utterances (``transcribe``
                # goes on from the last timestamp): those utterances get a window of their own.
                rest = window.utterances[max(heard, default=-1) + 1 :]
                if rest and len(rest) < len(window.utterances):
                    windows += _pack(rest)
    return out


def _pack(utterances: Sequence[Utterance]) -> list[_TimeMap]:
    """Utterances in time order → windows of at most WINDOW_S of concatenated speech."""
    windows: list[list[Utterance]] = []
    length = 0.0
    for u in sorted(utterances, key=lambda u: (u.start, u.channel)):
        if windows and length + (u.end - u.start) <= WINDOW_S:
            windows[-1].append(u)
            length += u.end - u.start + GAP_S
        else:
            windows.append([u])
            length = u.end - u.start + GAP_S
    return [_TimeMap(w) for w in windows]


def _window_audio(audio: np.ndarray, window: _TimeMap) -> np.ndarray:
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    return np.concatenate([piece for u in window.utterances
                           for piece in (audio[int(u.start * SAMPLE_RATE) : int(u.end * SAMPLE_RATE), u.channel], gap)])


def _window_segments(window: _TimeMap, result: WindowResult, seats: dict[int, SeatSpec],
                     model_name: str) -> tuple[list[Segment], set[int]]:
    """A window's Whisper segments → our segments in recording time, split at utterance boundaries,
    and the indices of the utterances that got words."""
    pieces: list[tuple[int, list[Word]]] = []  # (utterance index, words)
    for seg in result.segments:
        text = seg.text.strip()
        if not text or is_hallucination(text, seg.no_speech_prob, seg.avg_logprob):
            continue
        groups: dict[int, list[Word]] = {}
        for w in seg.words:
            if "\ufffd" not in w.text:  # half of a multi-byte character
                i, word = window.word(w, result.language == "zh")
                groups.setdefault(i, []).append(word)
        _absorb_strays(groups, window)
        for i, words in sorted(groups.items()):  # a segment never spans two utterances
            if pieces and pieces[-1][0] == i and not pieces[-1][1][-1].text.strip().endswith(SENTENCE_END):
                pieces[-1][1].extend(words)  # Whisper cut mid-sentence: keep the sentence whole
            else:
                pieces.append((i, words))
    out: list[Segment] = []
    for i, words in pieces:
        words = drop_loops(words)
        if words:
            channel = window.utterances[i].channel
            out.append(_segment(words, seats.get(channel), result.language, model_name, channel))
    return out, {i for i, _ in pieces}


def _absorb_strays(groups: dict[int, list[Word]], to_orig: _TimeMap) -> None:
    """A lone word at either edge of a Whisper segment, placed in another utterance by its (imprecise)
    timestamp, joins the rest of its segment: Whisper segments follow the speaker's sentence."""
    keys = sorted(groups)
    if len(keys) < 2:
        return
    for stray, home in ((keys[0], keys[1]), (keys[-1], keys[-2])):
        if stray in groups and len(groups[stray]) == 1 and len(groups.get(home, ())) > 1:
            u = to_orig.utterances[home]
            w = groups.pop(stray)[0]
            # Inside the home utterance and on the right side of its words (utterances of two seats
            # overlap in recording time, so a clamp to the utterance alone could put it out of order).
            if stray < home:
                b = min(max(w.end, u.start), groups[home][0].start)
                a = min(max(w.start, u.start), b)
            else:
                a = max(min(w.start, u.end), groups[home][-1].end)
                b = max(min(w.end, u.end), a)
            moved = Word(round(a, 3), round(b, 3), w.text, w.probability)
            groups[home] = [moved, *groups[home]] if stray < home else [*groups[home], moved]


def _split_long(audio: np.ndarray, u: Utterance) -> list[Utterance]:
    """An utterance longer than a Whisper window, cut at its quietest 0.1 s between MIN_CUT_S and MAX_UTTERANCE_S."""
    out = []
    while u.end - u.start > MAX_UTTERANCE_S:
        a, b = int((u.start + MIN_CUT_S) * SAMPLE_RATE), int((u.start + MAX_UTTERANCE_S) * SAMPLE_RATE)
        step = SAMPLE_RATE // 10
        x = audio[a:b, u.channel]
        energy = (x[: len(x) // step * step].reshape(-1, step) ** 2).mean(axis=1)
        cut = (a + int(np.argmin(energy)) * step + step // 2) / SAMPLE_RATE
        out.append(Utterance(u.channel, u.start, cut))
        u = Utterance(u.channel, cut, u.end)
    return [*out, u]


def speech_spans(audio: np.ndarray, within: Sequence[tuple[float, float]] | None = None) -> list[tuple[float, float]]:
    """Silero VAD speech of a (frames,) channel, intersected with ``within`` spans when given.

    With ``within`` (the seat gate's spans) Silero runs only around those spans: a seat speaks a
    fraction of a hearing, and running it over every channel's whole length cost a tenth of the
    decode on the demo hearing.
    """
    if within is None:
        return _vad(audio, 0.0)
    out = []
    for group in _grouped(within, gap_s=1.0):
        a = max(0.0, group[0][0] - VAD_CONTEXT_S)
        speech = _vad(audio[int(a * SAMPLE_RATE) : int((group[-1][1] + VAD_CONTEXT_S) * SAMPLE_RATE)], a)
        for ws, we in group:
            for s, e in speech:
                lo, hi = max(ws, s), min(we, e)
                if hi - lo > 0.05:
                    out.append((lo, hi))
    return out


VAD_CONTEXT_S = 0.5  # audio Silero sees on either side of a gated span (its state needs a run-in)


def _vad(audio: np.ndarray, offset_s: float) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(min_silence_duration_ms=600, speech_pad_ms=200, min_speech_duration_ms=150)
    return [(offset_s + c["start"] / SAMPLE_RATE, offset_s + c["end"] / SAMPLE_RATE)
            for c in get_speech_timestamps(audio, vad)]


def _grouped(spans: Sequence[tuple[float, float]], gap_s: float) -> list[list[tuple[float, float]]]:
    """Spans in time order, in groups whose members are less than ``gap_s`` apart (one VAD run each)."""
    groups: list[list[tuple[float, float]]] = []
    for s, e in sorted(spans):
        if groups and s - groups[-1][-1][1] < gap_s:
            groups[-1].append((s, e))
        else:
            groups.append([(s, e)])
    return groups


def _by_language(model: WhisperModel, audio: np.ndarray, utterances: list[Utterance],
                 options: BatchOptions) -> dict[str | None, list[Utterance]]:
    """Group utterances by language: fixed, or detected per utterance among the court's languages.

    Whisper itself detects once per 30 s window, which mixes up a hearing that switches between
    Mandarin and English. Each utterance's language is read from its first 3 s, eight utterances
    to an encoder call (a tenth of the cost of a 30 s window each).
    """
    from transcribe.whisper_window import detect_languages

    if options.language is not None:
        return {options.language: utterances}
    groups: dict[str | None, list[Utterance]] = {}
    for i in range(0, len(utterances), LANGUAGE_BATCH):
        batch = utterances[i : i + LANGUAGE_BATCH]
        pieces = [np.ascontiguousarray(audio[int(u.start * SAMPLE_RATE) : int(u.end * SAMPLE_RATE), u.channel])
                  for u in batch]
        for u, (language, _) in zip(batch, detect_languages(model, pieces, options.languages), strict=True):
            groups.setdefault(language, []).append(u)
    return groups


def _segment(words: list[Word], seat: SeatSpec | None, language: str, model_name: str, channel: int) -> Segment:
    return Segment(
        start=words[0].start, end=words[-1].end, text="".join(w.text for w in words).strip(),
        words=tuple(words), channel=channel, seat=seat.seat if seat else None,
        role=seat.role if seat else None, language=language,
        confidence=round(float(np.mean([w.probability for w in words])), 4), model=model_name)


def transcribe_recording(model: WhisperModel, audio: np.ndarray, seats: Sequence[SeatSpec],
                         options: BatchOptions) -> list[Segment]:
    """(frames, channels) recording → segments of every seat, ordered by start time.

    Multi-channel: each channel's speech is where the seat gate and Silero VAD both say so (loud
    is not enough: paper rustles too); all seats' utterances go through the model in one pass.
    Mono: one seat, its VAD speech. Silence, room tone and noise never reach the model.
    """
    if audio.ndim != 2:
        raise AudioFormatError(f"expected (frames, channels) audio, got shape {audio.shape}")
    by_channel = {s.channel: s for s in seats}
    missing = [s.channel for s in seats if s.channel >= audio.shape[1]]
    if missing:  # a mono file too: its one voice is not every seat's
        raise AudioFormatError(f"seats name channels {missing} but the file has {audio.shape[1]} channels")
    if audio.shape[1] == 1:
        utterances = [Utterance(0, s, e) for s, e in speech_spans(audio[:, 0])]
    else:
        gated = seat_spans(audio, options.gate)
        utterances = [Utterance(ch, s, e) for ch in by_channel if ch < audio.shape[1]
                      for s, e in speech_spans(audio[:, ch], gated[ch])]
    utterances.sort(key=lambda u: (u.start, u.channel))
    segments = transcribe_utterances(model, audio, utterances, by_channel, options)
    return sorted(segments, key=lambda s: (s.start, s.channel or 0))
