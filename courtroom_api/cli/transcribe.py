"""``courtroom transcribe FILE``: batch transcription of a recording, per seat."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    p.add_argument("--track", type=int, default=None, metavar="N",
                   help="audio track of a file holding several (a video's, an MKV's), from 0 (default: the first)")
    p.add_argument("--format", choices=("json", "vtt", "srt", "txt"), default="json")
    p.add_argument("--output", "-o", default=None, help="write here instead of standard output")
    p.add_argument("--participants", default=None,
                   help="JSON file: {\"occupants\": [{seat, participant_id, name, role, from_s, to_s}], "
                        "\"voices\": [{participant_id, name, role, sample}]} (sample: enrolment audio path)")
    p.add_argument("--shared-channel", type=int, action="append", default=[],
                   help="channel used by several people: diarize it (mono files always are)")
    p.add_argument("--no-diarize", action="store_true", help="skip seat/speaker attribution")
    p.add_argument("--rttm", default=None, help="also write who spoke when as RTTM to this path")
    p.set_defaults(func=run)


def _participants(path: str | None, enrol: bool = True) -> tuple[list, list]:
    """Seat occupants and enrolled voices from a ``--participants`` JSON file (no voices unless ``enrol``)."""
    from pathlib import Path

    from diarize.types import SeatOccupant

    if not path:
        return [], []
    from diarize.errors import DiarizeError
    from diarize.types import EnrolledVoice
    from diarize.voiceprints import voiceprint
    from transcribe.batch import read_audio

    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):  # a bare list of occupants was an AttributeError traceback
            raise DiarizeError(f'--participants {path}: is not a JSON object ({{"occupants": [...], "voices": [...]}})')
        occupants = [SeatOccupant(**_checked_occupant(path, o, i)) for i, o in enumerate(data.get("occupants", []), 1)]
        voices = []
        for v in data.get("voices", []) if enrol else []:
            sample = read_audio(file.parent / v["sample"]).mean(axis=1)  # a stereo sample: both sides
            voices.append(EnrolledVoice(v["participant_id"], v["name"], v["role"], voiceprint(sample, 16000)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DiarizeError(f"--participants {path}: {exc!r}") from exc
    return occupants, voices


def _checked_occupant(path: str, occupant: dict, number: int) -> dict:
    """``occupant`` of a ``--participants`` file with its fields' types checked: a null ``from_s`` was a
    TypeError after the whole transcription."""
    from diarize.errors import DiarizeError

    def seconds(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0

    checks = {"seat": lambda v: isinstance(v, str) and v != "", "name": lambda v: isinstance(v, str),
              "role": lambda v: isinstance(v, str),
              "participant_id": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "from_s": seconds, "to_s": lambda v: v is None or seconds(v)}
    if not isinstance(occupant, dict):
        raise DiarizeError(f"--participants {path}: occupant {number} is not a JSON object")
    for key, ok in checks.items():
        if key in occupant and not ok(occupant[key]):
            wanted = "seconds (a number, 0 or more)" if key in ("from_s", "to_s") else "valid"
            raise DiarizeError(f"--participants {path}: occupant {number}: {key} "
                               f"{json.dumps(occupant[key], ensure_ascii=False)} is not {wanted}")
    # An occupant who leaves before they sit matched none of the seat's lines, credited to nobody without a word.
    start, end = occupant.get("from_s", 0), occupant.get("to_s")
    if end is not None and end <= start:
        raise DiarizeError(f"--participants {path}: occupant {number}: to_s {json.dumps(end)} is not after "
                           f"from_s {json.dumps(start)}")
    return occupant


def _check_seats(args: argparse.Namespace, occupants: list, seats: list) -> None:
    """Refuse an occupant of ``--participants`` on a seat the file has not: a typo ("Judge") matched no
    line, and every line went without its participant, with no word said."""
    from diarize.errors import DiarizeError

    named = f"profile {args.profile}" if args.profile else "--seats" if args.seats else None
    names = [s.seat for s in seats] if named else []  # channel0, seat0, ...: not seats anyone is given
    for number, occupant in enumerate(occupants, 1):
        if occupant.seat not in names:
            where = (f"is not a seat of {named} ({', '.join(names)})" if named
                     else f"is not a seat of {args.file}: it has seats only with --profile or --seats")
            raise DiarizeError(f"--participants {args.participants}: occupant {number}: seat "
                               f"{json.dumps(occupant.seat, ensure_ascii=False)} {where}")


def _unused_voices(args: argparse.Namespace) -> str | None:
    """The warning for the voices of ``--participants`` under ``--no-diarize``; None if it has none."""
    try:
        voices = json.loads(Path(args.participants).read_text(encoding="utf-8")).get("voices")
    except (OSError, ValueError, AttributeError, TypeError):
        return None  # reported by _participants
    if not voices:
        return None
    return (f"courtroom transcribe: warning: the voices of --participants {args.participants} are not used "
            "with --no-diarize (speakers are told apart by diarization; seat occupants still apply)")


def _participant_names(path: str | None) -> list[str]:
    """Names in a ``--participants`` file: the transcriber is prompted with them, as in a live hearing."""
    from pathlib import Path

    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [str(p["name"]) for key in ("occupants", "voices") for p in data.get(key, []) if p.get("name")]
    except (OSError, ValueError, AttributeError, TypeError):
        return []  # the same file is read again for attribution, which reports what is wrong with it


def _attribute(args: argparse.Namespace, audio, seats: list, segments: list, settings, participants: tuple) -> list:
    from diarize.attribute import AttributionOptions, attribute_recording
    from diarize.shared import DiarizationOptions
    from diarize.shared_seats import UncreditedOccupant
    from hardware.types import SeatChannel

    ds = settings.diarize
    occupants, voices = participants
    options = AttributionOptions(
        shared_channels=tuple(args.shared_channel),
        enrol_threshold=ds.enrol_threshold,
        diarization=DiarizationOptions(clustering_threshold=ds.clustering_threshold,
                                       segmentation_step=ds.segmentation_step, torch_threads=ds.torch_threads),
    )
    channels = [SeatChannel(s.channel, s.seat, s.role) for s in seats]

    def uncredited(notice: UncreditedOccupant) -> None:  # an occupant of a shared seat was dropped without a word
        print(f"courtroom transcribe: warning: --participants {args.participants}: {notice} "
              '(add their sample to "voices")', file=sys.stderr)

    return attribute_recording(audio, 16000, segments, channels, occupants, voices, options,
                               on_uncredited=uncredited)


def _sharing_without_voices(args: argparse.Namespace, occupants: list) -> list[str]:
    """Warnings for the seats several occupants hold at once with --no-diarize: their lines are credited to
    none of them (every line went to the one listed last, without a word)."""
    from diarize.attribute import sharing_seats

    return [f"courtroom transcribe: warning: --participants {args.participants}: "
            f"{' and '.join(o.name for o in sharing)} sit on seat {seat} at the same time: with --no-diarize "
            "its lines are credited to none of them (leave out --no-diarize, and add their samples to "
            '"voices", to tell them apart)' for seat, sharing in sharing_seats(occupants)]


def _seats(args: argparse.Namespace, channels: int, profiles_dir: Path | None = None) -> list:
    """The file's seats: from ``--profile`` (a bundled profile, one of ``profiles_dir``, or a TOML path) or
    ``--seats``, else one per channel (a mono file: one shared).

    A profile or ``--seats`` naming more channels than the file has is refused: a mono file under a
    4-seat profile gave every speaker the judge's role.
    """
    from transcribe.errors import AudioFormatError
    from transcribe.room import SeatSpec

    if args.profile:
        from courtroom_api.profiles import load_given_profile

        profile = load_given_profile(args.profile, profiles_dir)
        seats, named = [SeatSpec(c.channel, c.seat, c.role) for c in profile.channels], f"profile {args.profile}"
    elif args.seats:
        seats, named = _listed_seats(args.seats), "--seats"
    elif channels == 1:
        return [SeatSpec(0, "seat0", "")]  # a mono file is one seat until diarization splits it
    else:
        return [SeatSpec(i, f"channel{i}", "") for i in range(channels)]
    needed = max((s.channel for s in seats), default=-1) + 1
    if needed > channels:
        raise AudioFormatError(
            f"{named} needs {needed} channels but {args.file} has {channels}"
            + (" (leave out --profile/--seats to diarize a room recording)" if channels == 1 else ""))
    return seats


def _listed_seats(listed: str) -> list:
    """The seats of ``--seats``, checked as a profile's are: "plaintiff,plaintiff" credited every line of
    both channels to the plaintiff without a word."""
    from hardware.errors import HardwareError
    from hardware.profiles import seat_name, seat_taken
    from hardware.types import SeatChannel
    from transcribe.room import SeatSpec

    seats: list[SeatChannel] = []
    # Numbered before empty names are skipped: "judge,,clerk" leaves channel 1 without a seat.
    for channel, name in enumerate(listed.split(",")):
        if not name.strip():
            continue
        try:
            seat = seat_name(name)
        except ValueError as exc:
            raise HardwareError(f"--seats: seat {name.strip()!r}: {exc}") from None
        if taken := seat_taken(seat, seats):
            raise HardwareError(f"--seats: {taken}")
        seats.append(SeatChannel(channel, seat, seat))
    return [SeatSpec(s.channel, s.seat, s.role) for s in seats]


def _one_microphone(audio) -> bool:
    """Whether every channel of ``audio`` ``(frames, channels)`` is (nearly: within -30 dB) the first one,
    as in a stereo file of one microphone."""
    import numpy as np

    # Summed block by block (10 s at 16 kHz) in float64 sums of float32 blocks: whole-file float64 copies
    # cost 2.5 times a 6-hour hearing's audio in memory.
    energy = np.zeros(audio.shape[1])
    differs = np.zeros(audio.shape[1])
    for start in range(0, len(audio), 160_000):
        block = np.asarray(audio[start : start + 160_000], dtype=np.float32)
        energy += np.einsum("ij,ij->j", block, block, dtype=np.float64)
        diff = block - block[:, :1]
        differs += np.einsum("ij,ij->j", diff, diff, dtype=np.float64)
    return all(differs[ch] <= 1e-3 * max(energy[0], energy[ch]) for ch in range(1, audio.shape[1]))


def _unmapped(args: argparse.Namespace, seats: list, channels: int) -> str | None:
    """The warning for channels of the file that no seat of ``--profile``/``--seats`` takes; None if all are."""
    taken = {s.channel for s in seats}
    unmapped = [str(c) for c in range(channels) if c not in taken]
    if not unmapped:
        return None
    named = f"profile {args.profile}" if args.profile else "--seats"
    return (f"courtroom transcribe: warning: channel{'s' if len(unmapped) > 1 else ''} {', '.join(unmapped)} "
            f"of {args.file} {'are' if len(unmapped) > 1 else 'is'} in no seat of {named}: not transcribed")


def _unwritable(path: str) -> str | None:
    """Why the transcript cannot be written to ``path``, found out before transcribing; None if it can."""
    import os

    target = Path(path)
    if target.is_dir():
        return "is a directory"
    if not target.resolve().parent.is_dir():
        return "no such directory"
    try:
        if target.exists():
            open(target, "a").close()  # appends nothing: the file is untouched until the transcript is ready
        else:
            open(target, "x").close()
            os.unlink(target)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    from courtroom_api.config import get_settings
    from courtroom_api.live.transcription import gate_options
    from diarize.errors import DiarizeError
    from hardware.errors import HardwareError
    from transcribe.batch import BatchOptions, read_audio, transcribe_recording
    from transcribe.errors import TranscribeError
    from transcribe.formats import render
    from transcribe.glossary import with_glossary
    from transcribe.model_store import ModelStore, language_problem, load_model

    settings = get_settings()
    ts = settings.transcribe
    language = args.language or ts.language
    for path in (args.output, args.rttm):  # before minutes of transcription, not after
        problem = _unwritable(path) if path else None
        if problem:
            print(f"courtroom transcribe: cannot write {path}: {problem}", file=sys.stderr)
            return 2
    try:
        audio = read_audio(args.file, args.track,
                           lambda warning: print(f"courtroom transcribe: warning: {warning}", file=sys.stderr))
        if not (args.profile or args.seats) and audio.shape[1] > 1 and _one_microphone(audio):
            # Transcribed per channel, every line came twice, and no speaker was told apart.
            audio = audio.mean(axis=1, keepdims=True)
        seats = _seats(args, audio.shape[1], settings.profiles_dir)
        # Read before minutes of transcription: a mistake in the file is reported at once.
        # Without diarization the seat occupants still apply (they were dropped without a word); voices do not.
        participants = _participants(args.participants, enrol=not args.no_diarize)
        _check_seats(args, participants[0], seats)
        unused = _unused_voices(args) if args.participants and args.no_diarize else None
        for warning in (_unmapped(args, seats, audio.shape[1]), unused):
            if warning:  # both were silent: speech on a 5th microphone gave an empty transcript
                print(warning, file=sys.stderr)
        if args.no_diarize:
            for warning in _sharing_without_voices(args, participants[0]):
                print(warning, file=sys.stderr)
        store = ModelStore(settings.cache_dir, ts.models_dir, ts.model)
        name = args.model or ts.model
        fixed = None if language in (None, "auto") else language
        if problem := language_problem(name, store.languages(name), fixed, ts.languages):
            source = ("--language" if args.language not in (None, "auto") else
                      "COURTROOM_TRANSCRIBE__LANGUAGE" if fixed else "COURTROOM_TRANSCRIBE__LANGUAGES")
            print(f"courtroom transcribe: {source}: {problem}", file=sys.stderr)
            return 2
        # One file at a time: all the cores of the live decode pool.
        model = load_model(store, name, cpu_threads=ts.cpu_threads * ts.workers, compute_type=ts.compute_type)
        vocabulary = with_glossary(ts.glossary, _participant_names(args.participants), ts.hotwords)
        # The court's languages and seat gate, as a live hearing has them (the defaults were used: a quiet
        # microphone the live gate hears gave an empty transcript, and LANGUAGES=["zh"] still detected English).
        options = BatchOptions(language=fixed,
                               languages=tuple(ts.languages), beam_size=ts.beam_size, vocabulary=vocabulary,
                               model_name=name, gate=gate_options(settings))
        segments = transcribe_recording(model, audio, seats, options)
        if args.no_diarize:
            from diarize.attribute import seated

            segments = seated(segments, participants[0])
        else:
            segments = _attribute(args, audio, seats, segments, settings, participants)
    except (TranscribeError, HardwareError, DiarizeError) as exc:
        print(f"courtroom transcribe: {exc}", file=sys.stderr)
        return 2
    text = render(segments, args.format)
    try:
        if args.output:  # the transcript first: a bad --rttm path must not lose it
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        if args.rttm:
            _write_rttm(args.rttm, args.file, segments)
    except OSError as exc:
        print(f"courtroom transcribe: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def _write_rttm(path: str, audio_file: str, segments: list) -> None:
    from pathlib import Path

    from diarize.formats import write_rttm
    from diarize.types import SpeakerTurn

    turns = [SpeakerTurn(s.start, s.end, s.speaker or s.seat or "unknown", s.channel) for s in segments]
    with open(path, "w", encoding="utf-8") as f:
        write_rttm(turns, f, uri=Path(audio_file).stem)
