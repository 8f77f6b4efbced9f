"""Evidence files for the terminal tests, made on the fly (small, deterministic, real formats)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(CJK_FONT, size)
    except OSError:
        return ImageFont.load_default()


def drawing_png(label: str, size: tuple[int, int] = (2400, 1600)) -> bytes:
    """A large floor-plan-like drawing with fine print, worth zooming into."""
    w, h = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for x in range(0, w, 100):
        draw.line([(x, 0), (x, h)], fill=(210, 220, 235), width=1)
    for y in range(0, h, 100):
        draw.line([(0, y), (w, y)], fill=(210, 220, 235), width=1)
    draw.rectangle([200, 200, 1400, 1200], outline=(20, 40, 90), width=12)
    draw.rectangle([1400, 600, 2200, 1400], outline=(20, 40, 90), width=12)
    draw.text((240, 240), label, fill=(140, 28, 19), font=_font(64))
    draw.text((1440, 1340), "比例 1:100 · 尺寸单位：毫米", fill=(60, 60, 60), font=_font(20))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def contract_pdf(pages: int = 3) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=18)
    for i in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Loan agreement - page {i + 1} of {pages}")
        pdf.ln(12)
        pdf.set_font("helvetica", size=9)
        for n in range(40):
            pdf.cell(text=f"Clause {i * 40 + n + 1}: the borrower shall repay the principal of CNY 50,000 on time.")
            pdf.ln(5)
        pdf.set_font("helvetica", size=18)
    return bytes(pdf.output())


def scene_mp4(seconds: float = 2.0) -> bytes:
    """A short H.264 video (ffmpeg's test pattern) for the video-evidence player."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scene.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=10:duration={seconds}",
                        "-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart", str(out)], check=True)
        return out.read_bytes()


def statement_wav(seconds: float = 2.0) -> bytes:
    t = np.arange(int(16000 * seconds)) / 16000
    tone = 0.2 * np.sin(2 * np.pi * 330 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t))
    buf = io.BytesIO()
    sf.write(buf, tone.astype(np.float32), 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()
