"""Generate the diarize test fixtures under tests/fixtures/diarize/ from speech synthesis.

Voices: festival ``kal_diphone`` (male) and ``cmu_us_slt_arctic_hts`` (female), espeak-ng variants,
and sox pitch shifts of them — distinct synthetic speakers. Outputs (16 kHz, 16-bit FLAC):

- ``shared3.flac`` + ``shared3.rttm``: three speakers taking turns on ONE channel (shared microphone).
- ``enrol_<voice>.flac``: a short separate sample per voice for enrolment, plus a stranger.
- ``hearing4.flac`` + ``hearing4.json``: four seats (judge, plaintiff, defendant, witness) with
  microphone bleed between channels and unequal microphone gains (the witness microphone is turned
  down and the defendant's, next to it, picks the witness up louder than the witness's own), and a
  witness stand used by two witnesses in turn.

Deterministic (fixed seed). Needs festival, festvox-kallpc16k, festvox-us-slt-hts, espeak-ng, sox.
Usage: python scripts/make_diarize_fixtures.py [OUT_DIR]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "diarize"

# voice name -> (synthesizer, argument, sox pitch shift in cents)
VOICES: dict[str, tuple[str, str, int]] = {
    "kal": ("festival", "voice_kal_diphone", 0),
    "slt": ("festival", "voice_cmu_us_slt_arctic_hts", 0),
    "m3": ("espeak", "en-us+m3", 0),
    "f2": ("espeak", "en-gb+f2", 0),
    "kal_low": ("festival", "voice_kal_diphone", -500),
    "stranger": ("festival", "voice_cmu_us_slt_arctic_hts", -700),
}

SENTENCES = [
    "The court is now in session. Please be seated.",
    "Thank you, your honour. The plaintiff delivered the goods on the third of March.",
    "We dispute that. The delivery was incomplete and arrived two weeks late.",
    "Counsel, please answer the question about the contract price.",
    "The agreed price was forty thousand, payable in two instalments.",
    "My client paid the first instalment in full, as the bank record shows.",
    "Is the second payment still outstanding today?",
    "Yes, it has not been paid, despite three written reminders.",
    "Those reminders were sent to the wrong address, your honour.",
    "Let the record show that the witness identified the invoice.",
    "I saw the truck arrive at the warehouse early in the morning.",
    "How many boxes were unloaded from the truck that day?",
    "I counted twelve boxes, and two of them were damaged.",
    "The defendant has no further questions for this witness.",
]

ENROL_TEXT = {
    "kal": "My name is Wang Lei, and I am the presiding judge in this case.",
    "slt": "My name is Zhang San. I am the plaintiff and I live in Beijing.",
    "m3": "My name is Li Si, counsel for the defendant company.",
    "f2": "My name is Chen Mei, and I work at the warehouse as a supervisor.",
    "kal_low": "My name is Zhao Gang, I drive the delivery truck for the company.",
    "stranger": "Good morning. I am only here to watch the hearing today.",
}


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def synth(voice: str, text: str) -> np.ndarray:
    """Speak ``text`` with ``voice``; returns mono float32 at 16 kHz, peak-normalised to 0.5."""
    kind, arg, cents = VOICES[voice]
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        if kind == "festival":
            (Path(tmp) / "t.txt").write_text(text)
            run(["text2wave", "-eval", f"({arg})", str(Path(tmp) / "t.txt"), "-o", str(raw)])
        else:
            run(["espeak-ng", "-v", arg, "-s", "150", "-w", str(raw), text])
        effects = ["pitch", str(cents)] if cents else []
        run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out), *effects, "silence", "1", "0.02", "0.5%",
             "reverse", "silence", "1", "0.02", "0.5%", "reverse"])
        audio, _ = sf.read(out, dtype="float32")
    return (0.5 * audio / max(float(np.max(np.abs(audio))), 1e-6)).astype(np.float32)


@dataclass
class Utterance:
    start: float
    end: float
    voice: str
    seat: str | None = None


def lay_out(turns: list[tuple[str, str]], gap_s: float, rng: np.random.Generator) -> tuple[list[Utterance], list[np.ndarray]]:
    """Place synthesized turns one after another with random pauses around ``gap_s``."""
    t = 0.5
    utts, clips = [], []
    for voice, text in turns:
        clip = synth(voice, text)
        utts.append(Utterance(round(t, 3), round(t + len(clip) / SR, 3), voice))
        clips.append(clip)
        t += len(clip) / SR + gap_s * float(rng.uniform(0.6, 1.4))
    return utts, clips


def mix_mono(utts: list[Utterance], clips: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    total = int((utts[-1].end + 0.5) * SR)
    out = (rng.standard_normal(total) * 0.0002).astype(np.float32)  # faint room noise
    for u, c in zip(utts, clips, strict=True):
        i = int(u.start * SR)
        out[i : i + len(c)] += c
    return out


def make_shared(rng: np.random.Generator) -> None:
    voices = ["kal", "slt", "m3", "slt", "kal", "m3", "kal", "slt", "m3", "slt", "kal", "m3"]
    utts, clips = lay_out(list(zip(voices, SENTENCES, strict=False)), 0.6, rng)
    sf.write(OUT / "shared3.flac", mix_mono(utts, clips, rng), SR, subtype="PCM_16")
    lines = [f"SPEAKER shared3 1 {u.start:.3f} {u.end - u.start:.3f} <NA> <NA> {u.voice} <NA> <NA>" for u in utts]
    (OUT / "shared3.rttm").write_text("\n".join(lines) + "\n")


def make_enrolment() -> None:
    for voice, text in ENROL_TEXT.items():
        sf.write(OUT / f"enrol_{voice}.flac", synth(voice, text), SR, subtype="PCM_16")


# Hearing: seat -> channel, and bleed: BLEED[src][dst] = amplitude gain of seat src's voice on
# channel dst. Own-channel gains differ per microphone; the witness microphone is turned down, and
# the defendant's microphone beside the stand picks the witness up LOUDER than the witness's own.
SEATS = ["judge", "plaintiff", "defendant", "witness"]
ROLES = {"judge": "presiding_judge", "plaintiff": "plaintiff", "defendant": "defendant_counsel", "witness": "witness"}
BLEED = np.array(
    [  # to: judge, plaintiff, defendant, witness
        [1.00, 0.18, 0.15, 0.10],  # judge speaking
        [0.20, 0.80, 0.25, 0.08],  # plaintiff speaking
        [0.12, 0.22, 0.90, 0.20],  # defendant speaking
        [0.10, 0.10, 0.45, 0.30],  # witness speaking (own mic turned down)
    ],
    dtype=np.float32,
)
# Extra arrival delay (ms) of a voice at other seats' microphones.
DELAY_MS = 3.0


def make_hearing(rng: np.random.Generator) -> None:
    plan = [
        ("judge", "kal", 0), ("plaintiff", "slt", 1), ("defendant", "m3", 2), ("judge", "kal", 3),
        ("plaintiff", "slt", 4), ("witness", "f2", 10), ("judge", "kal", 11), ("witness", "f2", 12),
        ("defendant", "m3", 13), ("witness", "kal_low", 10), ("judge", "kal", 6), ("witness", "kal_low", 7),
    ]
    utts, clips = lay_out([(v, SENTENCES[i]) for _, v, i in plan], 0.5, rng)
    for u, (seat, _, _) in zip(utts, plan, strict=True):
        u.seat = seat
    total = int((utts[-1].end + 0.5) * SR)
    audio = (rng.standard_normal((total, 4)) * 0.0001).astype(np.float32)  # (frames, channels)
    delay = int(DELAY_MS * SR / 1000)
    for u, c in zip(utts, clips, strict=True):
        src = SEATS.index(u.seat or "")
        i = int(u.start * SR)
        for dst in range(4):
            d = 0 if dst == src else delay
            audio[i + d : i + d + len(c), dst] += BLEED[src, dst] * c[: total - i - d]
    sf.write(OUT / "hearing4.flac", audio, SR, subtype="PCM_16")
    w1_end = utts[9].start - 0.2  # the first witness is dismissed before the second is called
    occupants = [
        {"seat": "judge", "participant_id": 1, "name": "王磊", "role": "presiding_judge", "from_s": 0.0, "to_s": None},
        {"seat": "plaintiff", "participant_id": 2, "name": "张三", "role": "plaintiff", "from_s": 0.0, "to_s": None},
        {"seat": "defendant", "participant_id": 3, "name": "李四", "role": "defendant_counsel", "from_s": 0.0, "to_s": None},
        {"seat": "witness", "participant_id": 4, "name": "陈梅", "role": "witness", "from_s": utts[5].start - 0.2, "to_s": round(w1_end, 3)},
        {"seat": "witness", "participant_id": 5, "name": "赵刚", "role": "expert_witness", "from_s": round(w1_end + 0.1, 3), "to_s": None},
    ]
    pid = {"kal": 1, "slt": 2, "m3": 3, "f2": 4, "kal_low": 5}
    role_of = {o["participant_id"]: o["role"] for o in occupants}
    ref = {
        "sample_rate": SR,
        "channels": [{"channel": i, "seat": s, "role": ROLES[s]} for i, s in enumerate(SEATS)],
        "occupants": occupants,
        "utterances": [
            {"start": u.start, "end": u.end, "seat": u.seat, "channel": SEATS.index(u.seat or ""),
             "participant_id": pid[u.voice], "role": role_of[pid[u.voice]], "voice": u.voice}
            for u in utts
        ],
    }
    (OUT / "hearing4.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n")


def main(out_dir: str | None = None) -> int:
    global OUT
    if out_dir:
        OUT = Path(out_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    make_shared(np.random.default_rng(5))
    make_enrolment()
    make_hearing(np.random.default_rng(7))
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}\t{p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
