"""Speed and accuracy of speaker attribution: seat attribution and shared-channel diarization.

Prints real-time factors (processing time / audio time; targets: seat attribution <= 0.01,
shared-channel diarization <= 0.15 on 2 cores) and DER/JER, side by side for this project's
configuration and pyannote.audio's published default agglomerative configuration (its
speaker-diarization-3.1 hyper-parameters) on the same weights (segmentation-3.0 + CAM++).

Usage: python bench/diarize.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diarize.formats import diarization_error_rate, jaccard_error_rate, read_rttm  # noqa: E402
from diarize.seats import SeatAttributor, SeatRoster, loudest_channel  # noqa: E402
from diarize.shared import PYANNOTE_DEFAULTS, DiarizationOptions, SpeakerDiarizer  # noqa: E402
from diarize.types import SeatOccupant  # noqa: E402
from diarize.weights import import_pyannote  # noqa: E402
from hardware.types import SeatChannel  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "diarize"


def bench_seats(repeat_audio: int) -> dict[str, float]:
    """Seat attribution over the 4-seat hearing, tiled ``repeat_audio`` times for a longer run."""
    samples, sr = sf.read(FIX / "hearing4.flac", dtype="float32")
    ref = json.loads((FIX / "hearing4.json").read_text())
    dur = len(samples) / sr
    audio = np.concatenate([samples] * repeat_audio)  # (frames, channels)
    utts = [(u, k * dur) for k in range(repeat_audio) for u in ref["utterances"]]
    channels = [SeatChannel(c["channel"], c["seat"], c["role"]) for c in ref["channels"]]
    attributor = SeatAttributor(channels, SeatRoster([SeatOccupant(**o) for o in ref["occupants"]]))
    t0, c0 = time.perf_counter(), time.process_time()
    attributor.fit_audio(audio, sr)
    got = [attributor.attribute(u["start"] + off, u["end"] + off) for u, off in utts]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    speech = sum(u["end"] - u["start"] for u, _ in utts)
    # Seats over all copies; roles only on the first (the occupancy times belong to the first copy).
    right = sum(u["end"] - u["start"] for (u, _), a in zip(utts, got, strict=True) if a.seat == u["seat"])
    first = zip(utts[: len(ref["utterances"])], got, strict=False)
    role_ok = sum(u["end"] - u["start"] for (u, _), a in first if a.role == u["role"])
    loud = sum(
        u["end"] - u["start"]
        for u, _ in utts[: len(ref["utterances"])]
        if loudest_channel(samples, sr, u["start"], u["end"]) == u["channel"]
    )
    return {
        "audio_s": dur * repeat_audio,
        "rtf": elapsed / (dur * repeat_audio),
        "rtf_cpu": cpu / (dur * repeat_audio),
        "seat_accuracy": right / speech,
        "role_accuracy": role_ok / (speech / repeat_audio),
        "loudest_channel_accuracy": loud / (speech / repeat_audio),
    }


def _corpus(quick: bool) -> list[tuple[str, np.ndarray, int, tuple]]:
    sample_dir = Path(import_pyannote().__file__).parent / "sample"
    items = [("shared3 (3 synthetic voices)", FIX / "shared3.flac", FIX / "shared3.rttm", "shared3")]
    if not quick:
        items.append(("pyannote sample.wav (2 real speakers)", sample_dir / "sample.wav", sample_dir / "sample.rttm", "sample"))
    out = []
    for name, wav, rttm, uri in items:
        samples, sr = sf.read(wav, dtype="float32")
        out.append((name, samples, int(sr), read_rttm(rttm)[uri]))
    return out


def bench_shared(options: DiarizationOptions, corpus: list, max_speakers: int | None) -> list[dict]:
    diarizer = SpeakerDiarizer(options)
    diarizer.diarize(corpus[0][1][: 16000 * 12], corpus[0][2])  # warm-up: model load, first-call costs
    rows = []
    for name, samples, sr, reference in corpus:
        t0, c0 = time.perf_counter(), time.process_time()
        result = diarizer.diarize(samples, sr, max_speakers=max_speakers)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append({
            "audio": name,
            "audio_s": len(samples) / sr,
            "rtf": elapsed / (len(samples) / sr),
            "rtf_cpu": cpu / (len(samples) / sr),
            "der": diarization_error_rate(reference, result.turns),
            "jer": jaccard_error_rate(reference, result.turns),
            "speakers": len(result.speakers),
        })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short audio only (shared3; hearing x2)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load_avg_at_start={os.getloadavg()[0]:.1f} torch_threads={args.threads}")

    seats = bench_seats(2 if args.quick else 10)
    print(
        f"seat attribution: {seats['audio_s']:.0f} s of 4-channel audio, RTF {seats['rtf']:.4f} wall, "
        f"{seats['rtf_cpu']:.4f} CPU (target <= 0.01); seat correct {seats['seat_accuracy']:.1%}, role and "
        f"participant {seats['role_accuracy']:.1%} of speech time (loudest-channel rule: "
        f"{seats['loudest_channel_accuracy']:.1%})"
    )
    corpus = _corpus(args.quick)
    ours = DiarizationOptions(torch_threads=args.threads)
    peer = DiarizationOptions(**{**_fields(PYANNOTE_DEFAULTS), "torch_threads": args.threads})
    print("shared-channel diarization (collar 0, overlap scored; target RTF <= 0.15):")
    print(f"{'configuration':<34} {'audio':<40} {'RTF':>6} {'RTFcpu':>7} {'DER':>7} {'JER':>7} {'spk':>4}")
    # Ours as the attribution runs it since bb1b84b: no max_speakers (it was capped by the participants).
    for label, opts in (("ours (no speaker cap)", ours), ("pyannote default config (peer)", peer)):
        for row in bench_shared(opts, corpus, None):
            print(
                f"{label:<34} {row['audio']:<40} {row['rtf']:>6.3f} {row['rtf_cpu']:>7.3f} {row['der']:>7.1%} {row['jer']:>7.1%} "
                f"{row['speakers']:>4}"
            )
    print(f"load_avg_at_end={os.getloadavg()[0]:.1f}")
    return 0


def _fields(options: DiarizationOptions) -> dict:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


if __name__ == "__main__":
    sys.exit(main())
