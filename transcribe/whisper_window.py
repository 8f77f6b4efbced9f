"""faster-whisper adapter for one audio window: one encoder pass serves language detection and decoding.

``WhisperModel.transcribe`` encodes a padded 30 s window even for two seconds of speech, encodes it a
second time when it must detect the language, and encodes the remainder once more whenever the text
stops short of the window's end. A streaming seat decodes a few seconds of audio every second, so
here the features are padded only to a bucket (``min_window_s``, then 5 s steps: the encoder's cost
grows with its input length, ~0.1 s for 10 s against ~0.5 s for 30 s on 2 cores), encoded once,
the language is read from that encoder output, and the window is decoded and aligned in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16000
FRAMES_PER_S = 100  # mel frames (10 ms hop)
MAX_FRAMES = 3000  # Whisper's 30 s
BUCKET_FRAMES = 500  # encoder input lengths come in 5 s steps: few distinct shapes
TAIL_PAD_FRAMES = 100  # at least 1 s of padding after the audio, as Whisper saw in training
PREPEND_PUNCTUATION = "\"'“¿([{-"
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """What to decode: the language (or None to detect among ``languages``) and how."""

    language: str | None
    languages: tuple[str, ...]
    prompt: str = ""
    hotwords: str = ""
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0,)
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    min_window_s: float = 30.0  # pad the encoder input to at least this (30 s: exactly Whisper's window)
    language_prompts: tuple[tuple[str, str], ...] = ()  # (language, text put before the prompt) once known
    prefer_language: str | None = None  # detection keeps this unless another language has ``switch_share``
    switch_share: float = 0.9
    prompt_language: str | None = None  # the prompt's language: left out when another one is detected
    # Speech at the window's start that is already transcribed: (start_s, end_s, text) in window seconds.
    # The encoder hears it, its text ends the prompt, and decoding starts at ``start_s``, so the model hears
    # the conversation without writing the context's words again (a decoder step per token, ~0.4 s for
    # 6 s of Mandarin on one thread). Their text also goes into the word alignment, which would otherwise
    # stretch the first new word back over the context's audio.
    heard: tuple[tuple[float, float, str], ...] = ()
    start_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RawWord:
    start: float  # seconds from the window's start
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One Whisper segment of the window, with the decode's quality figures."""

    text: str
    words: tuple[RawWord, ...]
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


@dataclass(frozen=True, slots=True)
class WindowResult:
    segments: tuple[RawSegment, ...]
    language: str
    language_probability: float  # share of the chosen language among the allowed ones
    encoder_frames: int


def encoder_frames(content_frames: int, min_window_s: float) -> int:
    """Length of the encoder input: the audio plus ≥ 1 s of padding, in 5 s steps, within [min, 30 s]."""
    minimum = int(min(MAX_FRAMES, max(BUCKET_FRAMES, min_window_s * FRAMES_PER_S)))
    bucket = math.ceil((content_frames + TAIL_PAD_FRAMES) / BUCKET_FRAMES) * BUCKET_FRAMES
    return min(MAX_FRAMES, max(minimum, bucket))


def encode(model: WhisperModel, audio: np.ndarray, min_window_s: float) -> tuple[Any, int, int]:
    """(encoder output, content frames, encoder frames) of (frames,) float32 audio of at most 30 s."""
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(audio)  # (n_mels, content + 1)
    content = min(MAX_FRAMES, features.shape[-1] - 1)
    frames = encoder_frames(content, min_window_s)
    return model.encode(pad_or_trim(features[:, :content], frames)), content, frames


def pick_language(model: WhisperModel, encoder_output: Any, allowed: tuple[str, ...],
                  prefer: str | None = None, switch_share: float = 1.0) -> tuple[str, float]:
    """The most probable of the ``allowed`` languages and its share among them, from an encoder output.

    With ``prefer`` (the language a seat spoke a moment ago), another language wins only with at
    least ``switch_share`` of the probability: a second of a resumed sentence is weak evidence.
    """
    if not model.model.is_multilingual:
        return "en", 1.0
    return _choose(model.model.detect_language(encoder_output)[0], allowed, prefer, switch_share)


def _choose(ranked_tokens: list[tuple[str, float]], allowed: tuple[str, ...], prefer: str | None = None,
            switch_share: float = 1.0) -> tuple[str, float]:
    ranked = [(token[2:-2], float(p)) for token, p in ranked_tokens]
    candidates = [(lang, p) for lang, p in ranked if not allowed or lang in allowed] or ranked[:1]
    total = sum(p for _, p in candidates) or 1.0
    shares = {lang: p / total for lang, p in candidates}
    lang = max(shares, key=lambda k: shares[k])
    if prefer in shares and lang != prefer and shares[lang] < switch_share:
        lang = prefer
    return lang, shares[lang]


def detect_languages(model: WhisperModel, pieces: list[np.ndarray], allowed: tuple[str, ...],
                     head_s: float = 3.0) -> list[tuple[str, float]]:
    """Language of each piece from its first ``head_s`` seconds, encoded together in one batch.

    Language identification needs a few seconds of speech, not a 30 s window: 3 s padded to 3 s
    costs about a tenth of a full window and chose right on every utterance of our fixtures.
    """
    import ctranslate2
    from faster_whisper.audio import pad_or_trim

    if not pieces:
        return []
    if not model.model.is_multilingual:
        return [("en", 1.0)] * len(pieces)
    frames = int(head_s * FRAMES_PER_S)
    batch = np.stack([pad_or_trim(model.feature_extractor(p[: int(head_s * SAMPLE_RATE)])[:, :frames], frames)
                      for p in pieces])  # (pieces, n_mels, frames)
    out = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(batch)))
    results = model.model.detect_language(out)
    return [_choose(ranked, allowed) for ranked in results]


def decode_window(model: WhisperModel, audio: np.ndarray, request: WindowRequest) -> WindowResult:
    """Encode once, pick the language, decode with timestamps, align words. Runs in the caller's thread."""
    encoder_output, content, frames = encode(model, audio, request.min_window_s)
    if request.language is not None or not model.model.is_multilingual:
        language, probability = (request.language if model.model.is_multilingual else "en") or "en", 1.0
    else:
        language, probability = pick_language(model, encoder_output, request.languages, request.prefer_language,
                                              request.switch_share)
    tokenizer = _tokenizer(model, language)
    prompt = _prompt(model, tokenizer, request, language)
    heard = _heard_pieces(tokenizer, request) if _prompted(request, language) else []  # their text is in the prompt
    start_s = request.start_s if heard else 0.0  # without their text the context is decoded with the rest
    if heard:
        prompt.append(_timestamp(tokenizer, start_s))  # decode from here on
    budget = min(max_tokens(content / FRAMES_PER_S - start_s) + 1, model.max_length - len(prompt))
    options = _options(model, tokenizer, request, budget)
    result, avg_logprob, _, compression_ratio = model.generate_with_fallback(encoder_output, prompt, tokenizer, options)
    if result.no_speech_prob > request.no_speech_threshold and avg_logprob < request.log_prob_threshold:
        return WindowResult((), language, probability, frames)
    pieces = split_by_timestamps(result.sequences_ids[0], tokenizer.timestamp_begin, tokenizer.eot,
                                 content / FRAMES_PER_S)
    if pieces:
        model.add_word_timestamps([heard + pieces], tokenizer, encoder_output, content, PREPEND_PUNCTUATION,
                                  APPEND_PUNCTUATION, last_speech_timestamp=0.0)
    return _window_result(tokenizer, pieces, content, language, probability, frames,
                          (float(result.no_speech_prob), float(avg_logprob), float(compression_ratio)))


def decode_batch(model: WhisperModel, pieces: list[np.ndarray], request: WindowRequest) -> list[WindowResult]:
    """Several windows (a recording's utterances) in one encoder call and one beam search per language:
    the batch path of a whole recording.

    A decoder step costs far less per window in a batch than alone (on 2 cores: 37 ms a step for
    three windows, 16 ms for one), and each window is encoded once. Windows are padded to the longest
    one's bucket: give windows of similar length. A decode that loops (compression ratio, token
    budget) is done again alone at the fallback ``request.temperatures``.
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    if not pieces:
        return []
    features = [model.feature_extractor(p) for p in pieces]
    contents = [max(1, min(MAX_FRAMES, f.shape[-1] - 1)) for f in features]
    frames = encoder_frames(max(contents), request.min_window_s)
    batch = np.stack([pad_or_trim(f[:, :c], frames) for f, c in zip(features, contents, strict=True)])
    encoder_output = model.encode(batch)
    if request.language is not None or not model.model.is_multilingual:
        fixed = (request.language if model.model.is_multilingual else "en") or "en"
        languages = [(fixed, 1.0)] * len(pieces)
    else:
        languages = [_choose(ranked, request.languages) for ranked in model.model.detect_language(encoder_output)]
    out: list[WindowResult | None] = [None] * len(pieces)
    for lang in dict.fromkeys(lang for lang, _ in languages):  # one beam search per language: one prompt each
        group = [i for i, (g, _) in enumerate(languages) if g == lang]
        sub = encoder_output if len(group) == len(pieces) else _rows(model, encoder_output, batch, group)
        tokenizer = _tokenizer(model, lang)
        prompt = _prompt(model, tokenizer, request, lang)
        budgets = [max_tokens(contents[i] / FRAMES_PER_S) for i in group]
        results = model.model.generate(
            sub, [prompt] * len(group), beam_size=request.beam_size, patience=1.0, length_penalty=1.0,
            max_length=min(model.max_length, len(prompt) + max(budgets)), suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),  # as _options
            return_scores=True, return_no_speech_prob=True,
            max_initial_timestamp_index=50)  # 1.0 s, as _options' max_initial_timestamp
        decoded: dict[int, tuple[list[dict], tuple[float, float, float]]] = {}
        for k, (i, result) in enumerate(zip(group, results, strict=True)):
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # faster-whisper's, length penalty 1
            compression = get_compression_ratio(tokenizer.decode([t for t in tokens if t < tokenizer.eot]))
            if result.no_speech_prob > request.no_speech_threshold and avg_logprob < request.log_prob_threshold:
                out[i] = WindowResult((), lang, languages[i][1], frames)
            elif compression > request.compression_ratio_threshold or len(tokens) > budgets[k]:
                # A loop: sample again alone at the fallback temperatures. (A low log probability alone
                # is not retried: on short utterances it is common and sampling rarely did better.)
                alone = replace(request, language=lang, min_window_s=frames / FRAMES_PER_S,
                                temperatures=request.temperatures[1:] or request.temperatures)
                out[i] = replace(decode_window(model, pieces[i], alone), language_probability=languages[i][1])
            else:
                decoded[i] = (split_by_timestamps(tokens, tokenizer.timestamp_begin, tokenizer.eot,
                                                  contents[i] / FRAMES_PER_S),
                              (float(result.no_speech_prob), float(avg_logprob), float(compression)))
        aligned = [k for k, i in enumerate(group) if i in decoded and decoded[i][0]]
        if aligned:
            view = sub if len(aligned) == len(group) else _rows(model, encoder_output, batch,
                                                                [group[k] for k in aligned])
            model.add_word_timestamps([decoded[group[k]][0] for k in aligned], tokenizer, view,
                                      [contents[group[k]] for k in aligned], PREPEND_PUNCTUATION,
                                      APPEND_PUNCTUATION, last_speech_timestamp=0.0)
        for i, (segments, quality) in decoded.items():
            out[i] = _window_result(tokenizer, segments, contents[i], lang, languages[i][1], frames, quality)
    return [r for r in out if r is not None]


def _rows(model: WhisperModel, encoder_output: Any, features: np.ndarray, rows: list[int]) -> Any:
    """The encoder output of some windows of a batch: sliced on the CPU, encoded again elsewhere (a GPU
    StorageView has no host view to slice)."""
    import ctranslate2

    if model.model.device == "cpu":
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.asarray(encoder_output)[rows]))
    return model.encode(features[rows])


def _tokenizer(model: WhisperModel, language: str) -> Any:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)


def _prompt(model: WhisperModel, tokenizer: Any, request: WindowRequest, language: str) -> list[int]:
    """Whisper's start sequence with the request's prompt text for ``language``."""
    prompt_text = request.prompt if _prompted(request, language) else ""
    for lang, prefix in request.language_prompts:
        if lang == language and prefix not in prompt_text:
            prompt_text = prefix + prompt_text
    previous = tokenizer.encode(" " + prompt_text.strip()) if prompt_text.strip() else []
    return model.get_prompt(tokenizer, previous, without_timestamps=False, hotwords=request.hotwords or None)


def _prompted(request: WindowRequest, language: str) -> bool:
    """Whether the request's prompt text goes into a decode in ``language``: text in one language prompting
    a decode in another makes Whisper echo or translate the prompt."""
    return request.prompt_language in (None, language)


def _timestamp(tokenizer: Any, t: float) -> int:
    return int(tokenizer.timestamp_begin + round(min(max(t, 0.0), MAX_FRAMES / FRAMES_PER_S) / 0.02))


def _heard_pieces(tokenizer: Any, request: WindowRequest) -> list[dict]:
    """The already-transcribed speech as segments for the alignment (only the prompt carries their text
    into the decode: the decoder never writes them)."""
    space = "" if tokenizer.language_code in ("zh", "yue", "ja") else " "  # (Whisper writes no space before CJK)
    return [{"seek": 0, "start": a, "end": b, "tokens": [*tokenizer.encode(space + text.strip()), _timestamp(tokenizer, b)]}
            for a, b, text in request.heard if text.strip() and b <= request.start_s]


def _window_result(tokenizer: Any, pieces: list[dict], content: int, language: str, probability: float,
                   frames: int, quality: tuple[float, float, float]) -> WindowResult:
    end_s = content / FRAMES_PER_S
    segments = []
    for piece in pieces:
        text = tokenizer.decode([t for t in piece["tokens"] if t < tokenizer.eot])
        words = tuple(RawWord(min(float(w["start"]), end_s), min(float(w["end"]), end_s), w["word"],
                              float(w["probability"])) for w in piece.get("words", ()))
        if text.strip():
            segments.append(RawSegment(text, words, *quality))
    return WindowResult(tuple(segments), language, probability, frames)


def split_by_timestamps(tokens: list[int], timestamp_begin: int, eot: int, duration_s: float) -> list[dict]:
    """Whisper's token stream → segments ``{seek, start, end, tokens}`` (window seconds).

    Unlike ``transcribe``, text after the last complete timestamp pair is kept as a segment that
    ends with the window: a streaming window cuts the speaker mid-sentence, and that tail is exactly
    what the next decode is expected to confirm.
    """
    tokens = [t for t in tokens if t != eot]
    segments: list[dict] = []
    start_s, current = 0.0, []
    for i, token in enumerate(tokens):
        if token < timestamp_begin:
            current.append(token)
            continue
        t = min((token - timestamp_begin) * 0.02, duration_s)
        if current:
            segments.append({"seek": 0, "start": start_s, "end": max(t, start_s), "tokens": [*current, token]})
            current = []
            start_s = t
            continue
        if i == 0 or tokens[i - 1] >= timestamp_begin:
            start_s = t
    if current:
        segments.append({"seek": 0, "start": start_s, "end": duration_s, "tokens": current})
    return [s for s in segments if any(t < timestamp_begin for t in s["tokens"])]


def max_tokens(audio_s: float) -> int:
    """A bound on the tokens a window can need: fast speech is ~5 syllables a second, a token or two each,
    plus timestamps. A decode stuck in a loop stops there instead of running to Whisper's 448 tokens
    (on a 1 s window that was 2.7 s of decoding for text the loop guards then threw away)."""
    return int(min(440, 24 + 15 * audio_s))


def _options(model: WhisperModel, tokenizer: Any, request: WindowRequest, max_new_tokens: int | None) -> Any:
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    return TranscriptionOptions(
        beam_size=request.beam_size, best_of=5, patience=1.0, length_penalty=1.0, repetition_penalty=1.0,
        no_repeat_ngram_size=0, log_prob_threshold=request.log_prob_threshold,
        no_speech_threshold=request.no_speech_threshold,
        compression_ratio_threshold=request.compression_ratio_threshold, condition_on_previous_text=False,
        prompt_reset_on_temperature=0.5, temperatures=list(request.temperatures), initial_prompt=None, prefix=None,
        suppress_blank=True, suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), without_timestamps=False,
        max_initial_timestamp=1.0, word_timestamps=True, prepend_punctuations=PREPEND_PUNCTUATION,
        append_punctuations=APPEND_PUNCTUATION, multilingual=False, max_new_tokens=max_new_tokens,
        clip_timestamps="0",
        hallucination_silence_threshold=None, hotwords=request.hotwords or None,
    )
