"""Small real evidence files of every accepted type, generated on demand for the tests."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from docx import Document
from fpdf import FPDF
from PIL import Image


def png_bytes(size: tuple[int, int] = (600, 400)) -> bytes:
    image = Image.new("RGB", size)
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    image = Image.fromarray(pixels)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=20)
    for i in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Contract page {i + 1}")
    return bytes(pdf.output())


def wav_bytes(seconds: float = 0.5) -> bytes:
    t = np.arange(int(16000 * seconds)) / 16000
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def docx_bytes() -> bytes:
    doc = Document()
    doc.add_paragraph("Exhibit: lease agreement")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def mp3_bytes(tmp: Path) -> bytes:
    src, dst = tmp / "tone.wav", tmp / "tone.mp3"
    src.write_bytes(wav_bytes(1.0))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), str(dst)], check=True)
    return dst.read_bytes()


def audio_bytes(tmp: Path, suffix: str, seconds: float = 0.5, cover: bool = False) -> bytes:
    """A short tone as ffmpeg writes it for ``suffix``: ``.mp4`` (AAC, as a phone's voice memo; with a
    ``cover`` picture, as a downloaded song), ``.webm`` (Opus, as a browser records) or ``.wav`` (RF64,
    as the recorder files a room of more than 8 seats)."""
    dst = tmp / f"tone{suffix}"
    codecs = {".mp4": ["-c:a", "aac"], ".webm": ["-c:a", "libopus"], ".wav": ["-rf64", "always"]}[suffix]
    picture = ["-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.04", "-map", "0", "-map", "1", "-frames:v", "1",
               "-c:v", "mjpeg", "-disposition:v:0", "attached_pic"] if cover else []
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}", *picture,
                    *codecs, str(dst)], check=True)
    return dst.read_bytes()


def video_bytes(tmp: Path, suffix: str = ".mp4", seconds: float = 3.0, faststart: bool = True) -> bytes:
    """A small camera-like clip with sound; MP4 with its index first (``faststart``), as phones share it,
    or (``faststart=False``) last, as a camera records it."""
    dst = tmp / f"clip{suffix}"
    codecs = ["-c:v", "libvpx", "-c:a", "libopus"] if suffix == ".webm" else [
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *(["-movflags", "+faststart"] if faststart else [])]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=duration={seconds}", *codecs, str(dst)], check=True)
    return dst.read_bytes()
