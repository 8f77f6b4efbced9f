"""Streaming transcription benchmark: replays the 4-seat demo hearing at real-time pace.

Prints: final-text latency per word (emission wall time minus the word's end in the audio) p50/p95;
first-partial latency per word p50/p95; WER (English) / CER (Mandarin) against the reference and
against offline transcription on the same model: our batch mode (``courtroom transcribe``, per seat,
the case vocabulary) and a bare ``WhisperModel.transcribe`` of the mono mixdown (faster-whisper's
defaults, its bundled VAD, without and with the vocabulary as ``initial_prompt``, words scored by
the utterance they fall in); batch-mode wall time against a bare
``WhisperModel.transcribe`` of the same file; the number of concurrent real-time rooms held
without growing lag. The peer runs in the same script on the same model and audio: a plain
"re-transcribe the growing buffer every second" policy (ufal/whisper_streaming's PyPI fork
``whisper-streaming`` pins faster-whisper==1.1.1 and needs pyalsaaudio/librosa/mosestokenizer,
so it is not installed next to ours).

Usage: python bench/streaming.py [--quick] [--model base] [--rooms 1,2,3] [--hold-s 600] [--workers 2 --cpu-threads 1]
                                [--replays N] [--skip stream,peer,batch,rooms] [--hearing PATH]
  --hearing: another 4-seat hearing with its JSON reference beside it, e.g. bench/fixtures/hearing_zh.flac
  (98 s, Mandarin only, ~370 characters: the demo hearing's 50 Mandarin characters make one character
  2 points of CER; made by scripts/make_speech_fixtures.py --zh-hearing).
  --quick: first 30 s of the hearing, rooms held 60 s.
  --workers/--cpu-threads: the live decode pool (the server's defaults: 2 decodes at once, 1 thread each);
  the batch part runs on a model with workers x cpu-threads threads, as `courtroom transcribe` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture.types import AudioChunk  # noqa: E402
from transcribe.batch import BatchOptions, transcribe_recording  # noqa: E402
from transcribe.decoder import (  # noqa: E402
    ZH_PROMPT,
    DecodeOptions,
    Decoder,
    detect_language,
    join_words,
    to_simplified,
    vocabulary_prompt,
)
from transcribe.glossary import COURT_TERMS, with_glossary  # noqa: E402
from transcribe.hypothesis import norm  # noqa: E402
from transcribe.metrics import error_rate, speaker_error_rate  # noqa: E402
from transcribe.model_store import ModelStore, load_model  # noqa: E402
from transcribe.online import OnlineOptions, SeatInfo  # noqa: E402
from transcribe.room import SeatSpec  # noqa: E402
from transcribe.scheduler import SchedulerOptions, TranscriptionScheduler  # noqa: E402
from transcribe.types import Segment, TranscriptEvent, Word  # noqa: E402

HEARING = ROOT / "hardware" / "samples" / "demo_hearing.flac"
# What the live server prompts the demo hearing with (courtroom_api.live.transcription.room_options): the
# court glossary, then the demo case's participants and cause of action.
DEMO_VOCABULARY = with_glossary(COURT_TERMS, ("王审判长", "刘书记员", "张伟", "李娜", "借款合同纠纷"))
SEATS = [SeatSpec(0, "judge", "presiding_judge"), SeatSpec(1, "clerk", "clerk"),
         SeatSpec(2, "plaintiff", "plaintiff"), SeatSpec(3, "defendant", "defendant")]


class GrowingBufferPeer:
    """The peer policy: every second re-transcribe the seat's whole utterance so far; final at its end."""

    def __init__(self, decoder: Decoder, seat: SeatInfo, languages: tuple[str, ...] = ("zh", "en"),
                 vocabulary: tuple[str, ...] = ()) -> None:
        self.decoder, self.seat, self.languages = decoder, seat, languages
        self.prompt = ", ".join(vocabulary)  # the same case vocabulary as ours, as a plain prompt
        self.lock = threading.Lock()
        self.inbox: list[tuple[np.ndarray | None, float]] = []
        self.audio = np.zeros(0, np.float32)
        self.start_s = self.received_until_s = 0.0
        self.queued_s = 0.0
        self.decodes = 0
        self.language: str | None = None
        self.words: tuple[Word, ...] = ()

    def insert_audio_chunk(self, audio: np.ndarray, start_s: float | None = None) -> None:
        with self.lock:
            start = self.received_until_s if start_s is None else start_s
            self.inbox.append((audio, start))
            self.received_until_s = start + len(audio) / 16000
            self.queued_s += len(audio) / 16000

    def mark_pause(self) -> None:
        with self.lock:
            self.inbox.append((None, self.received_until_s))

    def backlog_s(self) -> float:
        return self.queued_s

    def hangover_s(self, default: float) -> float:
        return default  # the seat gate as it comes: the peer's utterances end at every pause (finals sooner)

    def waiting_since_s(self) -> float:
        with self.lock:
            return next((start for _, start in self.inbox), self.received_until_s)

    def ready(self, min_chunk_s: float | None = None) -> bool:
        # Every second (the scheduler may stretch that under load, as for ours).
        return self.queued_s >= max(min_chunk_s or 1.0, 1.0) or any(a is None for a, _ in self.inbox)

    def process_iter(self) -> list[TranscriptEvent]:
        with self.lock:
            chunks, self.inbox, self.queued_s = self.inbox, [], 0.0
        events: list[TranscriptEvent] = []
        for audio, start in chunks:
            end = self.start_s + len(self.audio) / 16000
            if audio is None or (len(self.audio) and start - end > 0.25):
                events += self._final()
            if audio is not None:
                if not len(self.audio):
                    self.start_s = start
                self.audio = np.concatenate([self.audio, audio])
        if len(self.audio) and chunks and chunks[-1][0] is not None:
            self._decode()
            if self.words:
                events.append(self._event("partial"))
            if len(self.audio) >= 29 * 16000:
                events += self._final(decode=False)
        return events

    def finish(self) -> list[TranscriptEvent]:
        return self.process_iter() + self._final()

    def take_unsent(self) -> list[TranscriptEvent]:
        return []  # (the scheduler asks after a failed turn; this peer commits nothing before decoding)

    def _decode(self) -> None:
        window = self.audio[-30 * 16000 :]
        if self.language is None:
            self.language, _ = detect_language(self.decoder, window, self.languages)
        offset = self.start_s + (len(self.audio) - len(window)) / 16000
        # A plain loop around WhisperModel.transcribe: Whisper's 30 s window (min_window_s default).
        self.words = self.decoder.decode(window, offset, DecodeOptions(language=self.language, prompt=self.prompt)).words
        self.decodes += 1

    def _final(self, decode: bool = True) -> list[TranscriptEvent]:
        if decode and len(self.audio) >= 1600:
            self._decode()
        events = [self._event("final")] if self.words else []
        self.audio, self.words, self.language = np.zeros(0, np.float32), (), None
        return events

    def _event(self, kind: str) -> TranscriptEvent:
        w = self.words
        seg = Segment(w[0].start, w[-1].end, join_words(w), w, self.seat.channel, self.seat.seat, self.seat.role,
                      self.language)
        return TranscriptEvent(kind=kind, segment=seg, stream=self.seat.stream, emitted_at=time.time())  # type: ignore[arg-type]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def replay(decoder: Decoder, audio: np.ndarray, rooms: int, peer: bool = False, hold_s: float | None = None,
                 vocabulary: tuple[str, ...] = (), workers: int = 2,
                 ) -> tuple[list[list[TranscriptEvent]], float, list[tuple[float, float]]]:
    """Replay the hearing into ``rooms`` rooms at real-time pace; returns events, t0, lag samples."""
    duration = hold_s or audio.shape[0] / 16000
    events: list[list[TranscriptEvent]] = [[] for _ in range(rooms)]
    lag: list[tuple[float, float]] = []
    async with TranscriptionScheduler(decoder, SchedulerOptions(workers=workers)) as sched:
        for r in range(rooms):
            sched.open_room(f"r{r}", SEATS, 4, OnlineOptions(vocabulary=vocabulary))
            if peer:
                room = sched.rooms[f"r{r}"].transcriber
                room.processors = {ch: GrowingBufferPeer(decoder, p.seat, vocabulary=vocabulary)  # type: ignore[misc]
                                   for ch, p in room.processors.items()}

        async def consume(r: int) -> None:
            async for e in sched.events(f"r{r}"):
                events[r].append(e)

        tasks = [asyncio.create_task(consume(r)) for r in range(rooms)]
        t0 = time.time()
        total = int(duration * 16000)
        for i in range(0, total, 1600):
            j = i % audio.shape[0]
            block = audio[j : j + 1600]
            for r in range(rooms):
                sched.feed(f"r{r}", AudioChunk(block, 16000, i, t0 + i / 16000))
            if i % 16000 == 0:
                lag.append((i / 16000, max((s.backlog_s for s in sched.lag()), default=0.0)))
            await asyncio.sleep(max(0.0, t0 + (i + 1600) / 16000 - time.time()))
        for r in range(rooms):
            await sched.close_room(f"r{r}")
        await asyncio.gather(*tasks)
    return events, t0, lag


def latencies(events: list[TranscriptEvent], t0: float) -> tuple[list[float], list[float]]:
    """Per final word: (final latency, first-appearance latency) in seconds."""
    finals, firsts = [], []
    for e in events:
        if e.kind != "final":
            continue
        for w in e.segment.words:
            finals.append(e.emitted_at - (t0 + w.end))
            key = norm(w.text)
            seen = [x.emitted_at for x in events if x.stream == e.stream and x.emitted_at <= e.emitted_at
                    and any(norm(v.text) == key and abs(v.start - w.start) < 0.8 for v in x.segment.words)]
            firsts.append(min(seen) - (t0 + w.end))
    return finals, firsts


def _rates(lang: str, refs: list[tuple[int, str]], hyps: list[tuple[int, str]]) -> dict[str, float]:
    """``lang``: the hearing's text (every line against every hypothesis, in order); ``{lang}_seat``: the
    record by seat (each seat's hypotheses against that seat's lines, edits summed: a word written in the
    wrong seat's line is an error here and not in the plain text). ``refs``/``hyps``: (channel, text)."""
    seats = sorted({ch for ch, _ in refs} | {ch for ch, _ in hyps})
    return {lang: error_rate(" ".join(t for _, t in refs), " ".join(t for _, t in hyps), lang),
            f"{lang}_seat": speaker_error_rate([(" ".join(t for c, t in refs if c == ch), " ".join(t for c, t in hyps if c == ch))
                                                for ch in seats], lang)}


def score(segments: list[Segment], ref: dict, until_s: float) -> dict[str, float]:
    """WER (en) / CER (zh) of segments against the reference utterances that end before ``until_s``,
    as text and by seat (``_rates``)."""
    utts = [u for u in ref["utterances"] if u["end"] <= until_s]
    out: dict[str, float] = {}
    for lang in ("en", "zh"):
        # a segment is scored in the language of the line it overlaps most
        heard = sorted((s for s in segments if s.channel is not None and max(
            utts, key=lambda u: min(s.end, u["end"]) - max(s.start, u["start"]))["language"] == lang),
            key=lambda s: s.start)  # streams finish in any order; read them in time order
        out |= _rates(lang, [(u["channel"], u["text"]) for u in utts if u["language"] == lang],
                      [(s.channel, s.text) for s in heard if s.channel is not None])
    return out


def score_words(words: list[Word], ref: dict, until_s: float) -> dict[str, float]:
    """As ``score``, for a transcript with no seats: each word counts for the utterance it overlaps most
    (and so for that utterance's seat: an attribution no real pass has, so ``*_seat`` flatters it)."""
    utts = [u for u in ref["utterances"] if u["end"] <= until_s]
    heard: dict[int, list[str]] = {i: [] for i in range(len(utts))}
    for w in words:
        i = max(range(len(utts)), key=lambda i: min(w.end, utts[i]["end"]) - max(w.start, utts[i]["start"]))
        heard[i].append(w.text)
    out: dict[str, float] = {}
    for lang in ("en", "zh"):
        mine = [(u["channel"], u["text"], "".join(heard[i])) for i, u in enumerate(utts) if u["language"] == lang]
        out |= _rates(lang, [(ch, t) for ch, t, _ in mine], [(ch, h) for ch, _, h in mine])
    return out


def bare_offline(model, mono: np.ndarray, ref: dict, until_s: float, language: str | None,  # type: ignore[no-untyped-def]
                 prompt: str | None) -> dict[str, float]:
    """Offline faster-whisper as it comes: ``WhisperModel.transcribe`` of the mono mixdown (beam 5, each
    window prompted with the text before it), its Silero VAD on; Mandarin converted to simplified
    characters as ours is (the model writes traditional ones unless prompted otherwise)."""
    segments, _ = model.transcribe(mono, language=language, multilingual=language is None, vad_filter=True,
                                   word_timestamps=True, initial_prompt=prompt)
    words = [Word(w.start, w.end, to_simplified(w.word), w.probability) for s in segments for w in s.words or ()]
    return score_words(words, ref, until_s)


CPU: dict[str, float] = {}


def timed(fn, label: str = ""):  # type: ignore[no-untyped-def]
    """(result, wall seconds); the process CPU seconds go to CPU[label] (less sensitive to a busy machine)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    CPU[label] = time.process_time() - c
    return result, time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--model", default="base")
    parser.add_argument("--cache", default=str(ROOT / "data" / "cache"))
    parser.add_argument("--rooms", default="1,2,3")
    parser.add_argument("--hold-s", type=float, default=None)
    parser.add_argument("--workers", type=int, default=2, help="decodes at once (one model replica each)")
    parser.add_argument("--cpu-threads", type=int, default=1, help="threads per decode")
    parser.add_argument("--replays", type=int, default=1,
                        help="replay the hearing through ours this many times (one figure line each: the "
                             "tail of 160 words moves run to run)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: stream,peer,batch,rooms")
    parser.add_argument("--hearing", default=str(HEARING), help="4-channel hearing (FLAC + JSON reference)")
    parser.add_argument("--vocabulary", default=",".join(DEMO_VOCABULARY),
                        help="case vocabulary given to ours, the offline batch and the peer alike ('' for none)")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    vocabulary = tuple(w for w in args.vocabulary.split(",") if w)
    hearing = Path(args.hearing)
    audio, _ = sf.read(hearing, dtype="float32", always_2d=True)
    ref = json.loads(hearing.with_suffix(".json").read_text())
    if args.quick:
        audio = audio[: 30 * 16000]
    until = audio.shape[0] / 16000
    store, threads = ModelStore(Path(args.cache)), args.workers * args.cpu_threads
    model = load_model(store, args.model, cpu_threads=threads)  # batch: one file, every thread
    pool = load_model(store, args.model, cpu_threads=args.cpu_threads, num_workers=args.workers)
    decoder = Decoder(pool, args.model)
    print(f"hearing: {hearing.name}, {until:.1f} s x 4 ch; model {args.model} int8; streaming {args.workers} decodes at once x "
          f"{args.cpu_threads} thread(s), batch {threads} threads; vocabulary {vocabulary}")

    spoken = [u["language"] for u in ref["utterances"]]
    fixed = max(set(spoken), key=spoken.count)  # the hearing's main language (the demo: English)
    mono = audio.sum(axis=1) / 2.0
    if "batch" not in skip:
        for lang in (fixed, None):  # fixed language on both sides, then detection on both sides
            _, bare = timed(lambda lang=lang: list(model.transcribe(mono, beam_size=5, language=lang)[0]), "bare")
            _, seats = timed(lambda lang=lang: transcribe_recording(model, audio, SEATS, BatchOptions(language=lang)),
                             "seats")
            _, one = timed(lambda lang=lang: transcribe_recording(model, mono.reshape(-1, 1), SEATS[:1],
                                                                  BatchOptions(language=lang)), "mono")
            print(f"batch language={lang or 'auto'}: bare WhisperModel.transcribe of the mono mixdown {bare:.1f} s; "
                  f"ours per seat (4 ch) {seats:.1f} s = {seats / bare:.2f}x, ours on the mixdown {one:.1f} s = "
                  f"{one / bare:.2f}x | CPU seconds: bare {CPU['bare']:.1f}, per seat {CPU['seats']:.1f} = "
                  f"{CPU['seats'] / CPU['bare']:.2f}x, mixdown {CPU['mono']:.1f} = {CPU['mono'] / CPU['bare']:.2f}x")
    # The offline error figures: the batch's accuracy and the streams' yardstick (not needed for rooms alone).
    if not {"batch", "stream", "peer"} <= skip:
        offline, _ = timed(lambda: transcribe_recording(
            model, audio, SEATS, BatchOptions(model_name=args.model, vocabulary=vocabulary)))
        off_err = score(offline, ref, until)
        print(f"offline (batch) error: WER en {off_err['en']:.3f}, CER zh {off_err['zh']:.3f}; by seat: WER en "
              f"{off_err['en_seat']:.3f}, CER zh {off_err['zh_seat']:.3f}")
        main_language = fixed if len(set(spoken)) == 1 else None  # a mixed hearing: detected per window
        prompts: dict[str, str | None] = {"no prompt": None}
        vocab_text = vocabulary_prompt(vocabulary, fixed)
        if vocab_text:
            prompts["the vocabulary as initial_prompt"] = (ZH_PROMPT if main_language == "zh" else "") + vocab_text
        bare_err = {}
        for label, prompt in prompts.items():
            bare_err[label] = bare_offline(model, mono, ref, until, main_language, prompt)
            print(f"offline (bare faster-whisper, mono mixdown, language {main_language or 'detected'}, {label}) error: "
                  f"WER en {bare_err[label]['en']:.3f}, CER zh {bare_err[label]['zh']:.3f}; by the seat of the line each word "
                  f"overlaps: WER en {bare_err[label]['en_seat']:.3f}, CER zh {bare_err[label]['zh_seat']:.3f}")
        bare_fw = bare_err["no prompt"]

    for name, peer in (("ours", False), ("peer", True)):
        if (name == "ours" and "stream" in skip) or (name == "peer" and "peer" in skip):
            continue
        runs = args.replays if name == "ours" else 1
        for run in range(runs):
            (evs, t0, lag), wall = timed(lambda p=peer: asyncio.run(replay(
                decoder, audio, 1, peer=p, vocabulary=vocabulary, workers=args.workers)))
            finals, firsts = latencies(evs[0], t0)
            err = score([e.segment for e in evs[0] if e.kind == "final"], ref, until)
            label = f"{name} (replay {run + 1} of {runs})" if runs > 1 else name
            print(f"{label}: final latency p50 {pct(finals, 50):.2f} s p95 {pct(finals, 95):.2f} s; first-partial "
                  f"p50 {pct(firsts, 50):.2f} s p95 {pct(firsts, 95):.2f} s; WER en {err['en']:.3f} "
                  f"(offline {off_err['en']:.3f}, bare {bare_fw['en']:.3f}), CER zh {err['zh']:.3f} (offline "
                  f"{off_err['zh']:.3f}, bare {bare_fw['zh']:.3f}); by seat: WER en {err['en_seat']:.3f} (offline "
                  f"{off_err['en_seat']:.3f}), CER zh {err['zh_seat']:.3f} (offline {off_err['zh_seat']:.3f}); "
                  f"max lag {max(v for _, v in lag):.1f} s; words {len(finals)}", flush=True)

    if "rooms" not in skip:
        hold = args.hold_s or (60.0 if args.quick else 600.0)
        for n in (int(x) for x in args.rooms.split(",")):
            (_, _, lag), _ = timed(lambda n=n: asyncio.run(replay(decoder, audio, n, hold_s=hold, vocabulary=vocabulary,
                                                                  workers=args.workers)))
            q = max(1, len(lag) // 4)
            first, last = statistics.mean(v for _, v in lag[:q]), statistics.mean(v for _, v in lag[-q:])
            grew, late_max = last > first + 3.0, max(v for _, v in lag[-q:])
            verdict = ("NOT held: lag grew" if grew else
                       f"NOT held: lag reached {late_max:.1f} s in the last quarter" if late_max >= 10.0 else "held")
            print(f"rooms {n}: hold {hold:.0f} s, lag first quarter {first:.1f} s, last quarter {last:.1f} s, "
                  f"max {max(v for _, v in lag):.1f} s -> {verdict}")
            if verdict != "held":
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
