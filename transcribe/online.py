"""Online (streaming) transcription of one seat, in the LocalAgreement style of whisper_streaming.

``insert_audio_chunk`` → ``process_iter`` → … → ``finish``. The processor keeps the room-side
state (audio buffer, VAD, hypothesis buffer, committed text) and calls the stateless
:class:`~transcribe.decoder.Decoder` with the buffer (≤ 30 s) and a prompt made of the case
vocabulary and what the room (every seat, :class:`Conversation`) said last before the buffer; the
room's last utterances in the same language are also put before the buffer as audio, where the
encoder input has room for them, so that the model hears the conversation (their text ends the prompt
and decoding starts after them: they are heard, not decoded again). Words that two consecutive decodes
agree on are committed, and so is a word the latest decode heard with ``force_commit_s`` of audio
after it (agreement alone has no time bound); committed words become ``final`` events at sentence
or clause marks (or when held too long, or at the end of an utterance, where words not yet final
are respelled by a beam-searched decode) and never change; the rest is shown as ``partial``.
The buffer is trimmed at committed sentence ends. Silero VAD gates decoding: silence costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from transcribe.decoder import (
    CONTEXT_GAP_S,
    SAMPLE_RATE,
    SENTENCE_END,
    DecodeOptions,
    Decoder,
    join_words,
    vocabulary_prompt,
)
from transcribe.errors import AudioFormatError
from transcribe.homophones import corrector
from transcribe.hypothesis import HypothesisBuffer
from transcribe.metrics import normalise_en, normalise_zh
from transcribe.types import EventKind, Segment, TranscriptEvent, Word
from transcribe.vad import StreamVad

CLAUSE_END = tuple(",;:，；：、")
MAX_WINDOW_S = 30.0  # Whisper's window: a decode never sees more of the buffer than this
CONTEXT_LANGUAGE_SHARE = 0.9  # a detection this sure is taken as the utterance's language for its context


@dataclass(frozen=True, slots=True)
class OnlineOptions:
    """Policy of one online processor. Times in seconds."""

    language: str | None = None  # None: detect per utterance among ``languages``
    languages: tuple[str, ...] = ("zh", "en")
    vocabulary: tuple[str, ...] = ()  # party names, cause of action, legal terms, hotwords
    min_chunk_s: float = 1.0  # decode at most this often (the scheduler may stretch it under load)
    # The first decode of an utterance waits for this much audio: half a second of speech is too little
    # to tell Mandarin from English, and a wrong first guess can be committed.
    first_decode_s: float = 1.0
    trim_s: float = 12.0  # trim the buffer at a committed sentence end once it is longer than this
    max_buffer_s: float = 24.0  # trim at the last committed word past this
    # Committed words wait this long (after they were spoken) for their sentence to end; then they
    # are final up to a clause mark, or as they stand once they span ``min_final_s`` or the oldest
    # has waited ``max_hold_s``, and the sentence continues in the next final.
    final_hold_s: float = 1.5
    min_final_s: float = 1.0
    max_hold_s: float = 2.0
    # A word the latest decode heard with this much audio after it is committed even if two decodes
    # did not agree on its spelling: bounds the latency of a final (LocalAgreement alone does not).
    # Mandarin homophones rarely agree, so most Mandarin is committed this way. 1.6 s before decodes
    # came every 0.4 s (rather than ~0.6 s): 1.9 s lets such a word be heard with about as much audio
    # after it as then (the difference in CER was within its spread, bench/RESULTS.md).
    force_commit_s: float = 1.9
    # LocalAgreement compares a decode with one that heard at least this much less audio: decodes come
    # as often as every 0.4 s (the scheduler's cadence) and two a moment apart share their mishearings.
    agree_hop_s: float = 0.8
    end_silence_s: float = 0.5  # VAD silence that ends an utterance (commit everything)
    gap_s: float = 0.25  # a jump in input times longer than this ends the utterance too
    beam_size: int = 1  # streaming decodes run every second: greedy
    final_beam_size: int = 5  # the decode that ends an utterance (its words become final) uses beam search
    # Prompt: the case vocabulary and the room's last words, this many characters of English (half as
    # many of Chinese). Longer prompts slowed every decode and were echoed back more often.
    prompt_chars: int = 100
    # Up to this much of the room's last speech in the utterance's language (every seat's, whole
    # utterances) is put before the seat's buffer where the encoder input has room for it, so the
    # model hears the conversation as the offline pass does: on the demo hearing "Plaintiff" for
    # "Plaint if", "borrowed" for "followed" (and 下面 for 上面 when Mandarin had it too). 0 turns it off.
    context_audio_s: float = 6.0
    # ... for decodes in these languages. On the Mandarin hearing it bought no accuracy: CER 0.126 / 0.123 /
    # 0.129 without against 0.131 / 0.129 / 0.139 with when the context was decoded again (final p95 2.63 s
    # against 3.22–3.54 s on a slow host), 0.110 / 0.123 without against 0.131 / 0.121 with once it was only
    # heard; English without it: WER 0.059 against 0.017–0.025 (bench/RESULTS.md, 2026-12-06).
    context_languages: tuple[str, ...] = ("en",)
    # A seat speaking one of these languages keeps its utterance open across a pause this long (the seat
    # gate holds the channel open): a Mandarin clause decoded without the one before it loses the
    # sentence's sense (报告审判长，原告… decoded from 原告 on came out 研告 / 言告 / 颜告): Mandarin hearing CER
    # 0.121 against 0.134. English is left to the gate's own 0.35 s: held 0.6 s too, the demo hearing's
    # WER went from 0.017 to 0.068 (bench/RESULTS.md, 2026-12-06 night).
    pause_hold_s: tuple[tuple[str, float], ...] = (("zh", 0.6),)
    vad_threshold: float = 0.5
    tail_min_probability: float = 0.3  # low-confidence words ending an utterance are dropped
    # At an utterance's end, when the last decode saw all but this much audio, its hypothesis is
    # committed as it is instead of decoding once more (saves a decode per utterance under load).
    reuse_hypothesis_s: float = 0.5
    # Streaming windows hold seconds of speech: the encoder input is padded to this, not to 30 s.
    min_window_s: float = 10.0
    # A seat that resumes within this many seconds keeps its language unless detection gives another
    # language ``switch_share`` of the probability (a judge's sentence split by a pause stays Mandarin);
    # a seat silent for longer starts in the language the room spoke last, within as many seconds (the
    # judge's lone "被告，" after 15 s, a second of audio, was detected as English at 0.94 and written
    # "Peek-o"; real switches on the demo hearing were detected at 0.999 or more).
    keep_language_s: float = 8.0
    switch_share: float = 0.97


@dataclass(frozen=True, slots=True)
class SeatInfo:
    """Which stream a processor serves: labels copied into every segment."""

    stream: str = ""
    channel: int | None = None
    seat: str | None = None
    role: str | None = None


@dataclass(slots=True)
class _Inbox:
    chunks: list[tuple[np.ndarray | None, float]] = field(default_factory=list)  # None: a pause marker
    lock: threading.Lock = field(default_factory=threading.Lock)
    received_until_s: float = 0.0
    queued_s: float = 0.0  # audio waiting in the inbox
    pauses: int = 0


@dataclass(frozen=True, slots=True)
class _Heard:
    """The audio of a finished utterance, kept as context for the room's next decodes (per language)."""

    start_s: float
    audio: np.ndarray
    text: str = ""  # what was said in it (the finals' words)

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.audio) / SAMPLE_RATE


class Conversation:
    """A room's recent finals, every seat's, as prompt context for each seat's decodes.

    A seat's buffer holds only its own speech, but what was just said to it is the best context:
    after the judge's "Is the plaintiff present?" Whisper hears "Yes, Your Honor." where, prompted
    with nothing, greedy decodes heard "Yes, you're on it." (the offline pass decodes the room's
    utterances in time order, so it has this context). Shared by a room's processors (worker threads).
    """

    def __init__(self, keep: int = 24) -> None:
        self._lines: deque[tuple[float, str, str]] = deque(maxlen=keep)  # (end_s, language, text)
        # Per language: in a bilingual hearing the last Mandarin utterance may lie a dozen English
        # ones back, and it is still the best context for the next Mandarin one.
        self._heard: dict[str, deque[_Heard]] = {}
        self._lock = threading.Lock()

    def add_audio(self, start_s: float, language: str | None, audio: np.ndarray, text: str = "") -> None:
        """Keep an utterance's audio (a seat's own microphone) and its text as context for the next decodes."""
        if language and len(audio):
            with self._lock:
                self._heard.setdefault(language, deque(maxlen=8)).append(_Heard(start_s, audio, text))

    def audio_before(self, t: float, language: str | None, max_s: float) -> list[_Heard]:
        """The latest whole utterances in ``language`` that ended before ``t``, in time order, that fit
        ``max_s`` together (with ``CONTEXT_GAP_S`` after each). Utterances in another language are
        passed over, as the offline pass packs each language's utterances together."""
        chosen: list[_Heard] = []
        room = max_s
        with self._lock:
            heard = sorted((h for h in self._heard.get(language or "", ()) if h.end_s <= t),
                           key=lambda h: h.end_s, reverse=True)
        for h in heard:
            length = len(h.audio) / SAMPLE_RATE + CONTEXT_GAP_S
            if length > room:
                break  # context is what was said just before, without holes
            chosen.append(h)
            room -= length
        return chosen[::-1]

    def add(self, end_s: float, language: str | None, text: str) -> None:
        if text.strip():
            with self._lock:
                self._lines.append((end_s, language or "", text.strip()))

    def last_language(self, t: float, within_s: float) -> str | None:
        """The language of the room's last final that ended before ``t``, if within ``within_s`` of it."""
        with self._lock:
            ended = [(end, language) for end, language, _ in self._lines if end <= t + 0.05]
        end, language = max(ended, default=(-1e9, ""))
        return (language or None) if t - end <= within_s else None

    def before(self, t: float, language: str | None, chars: int) -> str:
        """The last ``chars`` characters said in ``language`` by anyone, of finals that ended before ``t``
        (text whose audio is still in a seat's buffer makes Whisper skip it)."""
        # a Chinese character is a token or two, an English word of ~5 characters one
        keep = chars // 2 if language == "zh" else chars
        if keep <= 0:
            return ""  # (a slice from -0 would be the whole history)
        with self._lock:
            lines = sorted(line for line in self._lines if line[0] <= t and line[1] == (language or ""))
        if language == "zh":
            return "".join(text for _, _, text in lines)[-keep:]
        return " ".join(text for _, _, text in lines)[-keep:].strip()


def _repeats(words: tuple[Word, ...], context: list[_Heard], language: str | None) -> bool:
    """Whether a decode wrote one of the context's utterances (4 words or characters or more) whole again."""
    split = normalise_zh if language == "zh" else normalise_en
    said = split(join_words(words))
    for heard in context:
        again = split(heard.text)
        if len(again) >= 4 and any(said[i : i + len(again)] == again for i in range(len(said) - len(again) + 1)):
            return True
    return False


class OnlineProcessor:
    """Streaming transcriber for one seat (or one mono stream). Not re-entrant: one process_iter at a time."""

    def __init__(self, decoder: Decoder, options: OnlineOptions | None = None, seat: SeatInfo | None = None,
                 conversation: Conversation | None = None) -> None:
        self.decoder = decoder
        self.conversation = conversation or Conversation()  # the room's, or this stream's own
        self.options = options or OnlineOptions()
        self.seat = seat or SeatInfo()
        self.vad = StreamVad(self.options.vad_threshold)
        self.hyp = HypothesisBuffer()
        self.terms = corrector(tuple(self.options.vocabulary))  # built here, not in the first decode
        self._pause_hold = dict(self.options.pause_hold_s)
        self.inbox = _Inbox()
        self.audio = np.zeros(0, np.float32)  # (frames,) the current buffer
        self.buffer_start_s = 0.0
        self.processed_until_s = 0.0  # end of the audio the last decode saw
        self.agreed_at_s = -1e9  # end of the audio of the hypothesis the next decode is compared with
        self.pending: list[Word] = []  # committed, not yet emitted as final
        self.final_until_s = 0.0  # end of the last word handed out in a final
        self.utterance_decodes = 0
        self.language = self.options.language  # of the current utterance, once its first words are committed
        self.window_language: str | None = self.options.language  # what the last decode detected
        self.window_language_share = 0.0  # ... and its share of the probability among the languages
        self.seat_language: str | None = None  # the language of this seat's last utterance
        self.seat_language_at_s = -1e9  # when that utterance ended
        self.last_partial = ""
        self.decodes = 0
        self.utterance_words: list[Word] = []  # the words handed out in this utterance's finals
        self._unsent: list[TranscriptEvent] = []  # finals of a call that failed after committing them

    # -- input ------------------------------------------------------------------------------------
    def insert_audio_chunk(self, audio: np.ndarray, start_s: float | None = None) -> None:
        """Queue (frames,) float32 mono audio that starts at ``start_s`` (default: right after the last)."""
        if not isinstance(audio, np.ndarray) or audio.ndim != 1 or not np.issubdtype(audio.dtype, np.floating):
            raise AudioFormatError(f"online processor wants (frames,) float audio, got {getattr(audio, 'shape', '?')}")
        with self.inbox.lock:
            start = self.inbox.received_until_s if start_s is None else float(start_s)
            self.inbox.chunks.append((audio.astype(np.float32, copy=False), start))
            self.inbox.received_until_s = start + len(audio) / SAMPLE_RATE
            self.inbox.queued_s += len(audio) / SAMPLE_RATE

    def mark_pause(self) -> None:
        """The seat stopped speaking (its gate closed): finalise at the next ``process_iter``."""
        with self.inbox.lock:
            self.inbox.chunks.append((None, self.inbox.received_until_s))
            self.inbox.pauses += 1

    @property
    def received_until_s(self) -> float:
        return self.inbox.received_until_s

    @property
    def buffer_end_s(self) -> float:
        return self.buffer_start_s + len(self.audio) / SAMPLE_RATE

    @property
    def utterance_language(self) -> str | None:
        """The current utterance's language: settled at its first commit, until then the last detected."""
        return self.language or self.window_language

    def hangover_s(self, default: float) -> float:
        """How long the seat gate holds this seat's channel open across a pause (``pause_hold_s``)."""
        return self._pause_hold.get(self.utterance_language or self.seat_language or "", default)

    def backlog_s(self) -> float:
        """Audio received but not yet seen by a decode (the stream's lag in audio seconds)."""
        return self.inbox.queued_s + max(0.0, self.buffer_end_s - max(self.processed_until_s, self.buffer_start_s))

    def waiting_since_s(self) -> float:
        """Recording time of the oldest audio not yet decoded (the scheduler serves the oldest first)."""
        with self.inbox.lock:
            first = next((start for audio, start in self.inbox.chunks if audio is not None), None)
        undecoded = max(self.processed_until_s, self.buffer_start_s)
        if len(self.audio) and undecoded < self.buffer_end_s:
            return undecoded
        return first if first is not None else self.received_until_s

    def ready(self, min_chunk_s: float | None = None) -> bool:
        """Enough new audio for another decode."""
        wait = self.options.min_chunk_s if min_chunk_s is None else min_chunk_s
        if self.inbox.pauses:
            return True
        if not self.utterance_decodes:
            wait = max(wait, self.options.first_decode_s)
        return self.backlog_s() >= wait

    # -- processing -------------------------------------------------------------------------------
    def process_iter(self) -> list[TranscriptEvent]:
        """Take the queued audio, decode if there is speech, return new partial/final events.

        A decode that raises loses nothing already committed: under load one call can end two
        utterances, and the first one's finals (its words gone from ``pending``, its text in the
        conversation) would never be sent. They are kept (:meth:`take_unsent`) and come first in the
        next call's events; the failure is raised for the caller to count.
        """
        events, self._unsent = self._unsent, []
        try:
            self._process(events)
        except Exception:
            self._failed(events)
            raise
        return events

    def take_unsent(self) -> list[TranscriptEvent]:
        """The finals committed by a call that then failed, not yet returned (handed out once)."""
        events, self._unsent = self._unsent, []
        return events

    def _failed(self, events: list[TranscriptEvent]) -> None:
        """After a failed decode: keep the finals built (partials are stale by the next call), and bound
        the buffer: it is trimmed only after decodes that work, and a model failing every decode kept
        every second of a hearing in memory."""
        self._unsent = [e for e in events if e.kind == "final" or not e.segment.text]  # (and retractions)
        if self.buffer_end_s - self.buffer_start_s > MAX_WINDOW_S:
            # As an utterance that ended undecoded: what the hypothesis holds is committed, the audio
            # dropped (the recording keeps it). A decode never sees more than this window anyway.
            self._unsent += self._end_utterance(decode=False)

    def _process(self, events: list[TranscriptEvent]) -> None:
        """The work of :meth:`process_iter`, appending to ``events`` (kept if a decode raises)."""
        with self.inbox.lock:
            chunks, self.inbox.chunks = self.inbox.chunks, []
            self.inbox.pauses = 0
            self.inbox.queued_s = 0.0
        for audio, start in chunks:
            if audio is None:
                events += self._end_utterance()
                continue
            if len(self.audio) and start - self.buffer_end_s > self.options.gap_s:
                events += self._end_utterance()
            if not len(self.audio) and (start != self.buffer_end_s or not self.vad._probs.size):
                self.buffer_start_s = start
                self.vad.reset(start)
            self.audio = np.concatenate([self.audio, audio])
            self.vad.push(audio)
        if not len(self.audio) or any(e.kind == "final" for e in events):
            # An utterance just ended: hand its finals out now rather than after another decode of
            # the audio that followed (that audio stays buffered and counts as backlog for the next turn).
            return
        if not self.vad.speech_between(self.buffer_start_s, self.buffer_end_s):
            if self.hyp.uncommitted() or self.pending:
                events += self._end_utterance(decode=False)
                return
            self._trim_to(max(self.buffer_start_s, self.buffer_end_s - 0.4))  # keep a possible onset
            self.processed_until_s = self.buffer_end_s
            return
        if self.vad.trailing_silence_s() >= self.options.end_silence_s:
            events += self._end_utterance()
            return
        words = self._decode()
        self.hyp.insert(words)
        agreed: list[Word] = []
        if self.buffer_end_s - self.agreed_at_s > self.options.agree_hop_s - 0.01:  # (float sums of 0.4 s)
            agreed, self.agreed_at_s = self.hyp.flush(), self.buffer_end_s
        else:
            self.hyp.hold()
        events += self._commit(agreed + self.hyp.commit_older_than(self.buffer_end_s - self.options.force_commit_s),
                               utterance_end=False)
        if self.buffer_end_s - self.buffer_start_s > 29.0:  # nothing agreed for too long
            events += self._end_utterance(decode=False)
            return
        self._maybe_trim()
        events += self._partial()

    def finish(self) -> list[TranscriptEvent]:
        """End of stream: decode and commit whatever is left."""
        events = self.process_iter()
        try:
            events += self._end_utterance()
        except Exception:
            self._failed(events)
            raise
        return events

    # -- internals --------------------------------------------------------------------------------
    def _prompt(self, language: str | None, before_s: float, room: bool = True) -> str:
        """The case vocabulary and (with ``room``) what the room said last, before ``before_s``, in ``language``."""
        vocab = vocabulary_prompt(self.options.vocabulary, language)
        tail = self.conversation.before(before_s + 0.05, language, self.options.prompt_chars) if room else ""
        return f"{vocab}. {tail}".strip(". ") if vocab else tail

    def _decode(self, beam_size: int | None = None, plain: bool = False) -> tuple[Word, ...]:
        """Decode the buffer (``plain``: without the room's audio and text, the case vocabulary only)."""
        window = self.audio[-int(MAX_WINDOW_S * SAMPLE_RATE) :]
        offset = self.buffer_end_s - len(window) / SAMPLE_RATE
        # Until the utterance's first words are committed, every decode detects the language again
        # (from its own encoder output, free), with the seat's (or else the room's) recent language preferred.
        recent = self.buffer_start_s - self.seat_language_at_s <= self.options.keep_language_s
        prefer = self.seat_language if recent else self.conversation.last_language(
            self.buffer_start_s, self.options.keep_language_s)
        language, context = self._context(window)
        context = [] if plain else context
        prompt_language = language or self.utterance_language or self.seat_language
        # The room's text up to the buffer: it ends with the context's, whose audio is not decoded again.
        prompt = self._prompt(prompt_language, self.buffer_start_s, room=not plain)
        audio, lead, heard = window, 0.0, []
        if context:
            gap = np.zeros(int(CONTEXT_GAP_S * SAMPLE_RATE), np.float32)
            audio = np.concatenate([piece for h in context for piece in (h.audio, gap)] + [window])
            lead = (len(audio) - len(window)) / SAMPLE_RATE
            at = 0.0
            for h in context:
                heard.append((at, at + len(h.audio) / SAMPLE_RATE, h.text))
                at += len(h.audio) / SAMPLE_RATE + CONTEXT_GAP_S
        opts = DecodeOptions(language=language, languages=self.options.languages, prompt=prompt,
                             beam_size=beam_size or self.options.beam_size, min_window_s=self.options.min_window_s,
                             prefer_language=prefer, switch_share=self.options.switch_share,
                             prompt_language=prompt_language, context_s=lead, heard=tuple(heard))
        decoded = self.decoder.decode(audio, offset - lead, opts)
        if context and (not decoded.words or _repeats(decoded.words, context, decoded.language)):
            # The room's speech before the seat's own sometimes swallows the seat's words: Whisper writes
            # the context as one segment and stops, or loops over it and the window is dropped (seen in
            # ~5 % of context decodes on the demo hearing, when it was decoded again); or, told to start
            # after it, it writes the context again as the seat's words (1 in 55 on the demo hearing).
            # The seat's audio alone then, with the same prompt. The next decode tries the context again: it mends
            # homophones (转账, not 转仗), and giving it up for the utterance cost CER (bench/RESULTS.md).
            decoded = self.decoder.decode(window, offset, replace(opts, context_s=0.0, heard=()))
        self.window_language, self.window_language_share = decoded.language, decoded.language_probability
        self.decodes += 1
        self.utterance_decodes += 1
        self.processed_until_s = self.buffer_end_s
        # before LocalAgreement: two decodes that wrote 员告 and 原告 agree on 原告
        return self.terms.words(decoded.words)

    def _context(self, window: np.ndarray) -> tuple[str | None, list[_Heard]]:
        """(language, the room's audio to put before ``window``): as much of the room's last speech as
        fits the encoder input that ``window`` needs anyway (it is padded to ``min_window_s``).

        The context is in the utterance's language, so that must be known: settled at the first commit,
        configured, or detected with confidence by this utterance's previous decode. The first decode of
        an utterance has none and detects the language from its own encoder output (a separate
        detection pass cost a quarter of a decode).
        """
        from transcribe.whisper_window import encoder_frames

        language = self.language or self.options.language or (None if self.decoder.multilingual else "en")
        if language is None and self.utterance_decodes and self.window_language_share >= CONTEXT_LANGUAGE_SHARE:
            language = self.window_language
        window_s = len(window) / SAMPLE_RATE
        bucket_s = encoder_frames(int(window_s * 100), self.options.min_window_s) / 100
        room = min(self.options.context_audio_s, bucket_s - 1.0 - window_s)  # 1 s of padding stays
        if language not in self.options.context_languages or room < 1.0:
            return language, []
        return language, self.conversation.audio_before(self.buffer_start_s, language, room)

    def _end_utterance(self, decode: bool = True) -> list[TranscriptEvent]:
        """The seat stopped speaking: decode the buffer once more and commit all of it."""
        fresh = self.buffer_end_s - self.processed_until_s  # audio the last decode has not seen
        recent = (self.hyp.uncommitted() and not self.pending and fresh < self.options.reuse_hypothesis_s
                  and not self.vad.speech_between(self.processed_until_s, self.buffer_end_s))
        if decode and len(self.audio) and not recent and self.vad.speech_between(self.buffer_start_s, self.buffer_end_s):
            decoded = self._decode(self.options.final_beam_size)
            respell = [w for w in decoded if (w.start + w.end) / 2 > self.final_until_s]
            if self.pending and respell:
                # Committed words not yet handed out as final are still provisional: the beam-searched
                # decode of the whole utterance spells them ("Your Honor" where greedy heard "you're on it").
                self.hyp.reopen(self.final_until_s)
                self.pending = []
            self.hyp.insert(decoded)
        heard = self.hyp.commit_all()
        words = self._sure(heard)
        if heard and not words and self.vad.speech_between(self.buffer_start_s, self.buffer_end_s):
            # Every word unsure: on a second of speech Whisper sometimes writes the room's last line from
            # its prompt instead (the judge's 现在休庭 came back as 请求法庭依法, each word at p < 0.01, in
            # three replays of four of the Mandarin hearing, and the utterance was lost). Once more then,
            # the seat's audio with the case vocabulary only.
            words = self._sure([w for w in self._decode(self.options.final_beam_size, plain=True)
                                if (w.start + w.end) / 2 > self.final_until_s])
        events = self._commit(words, utterance_end=True)
        if self.last_partial:  # dropped, every word unsure: its provisional line is taken back
            events.append(self._retraction())
        if self.utterance_words and self.utterance_language in self.options.context_languages:
            self._keep_as_context()
        self.utterance_words = []
        self._trim_to(self.buffer_end_s)
        self.processed_until_s = self.buffer_end_s
        self.last_partial = ""
        self.utterance_decodes = 0
        if events and self.utterance_language:
            self.seat_language, self.seat_language_at_s = self.utterance_language, self.buffer_end_s
        self.language = self.window_language = self.options.language
        return events

    def _sure(self, words: list[Word]) -> list[Word]:
        """The words without the low-confidence ones that end them (Whisper pads an utterance's end
        with a "you", "moment", ...)."""
        words = list(words)
        while words and words[-1].probability < self.options.tail_min_probability:
            words.pop()
        return words

    def _commit(self, words: list[Word], utterance_end: bool) -> list[TranscriptEvent]:
        self.pending.extend(words)
        if not self.pending:
            return []
        if utterance_end:
            cut = len(self.pending)
        else:
            ends = [i for i, w in enumerate(self.pending) if w.text.strip().endswith(SENTENCE_END)]
            cut = ends[-1] + 1 if ends else 0
            cut = self._mid_sentence_cut(cut)
        if self.language is None:
            self.language = self.window_language  # words are committed: the utterance's language is settled
        if cut == 0:
            return []
        final, self.pending = self.pending[:cut], self.pending[cut:]
        self.utterance_words += final
        self.final_until_s = max(self.final_until_s, final[-1].end)
        text = join_words(final)
        self.conversation.add(final[-1].end, self.language, text)
        if not text:
            return []
        self.last_partial = ""  # the final takes the seat's provisional line's place on the screens
        return [self._event("final", final)]

    def _mid_sentence_cut(self, cut: int) -> int:
        """Where a final ends inside a sentence that has not ended yet; ``cut`` keeps holding the rest.

        Words held ``final_hold_s`` become final at the last clause mark among them ("Please rise,"
        rather than "Yes, you're"); without one, once they span ``min_final_s`` of speech, or when
        the oldest has waited ``max_hold_s``: fragments stay readable and no word waits for long.
        """
        rest, now = self.pending[cut:], self.buffer_end_s
        if not rest or now - rest[0].end < self.options.final_hold_s:
            return cut
        clauses = [i for i, w in enumerate(rest)
                   if now - w.end >= self.options.final_hold_s and w.text.strip().endswith(CLAUSE_END)]
        if clauses:
            return cut + clauses[-1] + 1
        if rest[-1].end - rest[0].start >= self.options.min_final_s or now - rest[0].end >= self.options.max_hold_s:
            return len(self.pending)
        return cut

    def _keep_as_context(self) -> None:
        """Hand the utterance's audio (its last ``context_audio_s``, from a word's start) and those words to the room."""
        end = min(self.buffer_end_s, self.final_until_s + 0.1)
        fit = [w for w in self.utterance_words
               if w.start >= self.buffer_start_s and end - w.start + 0.1 + CONTEXT_GAP_S <= self.options.context_audio_s]
        if not fit:  # (none either when context_audio_s is 0)
            return
        start = max(fit[0].start - 0.1, self.buffer_start_s)
        a, b = (int(round((t - self.buffer_start_s) * SAMPLE_RATE)) for t in (start, end))
        self.conversation.add_audio(start, self.utterance_language, self.audio[a:b].copy(), join_words(fit))

    def _partial(self) -> list[TranscriptEvent]:
        floor = self.hyp.last_committed_time
        words = self.pending + [w if w.start >= floor else Word(floor, max(w.end, floor), w.text, w.probability)
                                for w in self.hyp.uncommitted()]
        text = join_words(words)
        if not text or text == self.last_partial:
            return []
        self.last_partial = text
        return [self._event("partial", words)]

    def _retraction(self) -> TranscriptEvent:
        """An empty partial: the seat's provisional line goes (its utterance was dropped, no final follows)."""
        self.last_partial = ""
        segment = Segment(start=self.buffer_end_s, end=self.buffer_end_s, text="", channel=self.seat.channel,
                          seat=self.seat.seat, role=self.seat.role, language=self.utterance_language,
                          model=self.decoder.model_name)
        return TranscriptEvent(kind="partial", segment=segment, stream=self.seat.stream, emitted_at=time.time())

    def _event(self, kind: EventKind, words: list[Word]) -> TranscriptEvent:
        segment = Segment(
            start=words[0].start, end=words[-1].end, text=join_words(words), words=tuple(words),
            channel=self.seat.channel, seat=self.seat.seat, role=self.seat.role,
            language=self.utterance_language,
            confidence=round(float(np.mean([w.probability for w in words])), 4), model=self.decoder.model_name,
        )
        return TranscriptEvent(kind=kind, segment=segment, stream=self.seat.stream, emitted_at=time.time())

    def _maybe_trim(self) -> None:
        length = self.buffer_end_s - self.buffer_start_s
        if length <= self.options.trim_s:
            return
        committed = self.hyp.committed_in_buffer
        ends = [w.end for w in committed if w.text.strip().endswith(SENTENCE_END)]
        if ends:
            self._trim_to(ends[-1])
        elif length > self.options.max_buffer_s and committed:
            self._trim_to(committed[-1].end)

    def _trim_to(self, t: float) -> None:
        cut = int(round((t - self.buffer_start_s) * SAMPLE_RATE))
        if cut <= 0:
            return
        self.audio = self.audio[cut:]
        self.buffer_start_s = t
        self.hyp.pop_committed(t)
        self.vad.forget_before(t - 1.0)
