"""``courtroom transcribe FILE``: batch transcription of a recording, per seat."""

from __future__ import annotations

import argparse
import sys

DEFAULT_SEATS = "judge,clerk,plaintiff,defendant"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe a recording file (per seat for multi-channel files)")
    p.add_argument("file", help="audio file (FLAC, WAV, ...; other formats through ffmpeg)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--profile", help="courtroom profile (name or TOML path) giving channel → seat, role")
    who.add_argument("--seats", help=f"comma-separated seats of channels 0, 1, ... (e.g. {DEFAULT_SEATS})")
    p.add_argument("--language", choices=("zh", "en", "auto"), default=None,
                   help="spoken language (default from settings; auto = detect per seat)")
    p.add_argument("--model", default=None, help="model name (see `courtroom models list`) or directory")
    p.add_argument("--format", choices=("json", "vtt", "srt", "txt"), default="json")
    p.add_argument("--output", "-o", default=None, help="write here instead of standard output")
    p.set_defaults(func=run)


def _seats(args: argparse.Namespace, channels: int) -> list:
    from transcribe.room import SeatSpec

    if args.profile:
        from hardware.profiles import load_profile

        profile = load_profile(args.profile)
        return [SeatSpec(c.channel, c.seat, c.role) for c in profile.channels]
    if args.seats:
        names = [s.strip() for s in args.seats.split(",") if s.strip()]
        return [SeatSpec(i, name, name) for i, name in enumerate(names)]
    if channels == 1:
        return [SeatSpec(0, "seat0", "")]  # a mono file is one seat until diarization splits it
    return [SeatSpec(i, f"channel{i}", "") for i in range(channels)]


def run(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from transcribe.batch import BatchOptions, read_audio, transcribe_recording
    from transcribe.errors import TranscribeError
    from transcribe.formats import render
    from transcribe.model_store import ModelStore, load_model

    settings = get_settings()
    ts = settings.transcribe
    language = args.language or ts.language
    try:
        audio = read_audio(args.file)
        seats = _seats(args, audio.shape[1])
        store = ModelStore(settings.cache_dir, ts.models_dir, ts.model)
        name = args.model or ts.model
        model = load_model(store, name, cpu_threads=ts.cpu_threads, compute_type=ts.compute_type)
        options = BatchOptions(language=None if language in (None, "auto") else language, beam_size=ts.beam_size,
                               vocabulary=tuple(ts.hotwords), model_name=name)
        segments = transcribe_recording(model, audio, seats, options)
    except TranscribeError as exc:
        print(f"courtroom transcribe: {exc}", file=sys.stderr)
        return 2
    text = render(segments, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0
